#!/usr/bin/env bash
# Memory: berth engine RSS when idle (target <= 15 MiB), and berth engine + shims PSS with N running
# `sleep` containers (default 200) against docker's dockerd + containerd + containerd-shim* PSS with N
# of its own, summed the anchors' way (processes matched on the executable's basename, PSS from
# smaps_rollup). Target: berth <= 1/10 of docker. Without a docker daemon the anchor figure is used.
source "$(dirname "$0")/lib.sh"
N=${N:-200}
SETTLE=${SETTLE:-2}

# berth_mem : "<engine PSS KiB> <shims PSS KiB> <shim process count>"
berth_mem() {
  local e s=0 c=0 p
  e=$(pss_kib "$ENGINE_PID")
  # Every process still running the shim's argv (the shim and any fork of it that did not exec);
  # the container's own processes (sleep) are not counted, as for docker.
  for p in $(pgrep -f -- "__berth-shim $DATA/"); do s=$((s + $(pss_kib "$p"))); c=$((c + 1)); done
  echo "$e $s $c"
}

# docker_mem : "<total PSS KiB> <dockerd KiB> <containerd KiB> <shims KiB> <shim count>" (anchors.sh daemon_mem)
docker_mem() {
  local pid exe base pss d=0 c=0 s=0 n=0
  for pid in /proc/[0-9]*; do
    pid=${pid#/proc/}
    exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || continue
    base=${exe##*/}; base=${base% (deleted)}
    case $base in dockerd | containerd | containerd-shim*) ;; *) continue ;; esac
    pss=$(pss_kib "$pid")
    case $base in
    dockerd) d=$((d + pss)) ;;
    containerd) c=$((c + pss)) ;;
    *) s=$((s + pss)); n=$((n + 1)) ;;
    esac
  done
  echo "$((d + c + s)) $d $c $s $n"
}

if berth_side; then
  start_engine
  import_busybox
  sleep "$SETTLE"
  idle=$(rss_kib "$ENGINE_PID")
  read -r e0 _ _ < <(berth_mem)
  echo "berth engine idle: RSS $(kib_to_mib "$idle") MiB, PSS $(kib_to_mib "$e0") MiB (target RSS <= 15 MiB: $(verdict "$idle" '<=' $((15 * 1024))))"
  record mem_berth_idle_rss "berth engine RSS, idle (image imported, 0 containers)" "$(kib_to_mib "$idle")" MiB
  record mem_berth_idle_pss "berth engine PSS, idle" "$(kib_to_mib "$e0")" MiB

  berth_start_n "$N"
  sleep "$SETTLE"
  read -r e s c < <(berth_mem)
  bt=$((e + s))
  echo "berth engine + $c shim processes PSS, $N running: $(kib_to_mib "$bt") MiB (engine $(kib_to_mib "$e"), shims $(kib_to_mib "$s"); engine RSS $(kib_to_mib "$(rss_kib "$ENGINE_PID")") MiB)"
  record mem_berth_pss_n "berth engine + shims PSS, $N running" "$(kib_to_mib "$bt")" MiB
  record mem_berth_engine_pss_n "berth engine PSS, $N running" "$(kib_to_mib "$e")" MiB
  record mem_berth_shims_pss_n "berth shims PSS ($c processes), $N running" "$(kib_to_mib "$s")" MiB
fi

if docker_side && docker_available; then
  docker_busybox
  have=$($DK ps -q | wc -l)
  [ "$have" -eq 0 ] || echo "note: docker already runs $have containers (counted in its figure)"
  read -r d0 _ _ _ _ < <(docker_mem)
  echo "docker dockerd+containerd PSS, $have running: $(kib_to_mib "$d0") MiB"
  record mem_docker_pss_0 "docker dockerd+containerd+shims PSS, $have running" "$(kib_to_mib "$d0")" MiB
  docker_start_n "$N"
  sleep "$SETTLE"
  read -r dt dd dc ds dn < <(docker_mem)
  k=$(kib_to_mib "$dt")
  src="docker measured now"
  echo "docker dockerd+containerd+$dn shims PSS, $($DK ps -q | wc -l) running: $k MiB (dockerd $(kib_to_mib "$dd"), containerd $(kib_to_mib "$dc"), shims $(kib_to_mib "$ds"))"
  record mem_docker_pss_n "docker dockerd+containerd+shims PSS, $N running" "$k" MiB
else
  k=$ANCHOR_PSS200_MIB
  src="anchor figure for 200 running from $ANCHOR_SRC"
  echo "docker: $(no_docker_reason); using the anchor figure $k MiB (PSS, 200 running) from $ANCHOR_SRC"
fi
if berth_side; then
  r=$(ratio "$(kib_to_mib "$bt")" "$k")
  echo "ratio berth/docker PSS = $r ($src; target <= 0.1: $(verdict "$r" '<=' 0.1))"
  record mem_ratio "berth / docker PSS, $N running" "$r" ratio
fi
