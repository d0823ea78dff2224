# Shared helpers for the bench scripts: a release berth engine on a temporary socket and data root,
# a busybox image made from Debian's busybox-static, the docker daemon (when one answers on
# /var/run/docker.sock; start it with bench/docker_setup.sh), and cleanup that runs on any exit.
set -euo pipefail
ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# The stock docker CLI (v28, /usr/local/bin) must win over Debian's /usr/bin/docker.
export PATH=/usr/local/bin:$PATH
BERTH=${BERTH:-$ROOT_DIR/target/release/berth}
[ -x "$BERTH" ] || (cd "$ROOT_DIR" && cargo build --release --quiet)
DOCKER_SOCK=/var/run/docker.sock
DK="docker -H unix://$DOCKER_SOCK"
# Label on every docker container the benchmarks create, so cleanup removes exactly those.
DK_LABEL=berth.bench=1
# Anchor figures measured with docker on this kind of machine (/work/shared/bench/anchors-2026-11-22.md),
# used when no docker daemon answers.
ANCHOR_RUN_MS=320.2
ANCHOR_PS200_MS=46.2
ANCHOR_PSS200_MIB=726.7
ANCHOR_SRC=/work/shared/bench/anchors-2026-11-22.md

WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
SOCK=$WORK/berth.sock
DATA=$WORK/root
export BERTH_HOST=unix://$SOCK
# The bench engine's own bridge, subnets and nft table, so a user's real engine (berth0) is untouched.
export BERTH_BRIDGE_NAME=berthbench0 BERTH_BRIDGE_SUBNET=10.203.0.0/16 \
  BERTH_NETWORK_POOL=10.204.0.0/16 BERTH_NFT_TABLE=berth_bench
B="$BERTH --headless --no-autostart"
ENGINE_PID=""
DOCKER_USED=0

