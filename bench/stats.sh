#!/usr/bin/env bash
# `stats --no-stream` over 50 running containers: berth's headless CLI, the docker CLI against the
# berth engine, and docker itself (when a daemon answers, else the anchor figure).
# Target: <= 100 ms (docker: 2.2 s here; most of that is docker's 1-second sampling wait).
source "$(dirname "$0")/lib.sh"
N=${N:-50}
ANCHOR_STATS50_MS=2237.7

if berth_side; then
  start_engine
  import_busybox
  berth_start_n "$N"
  b=$(RUNS=${RUNS:-20} hf berth_stats "$B stats --no-stream")
  echo "berth --headless stats --no-stream @$N: median $b ms (target <= 100 ms: $(verdict "$b" '<=' 100))"
  record stats_berth "berth --headless stats --no-stream @$N" "$b" ms
  d=$(RUNS=${RUNS:-20} hf dcli_stats "docker -H $BERTH_HOST stats --no-stream")
  echo "docker CLI -> berth engine stats --no-stream @$N: median $d ms"
  record stats_dcli_berth "docker CLI -> berth engine: stats --no-stream @$N" "$d" ms
  berth_rm_all
fi

if docker_side && docker_available; then
  docker_busybox
  docker_start_n "$N"
  k=$(WARMUP=1 RUNS=5 hf docker_stats "$DK stats --no-stream")
  src="docker $($DK version --format '{{.Server.Version}}') measured now"
  echo "docker stats --no-stream @$N: median $k ms"
  record stats_docker "docker stats --no-stream @$N" "$k" ms
  docker_rm_ours
else
  k=$ANCHOR_STATS50_MS
  src="anchor figure from $ANCHOR_SRC"
  echo "docker: $(no_docker_reason); using the anchor figure $k ms from $ANCHOR_SRC"
fi

if berth_side; then
  echo "ratio berth/docker = $(ratio "$b" "$k") ($src)"
  record stats_ratio "berth / docker, stats --no-stream @$N" "$(ratio "$b" "$k")" ratio
fi
