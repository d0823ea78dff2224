#!/usr/bin/env bash
# `exec CONTAINER true` round trip: berth's headless CLI, the docker CLI against the berth engine,
# and docker itself when a daemon answers. Target: berth <= 15 ms median.
source "$(dirname "$0")/lib.sh"

if berth_side; then
  start_engine
  import_busybox
  $B run -d --name bench-exec busybox:local sleep 3600 >/dev/null
  b=$(hf berth_exec "$B exec bench-exec true")
  echo "berth --headless exec bench-exec true: median $b ms (target <= 15 ms: $(verdict "$b" '<=' 15))"
  record exec_berth "berth --headless exec CONTAINER true" "$b" ms
  d=$(hf dcli_exec "docker -H $BERTH_HOST exec bench-exec true")
  echo "docker CLI -> berth engine exec bench-exec true: median $d ms"
  record exec_dcli_berth "docker CLI -> berth engine: exec CONTAINER true" "$d" ms
fi

if docker_side && docker_available; then
  docker_busybox
  DOCKER_USED=1
  $DK run -d --label "$DK_LABEL" --name bench-exec-docker busybox:local sleep 3600 >/dev/null
  k=$(hf docker_exec "$DK exec bench-exec-docker true")
  echo "docker exec CONTAINER true: median $k ms"
  record exec_docker "docker exec CONTAINER true" "$k" ms
  berth_side && echo "ratio berth/docker = $(ratio "$b" "$k")"
else
  echo "docker: $(no_docker_reason); no anchor figure for exec"
fi
