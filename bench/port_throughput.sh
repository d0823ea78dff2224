#!/usr/bin/env bash
# Published-port throughput: a large HTTP download from busybox httpd in a container through
# `-p HOSTPORT:80` (kernel DNAT), against the same download from the same httpd binary serving on the
# host's loopback. Target: within 10% of the host loopback figure. Docker's side when a daemon answers.
source "$(dirname "$0")/lib.sh"
SIZE_MIB=${SIZE_MIB:-1024}
TRIES=${TRIES:-5}

# best-of-N download speed in MiB/s from URL
speed() {
  local url=$1 best=0 s
  for _ in $(seq "$TRIES"); do
    s=$(curl -s -o /dev/null -w '%{speed_download}' "$url")
    best=$(python3 -c "import sys; print(max(float(sys.argv[1]), float(sys.argv[2])/1048576))" "$best" "$s")
  done
  python3 -c "import sys; print(round(float(sys.argv[1]),1))" "$best"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

mkdir -p "$WORK/www"
# Sparse file: the page cache serves zeros, so disk speed stays out of the figure.
truncate -s "${SIZE_MIB}M" "$WORK/www/big"

# Host loopback baseline: the same busybox httpd on the host.
HP=$(free_port)
busybox httpd -f -p "127.0.0.1:$HP" -h "$WORK/www" &
HTTPD=$!
sleep 0.3
host=$(speed "http://127.0.0.1:$HP/big")
kill $HTTPD
echo "host loopback (busybox httpd on the host): $host MiB/s"
record port_host_loopback "host loopback download, ${SIZE_MIB} MiB" "$host" MiB/s

if berth_side; then
  start_engine
  import_busybox
  BP=$(free_port)
  $B run -d --name bench-httpd -p "$BP:80" -v "$WORK/www:/www:ro" busybox:local httpd -f -p 80 -h /www >/dev/null
  for _ in $(seq 50); do curl -fs -o /dev/null -r 0-0 "http://127.0.0.1:$BP/big" && break; sleep 0.1; done
  b=$(speed "http://127.0.0.1:$BP/big")
  r=$(ratio "$b" "$host")
  echo "berth -p $BP:80 (127.0.0.1): $b MiB/s; ratio to host loopback $r (target >= 0.9: $(python3 -c "import sys; print('met' if float(sys.argv[1])>=0.9 else 'NOT met')" "$r"))"
  record port_berth "berth published port download, ${SIZE_MIB} MiB" "$b" MiB/s
  record port_berth_ratio "berth published port / host loopback" "$r" ratio
fi

if docker_side && docker_available; then
  docker_busybox
  DOCKER_USED=1
  DP=$(free_port)
  $DK run -d --label "$DK_LABEL" -p "$DP:80" -v "$WORK/www:/www:ro" busybox:local httpd -f -p 80 -h /www >/dev/null
  for _ in $(seq 50); do curl -fs -o /dev/null -r 0-0 "http://127.0.0.1:$DP/big" && break; sleep 0.1; done
  k=$(speed "http://127.0.0.1:$DP/big")
  echo "docker -p $DP:80 (127.0.0.1, docker-proxy): $k MiB/s; ratio to host loopback $(ratio "$k" "$host")"
  record port_docker "docker published port download, ${SIZE_MIB} MiB" "$k" MiB/s
else
  echo "docker: $(no_docker_reason)"
fi
