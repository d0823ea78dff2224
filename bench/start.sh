#!/usr/bin/env bash
# Engine start cost: time from fork to the first /_ping answer (and to the first full container
# list), with 0 containers and with N running containers (default 200) left by a previous engine.
# It must not grow with the number of containers. RUNS_START restarts per level (default 10).
source "$(dirname "$0")/lib.sh"
N=${N:-200}
K=${RUNS_START:-10}

# level LABEL WANT : K stop/start cycles, the engine stays up after the last one
level() {
  local label=$1 want=$2 pings=() lists=() ping list n
  for _ in $(seq "$K"); do
    stop_engine
    out=$(python3 "$ROOT_DIR/bench/engine_start.py" "$BERTH" "$SOCK" "$DATA" "$WORK/engine.log") ||
      { echo "engine log:" >&2; tail -20 "$WORK/engine.log" >&2; exit 1; }
    read -r ENGINE_PID ping list n <<<"$out"
    [ "$n" -eq "$want" ] || { echo "engine listed $n containers, expected $want" >&2; exit 1; }
    pings+=("$ping"); lists+=("$list")
  done
  read -r pm pmin pmax < <(python3 -c 'import statistics,sys; v=[float(x) for x in sys.argv[1:]]; print(round(statistics.median(v),1), min(v), max(v))' "${pings[@]}")
  read -r lm < <(python3 -c 'import statistics,sys; print(round(statistics.median(float(x) for x in sys.argv[1:]),1))' "${lists[@]}")
  echo "berth engine start, $label: first /_ping median $pm ms (min $pmin, max $pmax, n=$K); first full container list $lm ms"
  record "start_ping_$want" "berth engine start to first /_ping, $label" "$pm" ms
  record "start_list_$want" "berth engine start to first /containers/json, $label" "$lm" ms
}

start_engine
import_busybox
level "0 containers" 0
p0=$pm
berth_start_n "$N"
running=$($B ps -q | wc -l)
[ "$running" -ge "$N" ] || { echo "only $running berth containers running, wanted $N" >&2; exit 1; }
level "$N running containers" "$N"
g=$(ratio "$pm" "$p0")
# 25% tolerance for run-to-run noise on a shared 2-core VM
echo "start with $N vs 0 containers: ratio $g (must not grow with the number of containers: $(verdict "$g" '<=' 1.25))"
record start_growth "engine start $N / 0 containers" "$g" ratio
