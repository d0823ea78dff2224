#!/usr/bin/env bash
# `docker build` (DOCKER_BUILDKIT=0, the same stock docker CLI, `-H` each socket) of a realistic
# multi-stage Dockerfile with a 50 MiB context of many files, on berth and on dockerd 20.10's legacy
# builder side by side in one run: cold build (--no-cache), unchanged rebuild, last-line change
# (only the final CMD differs), first-line change (the first instruction of the first stage
# differs, so every later step runs again). Targets (issue 13): berth <= 0.5x, 0.2x, 0.3x and 0.5x
# of docker's time. Then three independent `RUN sleep 2` stages joined by COPY --from in a final
# stage, timed on berth (target <= 3 s; docker's legacy builder runs stages one after another).
# For reference, the floor: a Dockerfile of one FROM with the same 50 MiB context (the CLI sending
# it and the engine receiving it).
# The dockerd is this script's own (own data root, exec root and socket; no bridge, no iptables),
# so both sides build with `--network none`. Each figure is the median of REPS (default 3) builds.
source "$(dirname "$0")/lib.sh"
REPS=${REPS:-3}
CTX=$WORK/ctx
PAR=$WORK/par

# ---- the context: deps/ 40 MiB (800 x 50 KiB incompressible, like vendored libraries), src/ 10 MiB
# (400 x 25 KiB C-like text), deterministic.
make_context() {
  mkdir -p "$CTX"
  python3 - "$CTX" <<'EOF'
import os, random, sys
d = sys.argv[1]
r = random.Random(13)
for pkg in range(40):
    os.makedirs(f"{d}/deps/pkg{pkg:02d}/lib", exist_ok=True)
    for i in range(20):
        with open(f"{d}/deps/pkg{pkg:02d}/lib/obj{i:02d}.a", "wb") as f:
            f.write(r.randbytes(50 * 1024))
words = "int char void return static const struct if else for while size_t uint8_t buf len".split()
for mod in range(20):
    os.makedirs(f"{d}/src/mod{mod:02d}", exist_ok=True)
    for i in range(20):
        lines, size = [], 0
        while size < 25 * 1024:
            line = f"{r.choice(words)} f{r.randrange(10**6)}({r.choice(words)} a, {r.choice(words)} b); /* {r.randrange(10**9)} */\n"
            lines.append(line); size += len(line)
        with open(f"{d}/src/mod{mod:02d}/file{i:02d}.c", "w") as f:
            f.write("".join(lines))
with open(f"{d}/src/README.txt", "w") as f:
    f.write("bench build context\n")
EOF
}

