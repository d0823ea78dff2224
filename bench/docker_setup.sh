#!/usr/bin/env bash
# Make a docker daemon answer on /var/run/docker.sock for the side-by-side benchmarks.
# Idempotent: installs Debian's docker.io (dockerd + containerd + runc) only if dockerd is missing,
# starts dockerd only if the socket does not answer, imports busybox:local only if it is absent.
# dockerd is started by hand in the background (these VMs have no init system); it is never enabled
# at boot. Stop it with `bench/docker_setup.sh --stop` (kills the dockerd whose pid we recorded).
set -euo pipefail

DOCKER_SOCK=/var/run/docker.sock
DOCKER_DATA=${DOCKER_DATA:-/var/lib/docker}
PIDFILE=/var/run/bench-dockerd.pid
LOG=/var/log/bench-dockerd.log
# The stock docker CLI (v28, /usr/local/bin) must win over Debian's /usr/bin/docker.
export PATH=/usr/local/bin:$PATH
D="docker -H unix://$DOCKER_SOCK"

answers() { [ -S "$DOCKER_SOCK" ] && $D version >/dev/null 2>&1; }

if [ "${1:-}" = --stop ]; then
  if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
    pid=$(cat "$PIDFILE")
    # dockerd stops its own containers and the containerd it started on SIGTERM
    kill "$pid"
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    echo "dockerd ($pid) stopped"
  else
    echo "no dockerd started by this script is running"
  fi
  rm -f "$PIDFILE"
  exit 0
fi

if ! command -v dockerd >/dev/null; then
  echo "installing docker.io (dockerd, containerd, runc) from Debian"
  # policy-rc.d (exit 101) keeps the package scripts from starting services during the install
  apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends docker.io >/dev/null
fi

# Never start at boot: the benchmarks start dockerd on demand. `systemctl disable` edits the unit
# links without a running systemd (and the SysV links through systemd-sysv-install); fall back to
# update-rc.d and removing the links by hand where systemctl is absent.
if command -v systemctl >/dev/null; then
  systemctl disable docker.service docker.socket containerd.service >/dev/null 2>&1 || true
else
  rm -f /etc/systemd/system/*.wants/docker.service /etc/systemd/system/*.wants/docker.socket \
    /etc/systemd/system/*.wants/containerd.service
  if [ -e /etc/init.d/docker ] && command -v update-rc.d >/dev/null; then
    update-rc.d docker disable >/dev/null 2>&1 || true
  fi
fi

if answers; then
  echo "dockerd already answers on $DOCKER_SOCK"
else
  # Plain defaults as on the anchor machine (Debian 12's docker.io 20.10 on hybrid cgroup v1):
  # overlay2 on ext4, cgroupfs driver, default bridge network with iptables (nft backend). dockerd
  # starts and supervises its own containerd, so dockerd+containerd+shims are all measured.
  rm -f "$DOCKER_SOCK"
  setsid dockerd --host "unix://$DOCKER_SOCK" --data-root "$DOCKER_DATA" --storage-driver overlay2 \
    --exec-opt native.cgroupdriver=cgroupfs >>"$LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  for _ in $(seq 150); do answers && break; sleep 0.2; done
  if ! answers; then
    echo "dockerd did not come up; last log lines:" >&2
    tail -20 "$LOG" >&2
    exit 1
  fi
  echo "dockerd started (pid $(cat "$PIDFILE"), log $LOG)"
fi

if ! $D image inspect busybox:local >/dev/null 2>&1; then
  # Same rootfs as berth's busybox:local (bench/lib.sh make_busybox_tar), without starting berth.
  tmp=$(mktemp -d /tmp/bench-docker-setup.XXXXXX)
  trap 'rm -rf "$tmp"' EXIT
  dir=$tmp/rootfs
  mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp"
  cp /bin/busybox "$dir/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
  echo 'root:x:0:' >"$dir/etc/group"
  tar -C "$dir" -cf "$tmp/busybox.tar" .
  $D import "$tmp/busybox.tar" busybox:local >/dev/null
  echo "imported busybox:local into docker"
fi
$D version --format 'docker client {{.Client.Version}} / server {{.Server.Version}} (API {{.Server.APIVersion}})'
$D info --format 'storage {{.Driver}}, cgroup driver {{.CgroupDriver}} v{{.CgroupVersion}}, runtime {{.DefaultRuntime}}'
