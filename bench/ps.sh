#!/usr/bin/env bash
# `ps` with N running containers (default 200): berth's headless CLI (target <= 5 ms), the docker CLI
# against the berth engine, and docker's ps with N of its own (when a daemon answers, else the
# anchor figure for 200).
source "$(dirname "$0")/lib.sh"
N=${N:-200}

if berth_side; then
  start_engine
  import_busybox
  # The floor: client start-up + one round trip with nothing to list.
  b0=$(hf berth_ps0 "$B ps")
  echo "berth --headless ps, 0 containers: median $b0 ms"
  record ps_berth_0 "berth --headless ps, 0 containers" "$b0" ms
  berth_start_n "$N"
  running=$($B ps -q | wc -l)
  [ "$running" -ge "$N" ] || { echo "only $running berth containers running, wanted $N" >&2; exit 1; }
  b=$(hf berth_ps "$B ps")
  echo "berth --headless ps, $N running: median $b ms (target <= 5 ms: $(verdict "$b" '<=' 5))"
  record ps_berth "berth --headless ps, $N running" "$b" ms
  d=$(hf dcli_ps "docker -H $BERTH_HOST ps")
  echo "docker CLI -> berth engine ps, $N running: median $d ms"
  record ps_dcli_berth "docker CLI -> berth engine: ps, $N running" "$d" ms
fi

if docker_side && docker_available; then
  docker_busybox
  docker_start_n "$N"
  k=$(hf docker_ps "$DK ps")
  src="docker measured now"
  echo "docker ps, $($DK ps -q | wc -l) running: median $k ms"
  record ps_docker "docker ps, $N running" "$k" ms
else
  k=$ANCHOR_PS200_MS
  src="anchor figure for 200 running from $ANCHOR_SRC"
  echo "docker: $(no_docker_reason); using the anchor figure $k ms (ps, 200 running) from $ANCHOR_SRC"
fi

if berth_side; then
  r=$(ratio "$b" "$k")
  echo "ratio berth/docker ps = $r ($src)"
  record ps_ratio "berth / docker, ps with $N running" "$r" ratio
fi
