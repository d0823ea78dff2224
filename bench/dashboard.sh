#!/usr/bin/env bash
# The dashboard with N (50) running containers and live stats, on a 200x50 pseudo-terminal:
#  - idle CPU (% of one core, over IDLE seconds) and RSS;
#  - key press → frame latency (j/k, KEYS presses; median, p95, max);
#  - the logs view on a container that logs without pause: RSS sampled every 5 s for LOGS seconds
#    (the log ring buffer must keep it flat).
# Targets: idle <= 1% of a core and <= 30 MiB RSS; a key reflected within 16 ms; logs memory bounded.
# Side by side: oxker (a Rust Docker TUI, `cargo install oxker`) against the same berth engine when
# OXKER points at its binary or it is on PATH; lazydocker is not packaged for Debian or crates.io.
source "$(dirname "$0")/lib.sh"
N=${N:-50}
IDLE=${IDLE:-30}
KEYS=${KEYS:-100}
LOGS=${LOGS:-60}
PROBE="python3 $ROOT_DIR/bench/dashboard_probe.py"
OXKER=${OXKER:-$(command -v oxker || true)}

start_engine
import_busybox
for i in $(seq "$N"); do $B run -d --name "c$i" busybox:local sleep 3600 >/dev/null; done
echo "dashboard: $N running containers"

report() { # NAME VALUE UNIT -> echo + record
  echo "$1: $2 $3"
  record "dashboard_$1" "$1" "$2" "$3"
}

# berth: idle and keys (no log churn in the background).
export BERTH_CONFIG=$WORK/config.toml
while IFS=$'\t' read -r k v u; do report "$k" "$v" "$u"; done < <(
  $PROBE --name berth --idle "$IDLE" --keys "$KEYS" -- "$BERTH" --host "$BERTH_HOST" --no-autostart)

# berth: the logs view of a container printing lines as fast as it can.
$B run -d --name chatty busybox:local sh -c \
  'i=0; while true; do echo "line $i: the quick brown fox jumps over the lazy dog, again and again"; i=$((i+1)); done' >/dev/null
while IFS=$'\t' read -r k v u; do report "$k" "$v" "$u"; done < <(
  $PROBE --name berth --idle 0 --keys 0 --logs "$LOGS" -- "$BERTH" --host "$BERTH_HOST" --no-autostart)
lines=$($B logs chatty 2>/dev/null | wc -l)
echo "chatty logged $lines lines in total meanwhile"
$B rm -f chatty >/dev/null


if [ -n "$OXKER" ] && [ -x "$OXKER" ]; then
  # oxker talks to any Docker API socket; it polls stats itself.
  while IFS=$'\t' read -r k v u; do report "$k" "$v" "$u"; done < <(
    DOCKER_HOST=$BERTH_HOST $PROBE --name oxker --idle "$IDLE" --keys "$KEYS" --quit q -- "$OXKER" --host "$SOCK")
else
  echo "oxker: not installed (cargo install oxker, or OXKER=/path/to/oxker); berth's figures alone"
fi
