#!/usr/bin/env bash
# `run --rm busybox:local true` latency: berth's headless CLI, the docker CLI against the berth
# engine, and docker itself (when a daemon answers on /var/run/docker.sock, else the anchor figure).
# Targets: berth <= 30 ms median and <= 1/10 of docker's.
source "$(dirname "$0")/lib.sh"

if berth_side; then
  start_engine
  import_busybox
  b=$(hf berth_run "$B run --rm busybox:local true")
  echo "berth --headless run --rm busybox:local true: median $b ms (target <= 30 ms: $(verdict "$b" '<=' 30))"
  record run_rm_berth "berth --headless run --rm busybox:local true" "$b" ms
  d=$(hf dcli_run "docker -H $BERTH_HOST run --rm busybox:local true")
  echo "docker CLI -> berth engine run --rm busybox:local true: median $d ms"
  record run_rm_dcli_berth "docker CLI -> berth engine: run --rm busybox:local true" "$d" ms
fi

if docker_side && docker_available; then
  DOCKER_USED=1
  docker_busybox
  k=$(hf docker_run "$DK run --rm --label $DK_LABEL busybox:local true")
  src="docker $($DK version --format '{{.Server.Version}}') measured now"
  echo "docker run --rm busybox:local true: median $k ms"
  record run_rm_docker "docker run --rm busybox:local true" "$k" ms
else
  k=$ANCHOR_RUN_MS
  src="anchor figure from $ANCHOR_SRC"
  echo "docker: $(no_docker_reason); using the anchor figure $k ms from $ANCHOR_SRC"
fi

if berth_side; then
  r=$(ratio "$b" "$k")
  echo "ratio berth/docker = $r ($src; target <= 0.1: $(verdict "$r" '<=' 0.1))"
  record run_rm_ratio "berth / docker, run --rm" "$r" ratio
  echo "ratio docker-CLI-on-berth/docker = $(ratio "$d" "$k")"
fi
