#!/usr/bin/env bash
# Published-port throughput: a large HTTP download from busybox httpd in a container through
# `-p HOSTPORT:80` (kernel DNAT), against the same download from the same httpd binary serving on the
# host's loopback (medians of interleaved downloads). Target: within 10% of the host loopback.
# Docker's side when a daemon answers.
source "$(dirname "$0")/lib.sh"
SIZE_MIB=${SIZE_MIB:-4096}
TRIES=${TRIES:-7}

# one download's speed in MiB/s
speed_once() { curl -s -o /dev/null -w '%{speed_download}' "$1" | python3 -c 'import sys; print(round(float(sys.stdin.read())/1048576,1))'; }
median() { python3 -c 'import sys,statistics; print(round(statistics.median(float(x) for x in sys.argv[1:]),1))' "$@"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 50); do curl -fs -o /dev/null -r 0-0 "$1" && return 0; sleep 0.1; done; return 1; }

mkdir -p "$WORK/www"
# Sparse file: the page cache serves zeros, so disk speed stays out of the figure.
truncate -s "${SIZE_MIB}M" "$WORK/www/big"

# Host loopback baseline: the same busybox httpd on the host, measured interleaved with the
# published port so that both see the same machine (single downloads vary by +-20% here).
HP=$(free_port)
busybox httpd -f -p "127.0.0.1:$HP" -h "$WORK/www" &
EXTRA_PIDS=$!
wait_http "http://127.0.0.1:$HP/big"

if berth_side; then
  start_engine
  import_busybox
  BP=$(free_port)
  $B run -d --name bench-httpd -p "$BP:80" -v "$WORK/www:/www:ro" busybox:local httpd -f -p 80 -h /www >/dev/null
  wait_http "http://127.0.0.1:$BP/big"
  hs=(); bs=()
  for _ in $(seq "$TRIES"); do
    hs+=("$(speed_once "http://127.0.0.1:$HP/big")")
    bs+=("$(speed_once "http://127.0.0.1:$BP/big")")
  done
  host=$(median "${hs[@]}")
  b=$(median "${bs[@]}")
  r=$(ratio "$b" "$host")
  echo "host loopback (busybox httpd on the host): median $host MiB/s over $TRIES downloads of ${SIZE_MIB} MiB"
  echo "berth -p $BP:80 (127.0.0.1): median $b MiB/s; ratio to host loopback $r (target >= 0.9: $(python3 -c "import sys; print('met' if float(sys.argv[1])>=0.9 else 'NOT met')" "$r"))"
  record port_host_loopback "host loopback download, ${SIZE_MIB} MiB" "$host" MiB/s
  record port_berth "berth published port download, ${SIZE_MIB} MiB" "$b" MiB/s
  record port_berth_ratio "berth published port / host loopback" "$r" ratio
else
  host=$(median "$(speed_once "http://127.0.0.1:$HP/big")" "$(speed_once "http://127.0.0.1:$HP/big")" "$(speed_once "http://127.0.0.1:$HP/big")")
fi

if docker_side && docker_available; then
  docker_busybox
  DOCKER_USED=1
  DP=$(free_port)
  $DK run -d --label "$DK_LABEL" -p "$DP:80" -v "$WORK/www:/www:ro" busybox:local httpd -f -p 80 -h /www >/dev/null
  wait_http "http://127.0.0.1:$DP/big"
  ks=(); for _ in $(seq "$TRIES"); do ks+=("$(speed_once "http://127.0.0.1:$DP/big")"); done
  k=$(median "${ks[@]}")
  echo "docker -p $DP:80 (127.0.0.1, docker-proxy): median $k MiB/s; ratio to host loopback $(ratio "$k" "$host")"
  record port_docker "docker published port download, ${SIZE_MIB} MiB" "$k" MiB/s
else
  echo "docker: $(no_docker_reason)"
fi
