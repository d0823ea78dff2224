#!/usr/bin/env bash
# `ps` with N running containers (default 200).
source "$(dirname "$0")/lib.sh"
trap stop_engine EXIT
start_engine
import_busybox
N=${N:-200}
for i in $(seq "$N"); do "$BERTH" --headless --no-autostart run -d busybox:local sleep 3600 >/dev/null; done
hyperfine -N --warmup 3 --runs 30 --export-json "$WORK/ps.json" "$BERTH --headless --no-autostart ps" >/dev/null
b=$(median_ms "$WORK/ps.json")
echo "berth ps with $N running: median ${b} ms (docker anchor: 46.2 ms at 200; ratio $(python3 -c "print(round($b/46.2,3))"))"
hyperfine -N --warmup 3 --runs 30 --export-json "$WORK/dps.json" "docker -H $BERTH_HOST ps" >/dev/null
echo "docker CLI -> berth ps with $N running: median $(median_ms "$WORK/dps.json") ms"
