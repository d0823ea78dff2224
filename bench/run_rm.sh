#!/usr/bin/env bash
# `run --rm busybox:local true` latency: berth's headless CLI, the docker CLI against the berth
# engine, and docker itself (when a daemon answers on /var/run/docker.sock, else the anchor figure).
# Targets: with the default bridge network berth <= 40 ms median and <= 1/8 of docker's;
# with --network none <= 30 ms.
source "$(dirname "$0")/lib.sh"

if berth_side; then
  start_engine
  import_busybox
  b=$(hf berth_run "$B run --rm busybox:local true")
  echo "berth --headless run --rm busybox:local true (bridge): median $b ms (target <= 40 ms: $(verdict "$b" '<=' 40))"
  record run_rm_berth "berth --headless run --rm busybox:local true (bridge)" "$b" ms
  n=$(hf berth_run_none "$B run --rm --network none busybox:local true")
  echo "berth --headless run --rm --network none busybox:local true: median $n ms (target <= 30 ms: $(verdict "$n" '<=' 30))"
  record run_rm_berth_none "berth --headless run --rm --network none busybox:local true" "$n" ms
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
  echo "ratio berth/docker = $r ($src; target <= 0.125: $(verdict "$r" '<=' 0.125))"
  record run_rm_ratio "berth / docker, run --rm" "$r" ratio
  echo "ratio docker-CLI-on-berth/docker = $(ratio "$d" "$k")"
fi