# write_dockerfile FIRST_REV LAST_REV: the benchmark Dockerfile; FIRST_REV is the first
# instruction of the first stage, LAST_REV the last line.
write_dockerfile() {
  cat >"$CTX/Dockerfile" <<EOF
FROM busybox:local AS deps
LABEL bench.rev="$1"
WORKDIR /deps
COPY deps/ /deps/
RUN find /deps -type f | sort > /deps.list && tar -cf /tmp/deps.tar -C /deps . && wc -c /tmp/deps.tar > /deps.size && rm /tmp/deps.tar
RUN mkdir -p /deps/include && for p in /deps/pkg*; do echo "#include <\$(basename \$p).h>" >> /deps/include/all.h; done

FROM deps AS build
ARG VERSION=1.0
WORKDIR /src
COPY src/ /src/
RUN mkdir -p /out && find . -name '*.c' | sort | xargs md5sum > /out/sums && cat /src/mod*/*.c | wc -l > /out/lines
RUN tar -czf /out/src.tar.gz -C /src . && echo "v\$VERSION" > /out/version

FROM busybox:local
COPY --from=build /out /app
COPY --from=deps /deps.list /deps.size /app/
CMD ["cat", "/app/version", "$2"]
EOF
}

write_parallel() {
  mkdir -p "$PAR"
  cat >"$PAR/Dockerfile" <<'EOF'
FROM busybox:local AS a
RUN sleep 2 && echo a > /a

FROM busybox:local AS b
RUN sleep 2 && echo b > /b

FROM busybox:local AS c
RUN sleep 2 && echo c > /c

FROM busybox:local
COPY --from=a /a /a
COPY --from=b /b /b
COPY --from=c /c /c
EOF
}

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
  EXTRA_PIDS="${EXTRA_PIDS:-} $DOCKERD_PID"
  until curl -fsS --max-time 1 --unix-socket "$DSOCK" http://d/_ping >/dev/null 2>&1; do
    alive "$DOCKERD_PID" || { tail -5 "$DD/log" >&2; return 1; }
    sleep 0.05
  done
}
# dockerd stops before lib.sh's cleanup unmounts and deletes the work dir, on any exit.
trap 'rc=$?; set +e; stop_dockerd; (exit $rc); cleanup' EXIT
stop_dockerd() {
  [ -n "$DOCKERD_PID" ] || return 0
  kill "$DOCKERD_PID" 2>/dev/null
  for _ in $(seq 600); do alive "$DOCKERD_PID" || break; sleep 0.05; done
  wait "$DOCKERD_PID" 2>/dev/null
  DOCKERD_PID=""
}

# build HOST DIR [ARGS...]: one `docker build`, its wall time in ms on stdout (output in the log).
build() {
  local host=$1 dir=$2; shift 2
  local t0 t1
  t0=$(date +%s%N)
  if ! DOCKER_BUILDKIT=0 docker -H "$host" build --network none "$@" "$dir" >>"$WORK/build.log" 2>&1; then
    echo "build failed on $host; last lines:" >&2
    tail -30 "$WORK/build.log" >&2
    return 1
  fi
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000000))
}
median() { python3 -c 'import statistics,sys; print(round(statistics.median(map(float,sys.argv[1:]))))' "$@"; }

# scenario HOST KIND: REPS builds of one kind, their median in ms. Revisions are unique per side and
# repetition, so a "changed" build never finds its own earlier result in the cache.
SEQ=0
scenario() {
  local host=$1 kind=$2 times=() i
  for i in $(seq "$REPS"); do
    SEQ=$((SEQ + 1))
    case $kind in
      cold) write_dockerfile base base; times+=("$(build "$host" "$CTX" --no-cache -t bench-build:latest)") ;;
      unchanged) write_dockerfile base base; times+=("$(build "$host" "$CTX" -t bench-build:latest)") ;;
      last) write_dockerfile base "last-$SEQ"; times+=("$(build "$host" "$CTX" -t bench-build:latest)") ;;
      first) write_dockerfile "first-$SEQ" base; times+=("$(build "$host" "$CTX" -t bench-build:latest)") ;;
      floor) printf 'FROM busybox:local\n' >"$CTX/Dockerfile"; times+=("$(build "$host" "$CTX" -t bench-floor:latest)") ;;
    esac
  done
  echo "$(median "${times[@]}") (runs: ${times[*]})" >"$WORK/scenario.out"
  median "${times[@]}"
}

make_context
write_parallel
echo "context: $(du -sm "$CTX" | cut -f1) MiB in $(find "$CTX" -type f | wc -l) files; $REPS builds per figure (median)"

start_engine
import_busybox
BH=$BERTH_HOST
have_docker=0
if docker_side && command -v dockerd >/dev/null; then
  start_dockerd
  [ -f "$WORK/busybox.tar" ] || make_busybox_tar
  docker -H "unix://$DSOCK" import "$WORK/busybox.tar" busybox:local >/dev/null
  DH=unix://$DSOCK
  have_docker=1
  echo "docker: dockerd $(docker -H "$DH" version --format '{{.Server.Version}}') of this script's own, legacy builder"
else
  echo "docker: $(no_docker_reason); berth figures only"
fi

# Warm both: the base image's first use, and a populated cache for the unchanged rebuild.
write_dockerfile base base
build "$BH" "$CTX" -t bench-build:latest >/dev/null
[ "$have_docker" = 0 ] || build "$DH" "$CTX" -t bench-build:latest >/dev/null

declare -A TARGET=([cold]=0.5 [unchanged]=0.2 [last]=0.3 [first]=0.5 [floor]=-)
declare -A LABEL=([cold]="cold build (--no-cache)" [unchanged]="unchanged rebuild" \
  [last]="last-line change (final CMD)" [first]="first-line change (first instruction of the first stage)" \
  [floor]="floor: 'FROM busybox:local' alone with the same context (sending and receiving it)")
for kind in cold unchanged last first floor; do
  b=$(scenario "$BH" "$kind"); bruns=$(cat "$WORK/scenario.out")
  record "build_${kind}_berth" "berth: ${LABEL[$kind]}" "$b" ms
  if [ "$have_docker" = 1 ]; then
    d=$(scenario "$DH" "$kind"); druns=$(cat "$WORK/scenario.out")
    record "build_${kind}_docker" "docker: ${LABEL[$kind]}" "$d" ms
    r=$(ratio "$b" "$d")
    record "build_${kind}_ratio" "berth / docker: ${LABEL[$kind]}" "$r" ratio
    if [ "${TARGET[$kind]}" = - ]; then
      echo "${LABEL[$kind]}: berth $bruns ms, docker $druns ms, ratio $r"
    else
      echo "${LABEL[$kind]}: berth $bruns ms, docker $druns ms, ratio $r (target <= ${TARGET[$kind]}: $(verdict "$r" '<=' "${TARGET[$kind]}"))"
    fi
  else
    echo "${LABEL[$kind]}: berth $bruns ms"
  fi
done

p=$(REPS=1 build "$BH" "$PAR" --no-cache -t bench-par:latest)
echo "three independent 'RUN sleep 2' stages + COPY --from, --no-cache: berth $p ms (target <= 3000 ms: $(verdict "$p" '<=' 3000))"
record build_parallel_berth "berth: three independent 2 s stages" "$p" ms
if [ "$have_docker" = 1 ]; then
  dp=$(build "$DH" "$PAR" --no-cache -t bench-par:latest)
  echo "  same on docker's legacy builder (stages run one after another): $dp ms"
  record build_parallel_docker "docker: three independent 2 s stages" "$dp" ms
  stop_dockerd
fi