# One machine-readable row per figure, appended to $BENCH_OUT when set (used for RESULTS.md).
record() { [ -z "${BENCH_OUT:-}" ] || printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$BENCH_OUT"; }
ratio() { python3 -c "import sys; print(round(float(sys.argv[1])/float(sys.argv[2]),3))" "$1" "$2"; }
# verdict VALUE OP LIMIT -> "met" / "NOT met"
verdict() { python3 -c "import sys,operator as o; a,l=float(sys.argv[1]),float(sys.argv[3]); print('met' if {'<=':o.le,'<':o.lt}[sys.argv[2]](a,l) else 'NOT met')" "$1" "$2" "$3"; }

# Poll GET /_ping on the engine socket: 0 once it answers 200.
ping_engine() { curl -fsS --max-time 1 --unix-socket "$SOCK" http://berth/_ping >/dev/null 2>&1; }

start_engine() {
  "$BERTH" engine --socket "$SOCK" --data-root "$DATA" --log-level warn 2>>"$WORK/engine.log" &
  ENGINE_PID=$!
  for _ in $(seq 200); do ping_engine && return 0; sleep 0.05; done
  echo "berth engine did not answer /_ping; log:" >&2
  tail -20 "$WORK/engine.log" >&2
  return 1
}

# Alive and not a zombie (an engine started by engine_start.py is not our child, so we cannot reap it).
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# SIGTERM the engine and wait for it to exit. The engine leaves containers running on SIGTERM.
stop_engine() {
  [ -n "$ENGINE_PID" ] || return 0
  kill "$ENGINE_PID" 2>/dev/null || true
  for _ in $(seq 200); do alive "$ENGINE_PID" || break; sleep 0.05; done
  kill -9 "$ENGINE_PID" 2>/dev/null || true
  # A SIGKILLed engine still holds the data-root lock until the kernel has torn it down.
  for _ in $(seq 100); do alive "$ENGINE_PID" || break; sleep 0.05; done
  wait "$ENGINE_PID" 2>/dev/null || true
  ENGINE_PID=""
}

# Remove every berth container of this run (through the engine, which stops them properly).
berth_rm_all() {
  local ids
  ids=$($B ps -aq 2>/dev/null) || return 0
  [ -z "$ids" ] || $B rm -f $ids >/dev/null 2>&1 || true
}

docker_available() {
  command -v docker >/dev/null && [ -S "$DOCKER_SOCK" ] && $DK version >/dev/null 2>&1
}

docker_rm_ours() {
  local ids
  ids=$($DK ps -aq --filter "label=$DK_LABEL" 2>/dev/null) || return 0
  [ -z "$ids" ] || $DK rm -f $ids >/dev/null 2>&1 || true
}

cleanup() {
  local rc=$?
  set +e
  # Helper processes a script started (e.g. a host-side httpd).
  [ -z "${EXTRA_PIDS:-}" ] || kill $EXTRA_PIDS 2>/dev/null
  if [ "$DOCKER_USED" = 1 ]; then docker_rm_ours; fi
  if [ -n "$ENGINE_PID" ] && alive "$ENGINE_PID"; then berth_rm_all; fi
  stop_engine
  # The bench engine's bridges, namespaces and nft table.
  [ -d "$DATA" ] && "$BERTH" engine --cleanup-networking --data-root "$DATA" >/dev/null 2>&1
  # Anything the engine could not remove: kill the shims of THIS data root (argv[2] is the
  # container dir) and the processes of our containers' cgroups, then drop those cgroups.
  local p id h
  for p in $(pgrep -f -- "__berth-shim $DATA/" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  for id in $(ls "$DATA/containers" 2>/dev/null); do
    for h in /sys/fs/cgroup/*/berth/"$id" /sys/fs/cgroup/unified/berth/"$id"; do
      [ -d "$h" ] || continue
      for p in $(cat "$h/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    done
    sleep 0.1
    for h in /sys/fs/cgroup/*/berth/"$id" /sys/fs/cgroup/unified/berth/"$id"; do
      [ -d "$h" ] && rmdir "$h" 2>/dev/null
    done
  done
  # Unmount whatever is left under the work dir (deepest first), then delete it without ever
  # crossing into another file system.
  findmnt -rn -o TARGET | grep -F "$WORK/" | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf --one-file-system "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make_busybox_tar() {
  local dir=$WORK/rootfs
  mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp"
  cp /bin/busybox "$dir/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
  echo 'root:x:0:' >"$dir/etc/group"
  tar -C "$dir" -cf "$WORK/busybox.tar" .
}

import_busybox() {
  [ -f "$WORK/busybox.tar" ] || make_busybox_tar
  $B import "$WORK/busybox.tar" busybox:local >/dev/null
}

# Same image in docker (idempotent).
docker_busybox() {
  $DK image inspect busybox:local >/dev/null 2>&1 && return 0
  [ -f "$WORK/busybox.tar" ] || make_busybox_tar
  $DK import "$WORK/busybox.tar" busybox:local >/dev/null
}

# berth_start_n N : N detached `sleep 3600` containers in berth
berth_start_n() { for _ in $(seq "$1"); do $B run -d busybox:local sleep 3600 >/dev/null; done; }
# docker_start_n N : N detached labelled `sleep 3600` containers in docker
docker_start_n() {
  DOCKER_USED=1
  for _ in $(seq "$1"); do $DK run -d --label "$DK_LABEL" busybox:local sleep 3600 >/dev/null; done
}

# hf NAME COMMAND : hyperfine -N, JSON in $WORK/NAME.json; prints the median in ms
hf() {
  local name=$1; shift
  # hyperfine's outlier warnings go to a file; shown only when the run fails
  if ! hyperfine -N --warmup "${WARMUP:-3}" --runs "${RUNS:-30}" --export-json "$WORK/$name.json" "$@" \
    >/dev/null 2>"$WORK/$name.err"; then
    cat "$WORK/$name.err" >&2
    return 1
  fi
  median_ms "$WORK/$name.json"
}
# median of hyperfine's JSON export in ms
median_ms() { python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["results"][0]["median"]*1000,1))' "$1"; }

# PSS / RSS in KiB of one process
pss_kib() { awk '/^Pss:/ {s+=$2} END {print s+0}' "/proc/$1/smaps_rollup" 2>/dev/null || echo 0; }
rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 0; }
kib_to_mib() { python3 -c "import sys; print(round(int(sys.argv[1])/1024,1))" "$1"; }

# SIDE=berth|docker|both (default both): measure only one side, e.g. docker while berth cannot run.
SIDE=${SIDE:-both}
berth_side() { [ "$SIDE" != docker ]; }
docker_side() { [ "$SIDE" != berth ]; }
# Why the docker figure is the anchor one (for the scripts' messages).
no_docker_reason() { if docker_side; then echo "no docker daemon answers on $DOCKER_SOCK"; else echo "docker side skipped (SIDE=$SIDE)"; fi; }

# ---- images and registries (pull.sh, load.sh, push.sh) ----

# Throughput: mibs MIB MEDIAN_MS -> MiB/s.
mibs() { python3 -c "import sys; print(round(float(sys.argv[1])/(float(sys.argv[2])/1000),1))" "$1" "$2"; }

# A docker-registry on a free loopback port with its storage under $WORK (killed by cleanup
# through EXTRA_PIDS). Sets REG_ADDR and REG_DATA.
REG_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG_ADDR=127.0.0.1:$REG_PORT
REG_DATA=$WORK/registry-data
REG_PID=""
start_registry() {
  mkdir -p "$REG_DATA"
  cat >"$WORK/registry.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $REG_DATA
  delete:
    enabled: true
http:
  addr: $REG_ADDR
EOF
  docker-registry serve "$WORK/registry.yml" >"$WORK/registry.log" 2>&1 &
  REG_PID=$!
  EXTRA_PIDS="${EXTRA_PIDS:-} $REG_PID"
  for _ in $(seq 100); do
    curl -fsS "http://$REG_ADDR/v2/" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "registry did not come up:" >&2; cat "$WORK/registry.log" >&2; return 1
}

# $WORK/big.tar, a BIG_MB MiB rootfs tar like anchors.sh's big image:
# Deterministic rootfs: busybox + 3/4 incompressible 128 KiB files + 1/4 text (1 MiB files).
make_big_tar() {
  local dir=$WORK/bigroot
  [ -f "$WORK/busybox.tar" ] || make_busybox_tar
  mkdir -p "$dir"
  tar -C "$dir" -xf "$WORK/busybox.tar"
  python3 - "$dir" "$BIG_MB" <<'EOF'
import os, random, sys
d, mb = sys.argv[1], int(sys.argv[2])
r = random.Random(42)
rand_mb = mb * 3 // 4
os.makedirs(f"{d}/data/rand", exist_ok=True)
os.makedirs(f"{d}/data/text", exist_ok=True)
for i in range(rand_mb * 8):
    with open(f"{d}/data/rand/r{i:05d}.bin", "wb") as f:
        f.write(r.randbytes(128 * 1024))
words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split()
n = 0
for i in range(mb - rand_mb):
    buf = []
    size = 0
    while size < 1 << 20:
        line = f"{n:09d} {' '.join(r.choice(words) for _ in range(6))} {r.randrange(10**6)}\n"
        buf.append(line); size += len(line); n += 1
    with open(f"{d}/data/text/t{i:04d}.txt", "w") as f:
        f.write("".join(buf))
EOF
  tar -C "$dir" -cf "$WORK/big.tar" .
  rm -rf "$dir"
}

