#!/usr/bin/env bash
# Screenshots of the real dashboard for README.md: builds berth, starts a real engine on a
# temporary socket and data root, imports a busybox image (from Debian's busybox-static), starts a
# few containers, runs `berth` (the dashboard) in a detached tmux at a fixed size, captures the pane
# with its colours and renders it to PNG with screenshots/render.py.
#
#   screenshots/make.sh            # writes screenshots/*.png (one per view and dialog)
#
# Installs what it lacks (tmux, busybox-static, DejaVu fonts, Pillow) from Debian, or Pillow from
# PyPI as a fallback. Everything it starts (tmux server, containers, engine) and the work dir are
# removed on any exit. Runs as root (the engine needs it). One run at a time (flock).
#
# Tests of the renderer: python3 screenshots/test_render.py
#
# Env: BERTH (binary to use; default: `cargo build` then target/debug/berth), COLS/ROWS (pane size,
# default 120x32), SCALE (PNG pixel multiplier, default 2: sharp on HiDPI screens, where GitHub
# shows README images scaled down to the column width).
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT_DIR=$ROOT_DIR/screenshots
COLS=${COLS:-120}
ROWS=${ROWS:-32}
SCALE=${SCALE:-2}
# A fixed work dir, so the socket path the dashboard shows is the same on every run and the PNG
# only changes when the screen does. The lock keeps two runs from sharing it.
WORK=/tmp/berth-shots
SOCK=$WORK/berth.sock
DATA=$WORK/root
TMUX_L=berth-shots # private tmux server (-L), never the user's
ENGINE_PID=""

log() { printf 'make.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (the berth engine creates mounts and cgroups)"

exec 9>/tmp/berth-shots.lock
flock -n 9 || die "another screenshots/make.sh is running"

# ---- dependencies (idempotent: each is installed only when missing) ----
APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null || return 1
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null 2>&1; then
    [ "$APT_UPDATED" = 1 ] && return 1
    apt-get update -qq >/dev/null 2>&1 || true
    APT_UPDATED=1
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
  fi
}
command -v tmux >/dev/null || { log "installing tmux"; apt_install tmux; }
[ -x /bin/busybox ] || { log "installing busybox-static"; apt_install busybox-static; }
[ -f /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf ] ||
  { log "installing fonts-dejavu-core"; apt_install fonts-dejavu-core; }
# A Python with Pillow: the one on PATH, Debian's, then Debian's python3-pil, then pip.
PY=""
find_py() {
  local p
  for p in python3 /usr/bin/python3; do
    if command -v "$p" >/dev/null && "$p" -c 'import PIL' 2>/dev/null; then PY=$p; return 0; fi
  done
  return 1
}
if ! find_py; then
  log "installing python3-pil"
  apt_install python3-pil || true
  if ! find_py; then
    log "installing pillow from PyPI"
    python3 -m pip install --quiet pillow
    find_py || die "no python3 with Pillow"
  fi
fi

# ---- build ----
if [ -z "${BERTH:-}" ]; then
  log "building berth (debug)"
  (cd "$ROOT_DIR" && cargo build --quiet --bin berth)
  BERTH=$ROOT_DIR/target/debug/berth
fi
[ -x "$BERTH" ] || die "no berth binary at $BERTH"
B="$BERTH --headless --host unix://$SOCK --no-autostart"

