#!/usr/bin/env bash
# Engine RSS when idle, and engine + shims PSS with N running `sleep` containers (default 200).
source "$(dirname "$0")/lib.sh"
trap stop_engine EXIT
start_engine
import_busybox
sleep 1
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
pss_kib() { awk '/^Pss:/ {s+=$2} END {print s}' "/proc/$1/smaps_rollup"; }
echo "engine idle RSS: $(( $(rss_kib "$ENGINE_PID") / 1024 )) MiB (target <= 15 MiB)"
N=${N:-200}
for i in $(seq "$N"); do "$BERTH" --headless --no-autostart run -d busybox:local sleep 3600 >/dev/null; done
sleep 1
total=$(pss_kib "$ENGINE_PID")
shims=0
for p in $(pgrep -f -- '__berth-shim'); do shims=$((shims + $(pss_kib "$p"))); done
total=$((total + shims))
echo "engine + $(pgrep -fc -- '__berth-shim') shims PSS with $N running: $((total / 1024)) MiB (docker anchor 726.7 MiB at 200; ratio $(python3 -c "print(round($total/1024/726.7,3))"))"
