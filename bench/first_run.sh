#!/usr/bin/env bash
# A first command on a machine where no engine runs yet (issue 11): `run --rm --network none
# busybox true` timed from the moment the client is started with no engine answering to the
# container's exit, engine start included. berth: the client autostarts the bundled engine in
# the background (stopped again with `berth engine stop` before each run). docker: a dockerd of
# this script's own (own data root, exec root and socket; no bridge, so both sides run
# `--network none`) started by hand, polled until it answers, then `docker run` — what a
# socket-activated docker.service does on a first connection. Also the warm figure of each, so
# the engine start's share shows.
source "$(dirname "$0")/lib.sh"
RUNS=${RUNS:-20}
export BERTH_HOST=unix://$SOCK BERTH_DATA_ROOT=$DATA
RUN="run --rm --network none busybox:local true"

if berth_side; then
  start_engine
  import_busybox
  warm=$(hf first_run_berth_warm "$B $RUN")
  stop_engine
  # --prepare stops the engine the previous run autostarted (it runs detached, in its own session).
  cold=$(WARMUP=1 hf first_run_berth_cold --prepare "bash -c '$BERTH engine stop || true'" "$BERTH $RUN")
  $BERTH engine stop >/dev/null 2>&1
  echo "berth: first command with the engine autostarted: median $cold ms (warm engine: $warm ms)"
  record first_run_berth_cold "berth: run --rm --network none true, engine autostarted" "$cold" ms
  record first_run_berth_warm "berth: run --rm --network none true, engine running" "$warm" ms
fi

if docker_side && command -v dockerd >/dev/null; then
  DD=$WORK/dockerd
  mkdir -p "$DD"
  DSOCK=$DD/docker.sock
  D="docker -H unix://$DSOCK"
  start_dockerd() {
    dockerd --data-root "$DD/root" --exec-root "$DD/exec" --pidfile "$DD/pid" \
      --host "unix://$DSOCK" --bridge=none --iptables=false --ip6tables=false \
      >>"$DD/log" 2>&1 &
    DOCKERD_PID=$!
    EXTRA_PIDS="${EXTRA_PIDS:-} $DOCKERD_PID"
    until curl -fsS --max-time 1 --unix-socket "$DSOCK" http://d/_ping >/dev/null 2>&1; do
      alive "$DOCKERD_PID" || { tail -5 "$DD/log" >&2; return 1; }
      sleep 0.01
    done
  }
  stop_dockerd() {
    kill "$DOCKERD_PID" 2>/dev/null
    for _ in $(seq 400); do alive "$DOCKERD_PID" || break; sleep 0.05; done
    wait "$DOCKERD_PID" 2>/dev/null
  }
  start_dockerd
  [ -f "$WORK/busybox.tar" ] || make_busybox_tar
  $D import "$WORK/busybox.tar" busybox:local >/dev/null
  dwarm=$(hf first_run_docker_warm "$D $RUN")
  stop_dockerd
  times=()
  for _ in $(seq "${DOCKER_RUNS:-7}"); do
    t0=$(date +%s%N)
    start_dockerd
    $D $RUN
    t1=$(date +%s%N)
    times+=($(((t1 - t0) / 100000)))
    stop_dockerd
  done
  dcold=$(python3 -c 'import statistics,sys; print(round(statistics.median(map(int,sys.argv[1:]))/10,1))' "${times[@]}")
  echo "docker: first command with dockerd started on demand: median $dcold ms (warm daemon: $dwarm ms)"
  record first_run_docker_cold "docker: run --rm --network none true, dockerd started on demand" "$dcold" ms
  record first_run_docker_warm "docker: run --rm --network none true, dockerd running" "$dwarm" ms
  if berth_side; then
    echo "ratio berth/docker, first command on a cold engine = $(ratio "$cold" "$dcold")"
    record first_run_ratio "berth / docker, first command on a cold engine" "$(ratio "$cold" "$dcold")" ratio
  fi
else
  echo "docker: $(no_docker_reason)"
fi
