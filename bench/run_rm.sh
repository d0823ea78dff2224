#!/usr/bin/env bash
# `run --rm IMG true`: berth's headless CLI, the docker CLI against berth, and docker itself.
source "$(dirname "$0")/lib.sh"
trap stop_engine EXIT
start_engine
import_busybox
RUNS=${RUNS:-30}
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/berth.json" \
  "$BERTH --headless --no-autostart run --rm busybox:local true" >/dev/null
b=$(median_ms "$WORK/berth.json")
echo "berth --headless run --rm busybox true: median ${b} ms"
hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/dcli.json" \
  "docker -H $BERTH_HOST run --rm busybox:local true" >/dev/null
d=$(median_ms "$WORK/dcli.json")
echo "docker CLI -> berth engine run --rm: median ${d} ms"
if docker_available; then
  docker -H unix:///var/run/docker.sock import "$WORK/busybox.tar" busybox:local >/dev/null
  hyperfine -N --warmup 3 --runs "$RUNS" --export-json "$WORK/docker.json" \
    "docker -H unix:///var/run/docker.sock run --rm busybox:local true" >/dev/null
  k=$(median_ms "$WORK/docker.json")
  echo "docker run --rm: median ${k} ms; ratio berth/docker = $(python3 -c "print(round($b/$k,3))")"
else
  echo "docker daemon not running: anchor from ../shared/bench is 320 ms; ratio berth/anchor = $(python3 -c "print(round($b/320,3))")"
fi
