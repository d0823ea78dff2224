#!/usr/bin/env bash
# `push` of a BIG_MB (200) MiB single-layer image (3/4 random, 1/4 text, as anchors.sh builds it) to an
# empty local docker-registry: berth's headless CLI, and docker itself when a daemon answers (else
# docker's anchor figure, 17.7 MiB/s). Three figures for berth:
#   cold  : the image freshly imported before each run, so the layer is compressed during the push
#           (what docker does on every push);
#   warm  : registry emptied before each run, berth's remembered compressed blob reused (upload only);
#   repeat: the unchanged image pushed again to the registry that has it (every layer exists).
# Targets: throughput >= 3x docker's; repeated push <= 100 ms.
source "$(dirname "$0")/lib.sh"

BIG_MB=${BIG_MB:-200}
RUNS_PUSH=${RUNS_PUSH:-3}
ANCHOR_PUSH_MIBS=17.7
IMG=$REG_ADDR/bench/big:1

wipe_registry() { rm -rf "$REG_DATA/docker"; }

start_registry
make_big_tar
MIB=$(python3 -c "import os,sys; print(round(os.path.getsize(sys.argv[1])/1048576,1))" "$WORK/big.tar")
echo "image: $MIB MiB uncompressed, one layer; registry on $REG_ADDR"

if berth_side; then
  start_engine
  # cold: re-import before each run (the image's layer and its remembered compressed blob go with
  # rmi), registry emptied.
  cold=$(WARMUP=0 RUNS=$RUNS_PUSH hf berth_push_cold \
    --prepare "bash -c '$B rmi -f $IMG >/dev/null 2>&1; $B import $WORK/big.tar $IMG >/dev/null; rm -rf $REG_DATA/docker'" \
    "$B push -q $IMG")
  cold_t=$(mibs "$MIB" "$cold")
  echo "berth push, cold (compress + upload, registry emptied): median $cold ms = $cold_t MiB/s"
  record push_berth_cold "berth push big, cold (compress+upload)" "$cold" ms
  warm=$(WARMUP=0 RUNS=$RUNS_PUSH hf berth_push_warm --prepare "rm -rf $REG_DATA/docker" "$B push -q $IMG")
  warm_t=$(mibs "$MIB" "$warm")
  echo "berth push, warm (remembered compressed blob, registry emptied): median $warm ms = $warm_t MiB/s"
  record push_berth_warm "berth push big, warm (compressed blob reused)" "$warm" ms
  rep=$(WARMUP=1 RUNS=10 hf berth_push_repeat "$B push -q $IMG")
  echo "berth push, repeated (registry has every blob): median $rep ms (target <= 100 ms: $(verdict "$rep" '<=' 100))"
  record push_berth_repeat "berth push big, unchanged, repeated" "$rep" ms
fi

if docker_side && docker_available; then
  DOCKER_USED=1
  $DK import "$WORK/big.tar" "$IMG" >/dev/null
  dk=$(WARMUP=1 RUNS=$RUNS_PUSH hf docker_push --prepare "rm -rf $REG_DATA/docker" "$DK push -q $IMG")
  dk_t=$(mibs "$MIB" "$dk")
  echo "docker push (registry emptied): median $dk ms = $dk_t MiB/s"
  record push_docker "docker push big (registry emptied)" "$dk" ms
  $DK rmi "$IMG" >/dev/null 2>&1 || true
else
  dk_t=$ANCHOR_PUSH_MIBS
  echo "docker: $(no_docker_reason); anchor throughput $dk_t MiB/s ($ANCHOR_SRC)"
fi
if berth_side; then
  echo "throughput ratio berth/docker: cold $(ratio "$cold_t" "$dk_t") (target >= 3: $(verdict 3 '<=' "$(ratio "$cold_t" "$dk_t")")), warm $(ratio "$warm_t" "$dk_t")"
fi