# ---- cleanup, on any exit ----
alive() { [ -r "/proc/$1/stat" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }

# Removes whatever a run leaves behind: also used before starting, for the leftovers of a run that
# was killed (SIGKILL skips the trap).
cleanup_leftovers() {
  local p id h
  # Shims of THIS data root (argv holds the container dir) and our containers' cgroups.
  for p in $(pgrep -f -- "__berth-shim $DATA/" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  for id in $(ls "$DATA/containers" 2>/dev/null); do
    for h in /sys/fs/cgroup/*/berth/"$id" /sys/fs/cgroup/unified/berth/"$id"; do
      [ -d "$h" ] || continue
      for p in $(cat "$h/cgroup.procs" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    done
    sleep 0.1
    for h in /sys/fs/cgroup/*/berth/"$id" /sys/fs/cgroup/unified/berth/"$id"; do
      [ -d "$h" ] && rmdir "$h" 2>/dev/null
    done
  done
  # Unmount what is left under the work dir (deepest first), then delete it without crossing
  # into another file system.
  { findmnt -rn -o TARGET | grep -F "$WORK/" || true; } | sort -r | while read -r m; do umount -l "$m"; done
  rm -rf --one-file-system "$WORK"
}

cleanup() {
  local rc=$?
  set +e
  tmux -L "$TMUX_L" kill-server 2>/dev/null
  if [ -n "$ENGINE_PID" ] && alive "$ENGINE_PID"; then
    local ids
    ids=$($B ps -aq 2>/dev/null)
    [ -z "$ids" ] || $B rm -f $ids >/dev/null 2>&1
    kill -TERM "$ENGINE_PID" 2>/dev/null
    for _ in $(seq 100); do alive "$ENGINE_PID" || break; sleep 0.05; done
    kill -9 "$ENGINE_PID" 2>/dev/null
    wait "$ENGINE_PID" 2>/dev/null
  fi
  [ "$rc" = 0 ] || { log "failed (exit $rc); engine log:"; tail -20 "$WORK/engine.log" >&2 2>/dev/null; }
  cleanup_leftovers
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# A previous run killed with SIGKILL leaves its tmux server and work dir.
tmux -L "$TMUX_L" kill-server 2>/dev/null || true
cleanup_leftovers
mkdir -p "$WORK"

# ---- a real engine with real objects ----
log "starting the engine on $SOCK"
"$BERTH" engine --socket "$SOCK" --data-root "$DATA" --log-level warn 2>>"$WORK/engine.log" &
ENGINE_PID=$!
for _ in $(seq 200); do $B version >/dev/null 2>&1 && break; sleep 0.05; done
$B version >/dev/null || die "engine did not answer"

rootfs=$WORK/rootfs
mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/tmp"
cp /bin/busybox "$rootfs/bin/busybox"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' >"$rootfs/etc/passwd"
echo 'root:x:0:' >"$rootfs/etc/group"
tar -C "$rootfs" -cf "$WORK/busybox.tar" .

# ---- the dashboard in tmux ----
# A config file, so the options hold from the first frame: no status line (the pane is the whole
# window) and a dead pane kept on screen if berth exits (to report why). A detached session with no
# client keeps the -x/-y size. (`window-size manual` in a config file crashes tmux 3.3a's server.)
if infocmp tmux-256color >/dev/null 2>&1; then term=tmux-256color; else term=screen-256color; fi
cat >"$WORK/tmux.conf" <<EOF
set -g status off
set -g escape-time 0
set -g remain-on-exit on
set -g default-terminal $term
EOF
# The Stacks view also lists a compose file opened with --compose-file that is not up yet.
cmd=$(printf '%q ' env -u NO_COLOR COLORTERM=truecolor "$BERTH" --host "unix://$SOCK" --no-autostart \
  --compose-file "$WORK/todo/compose.yaml")
start_dashboard() {
  tmux -L "$TMUX_L" -f "$WORK/tmux.conf" new-session -d -s shots -x "$COLS" -y "$ROWS" "$cmd"
}

pane() { tmux -L "$TMUX_L" capture-pane -p "$@" -t shots; }
dead() { [ "$(tmux -L "$TMUX_L" display-message -p -t shots '#{pane_dead}')" = 1 ]; }

# shot NAME [KEYS...]: send KEYS (tmux send-keys syntax) to the dashboard, wait until the screen has
# drawn (not blank, past "connecting…") and holds still, then capture and render it to NAME.png.
# Live views (stats, following logs) may never hold still for long: after a few seconds the
# latest capture is taken.
shot() {
  local name=$1 prev="" cur i
  shift
  [ $# -eq 0 ] || tmux -L "$TMUX_L" send-keys -t shots "$@"
  sleep 0.3
  for i in $(seq 40); do
    dead && die "$(printf 'the dashboard exited; its screen:\n%s' "$(pane)")"
    cur=$(pane -e)
    if [ -n "$(pane | tr -d ' \n')" ] && ! pane | grep -q 'connecting'; then
      # Two equal captures 0.3 s apart: no frame is half written.
      [ "$cur" = "$prev" ] && break
      prev=$cur
      sleep 0.3
    else
      sleep 0.1
    fi
  done
  [ -n "$(pane | tr -d ' \n')" ] || die "the dashboard drew nothing for $name"
  printf '%s\n' "$cur" >"$WORK/$name.ans"
  "$PY" "$OUT_DIR/render.py" --cols "$COLS" --rows "$ROWS" --scale "$SCALE" \
    "$WORK/$name.ans" "$OUT_DIR/$name.png"
  log "wrote screenshots/$name.png"
}

keys() { local k; for k in "$@"; do tmux -L "$TMUX_L" send-keys -t shots "$k"; sleep 0.15; done; }
type_text() { tmux -L "$TMUX_L" send-keys -t shots -l "$1"; sleep 0.15; }

# A first run with no image and no registry: the empty Images view (what works offline) with its
# import prompt, the path completed by Tab.
start_dashboard
keys 2
sleep 1
keys I
type_text "$WORK/busy"
keys Tab
shot import
keys Escape q
for _ in $(seq 50); do dead && break; sleep 0.1; done
tmux -L "$TMUX_L" kill-server 2>/dev/null || true

$B import "$WORK/busybox.tar" busybox:latest >/dev/null
log "making images, volumes, networks and containers"
$B tag busybox:latest shop/api:1.4 >/dev/null
$B tag busybox:latest shop/web:2.0 >/dev/null
$B tag busybox:latest registry.example.com:5000/tools/debug:edge >/dev/null
$B volume create shop-data >/dev/null
$B volume create cache >/dev/null
$B network create --subnet 10.231.7.0/24 shop-net >/dev/null
project() { echo "--label com.docker.compose.project=shop --label com.docker.compose.service=$1 --network shop-net"; }
# A compose-like project: a web front that logs requests, an api that works a little, a db.
$B run -d --name shop-web-1 $(project web) -p 8080:80 shop/web:2.0 sh -c \
  'i=0; while true; do i=$((i+1)); echo "GET /products/$((i % 17)) 200 $((i % 9 + 2))ms"; sleep 0.7; done' >/dev/null
$B run -d --name shop-api-1 $(project api) -v shop-data:/data shop/api:1.4 sh -c \
  'while true; do i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; echo "api: served batch"; sleep 0.3; done' >/dev/null
$B run -d --name shop-db-1 $(project db) -v shop-data:/var/lib/db busybox:latest sh -c \
  'echo "db: ready to accept connections"; while true; do sleep 2; echo "db: checkpoint complete"; done' >/dev/null
$B run -d --name metrics -v cache:/cache busybox:latest sh -c \
  'while true; do dd if=/dev/zero of=/cache/blob bs=64k count=16 2>/dev/null; sleep 1; done' >/dev/null
$B run --name migrate-once busybox:latest echo "migrations applied" >/dev/null # exits: a stopped container
$B create --name idle busybox:latest sleep 3600 >/dev/null # never started
# Real compose projects for the Stacks view: blog brought up by `berth compose` (a web with a
# health check and a published port, a db), todo only written (opened by the dashboard).
mkdir -p "$WORK/blog" "$WORK/todo"
cat >"$WORK/blog/compose.yaml" <<'YAML'
services:
  web:
    image: busybox:latest
    command: sh -c 'touch /ok; while true; do sleep 1; done'
    ports: ["8081:80"]
    healthcheck: {test: ["CMD", "test", "-f", "/ok"], interval: 2s}
    depends_on: [db]
  db:
    image: busybox:latest
    command: sleep 3600
  search:
    image: busybox:latest
    command: sleep 3600
    profiles: [extras]
YAML
cat >"$WORK/todo/compose.yaml" <<'YAML'
services:
  api:
    image: busybox:latest
    command: sleep 3600
  worker:
    image: busybox:latest
    command: sleep 3600
YAML
$B compose -f "$WORK/blog/compose.yaml" up -d --wait >/dev/null 2>&1
# Builds for the Builds view: one that works (built twice: the second time every step comes from
# the cache) and, newest, one whose test step fails.
mkdir -p "$WORK/build-ok" "$WORK/build-bad"
cat >"$WORK/build-ok/Dockerfile" <<'DOCKERFILE'
FROM busybox:latest
WORKDIR /app
COPY . /app
RUN echo "compiling worker" && sleep 1 && echo built >/app/worker
CMD ["cat", "/app/worker"]
DOCKERFILE
$B build -t shop/worker:dev "$WORK/build-ok" >/dev/null
$B build -t shop/worker:dev "$WORK/build-ok" >/dev/null
cat >"$WORK/build-bad/Dockerfile" <<'DOCKERFILE'
FROM busybox:latest
RUN echo "compiling api" && echo built >/api
RUN for t in 1 2 3; do echo "test $t ... ok"; done; echo "test 4 ... FAILED: got 500" >&2; exit 2
CMD ["/api"]
DOCKERFILE
$B build -t shop/api:next "$WORK/build-bad" >/dev/null 2>&1 || true

start_dashboard
# Let the stats history fill, so sparklines and charts have a shape.
sleep "${WARM:-25}"

# Containers: the compose group first (rows sorted by name), then the loose ones. `g j` selects
# shop-api-1, the first container of the group.
keys g j
shot dashboard
# Its detail pane: the Stats tab (charts of the last minutes), then Env.
keys Enter ]
shot detail-stats
keys ] ]
shot detail-env
keys Escape
# Merged logs of the whole compose project (its group row), searched.
keys g L
sleep 3
keys /
type_text GET
keys Enter
shot logs
keys Escape Escape
# Images, the run form, the build form, volumes, networks, events, builds, help.
keys 2
shot images
keys r
type_text web-2
shot run-form
keys Escape b
shot build-form
keys Escape 3
shot volumes
keys 4
shot networks
keys 5
shot events
# Builds: the list, then the failed build (the newest, first row) with its failing step's log.
keys 6
shot builds
keys Enter
shot build-detail
# Stacks: blog (up, from its labels and file) unfolded into its services, todo not up yet.
keys Escape 7 g Enter
shot stacks
keys Escape 1 '?'
shot help
keys Escape

# Quit the way a person does; the pane dies, then the cleanup kills the tmux server.
tmux -L "$TMUX_L" send-keys -t shots q
for _ in $(seq 50); do dead && break; sleep 0.1; done
