#!/usr/bin/env bash
# `load` of a ~200 MiB single-layer image archive (3/4 random bytes, 1/4 text, as
# /work/shared/bench/anchors.sh builds it): berth's headless CLI, and docker itself when a daemon
# answers, side by side. Median of 3 runs each, the image removed before every run (not timed).
# Target: berth >= 2x docker's throughput (anchor: docker load 123 MiB/s on this kind of machine).
# BIG_MB=50 bench/load.sh for a quicker run.
source "$(dirname "$0")/lib.sh"

BIG_MB=${BIG_MB:-200}
RUNS=${RUNS:-3}
ANCHOR_LOAD_MIBS=123
BIG_IMG=bench/big:1


make_big_tar
b=""
if berth_side; then
  start_engine
  $B import "$WORK/big.tar" "$BIG_IMG" >/dev/null
  $B save -o "$WORK/big.save.tar" "$BIG_IMG"
  mib=$(awk -v b="$(stat -c %s "$WORK/big.save.tar")" 'BEGIN{printf "%.1f", b/1048576}')
  echo "archive (berth save): $mib MiB"
  ms=$(WARMUP=1 RUNS=$RUNS hf berth_load --prepare "$B rmi -f $BIG_IMG" "$B load -q -i $WORK/big.save.tar")
  b=$(mibs "$mib" "$ms")
  echo "berth --headless load -q -i big.tar: median $ms ms = $b MiB/s"
  record load_berth "berth --headless load of a ${BIG_MB} MiB archive" "$b" MiB/s
  $B image inspect "$BIG_IMG" >/dev/null
fi

if docker_side && docker_available; then
  DOCKER_USED=1
  $DK rmi -f "$BIG_IMG" >/dev/null 2>&1 || true
  $DK import "$WORK/big.tar" "$BIG_IMG" >/dev/null
  $DK save -o "$WORK/big.docker.tar" "$BIG_IMG"
  dmib=$(awk -v b="$(stat -c %s "$WORK/big.docker.tar")" 'BEGIN{printf "%.1f", b/1048576}')
  dms=$(WARMUP=1 RUNS=$RUNS hf docker_load --prepare "$DK rmi -f $BIG_IMG" "$DK load -q -i $WORK/big.docker.tar")
  d=$(mibs "$dmib" "$dms")
  $DK rmi -f "$BIG_IMG" >/dev/null 2>&1 || true
  echo "docker load -q -i big.tar: median $dms ms = $d MiB/s"
  record load_docker "docker load of a ${BIG_MB} MiB archive" "$d" MiB/s
else
  d=$ANCHOR_LOAD_MIBS
  echo "docker: $(no_docker_reason); anchor figure $d MiB/s ($ANCHOR_SRC)"
fi
if [ -n "$b" ]; then
  r=$(ratio "$b" "$d")
  echo "throughput ratio berth/docker = $r (target >= 2: $(python3 -c "import sys; print('met' if float(sys.argv[1]) >= 2 else 'NOT met')" "$r"))"
fi
