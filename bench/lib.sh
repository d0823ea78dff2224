# Shared helpers for the bench scripts: a release berth engine on a temporary socket and data root,
# and a busybox image imported from Debian's busybox-static.
set -euo pipefail
ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BERTH=${BERTH:-$ROOT_DIR/target/release/berth}
[ -x "$BERTH" ] || (cd "$ROOT_DIR" && cargo build --release --quiet)
WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
SOCK=$WORK/berth.sock
DATA=$WORK/root
export BERTH_HOST=unix://$SOCK

start_engine() {
  "$BERTH" engine --socket "$SOCK" --data-root "$DATA" --log-level warn 2>"$WORK/engine.log" &
  ENGINE_PID=$!
  for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.05; done
}

stop_engine() {
  "$BERTH" --headless --no-autostart rm -f $("$BERTH" --headless --no-autostart ps -aq) >/dev/null 2>&1 || true
  kill "$ENGINE_PID" 2>/dev/null || true
  wait "$ENGINE_PID" 2>/dev/null || true
  rm -rf "$WORK"
}

make_busybox_tar() {
  local dir=$WORK/rootfs
  mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp"
  cp /bin/busybox "$dir/bin/busybox"
  for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"; done
  echo 'root:x:0:0:root:/root:/bin/sh' >"$dir/etc/passwd"
  echo 'root:x:0:' >"$dir/etc/group"
  tar -C "$dir" -cf "$WORK/busybox.tar" .
}

import_busybox() {
  make_busybox_tar
  "$BERTH" --headless --no-autostart import "$WORK/busybox.tar" busybox:local >/dev/null
}

docker_available() {
  command -v docker >/dev/null && [ -S /var/run/docker.sock ] && DOCKER_HOST=unix:///var/run/docker.sock docker version >/dev/null 2>&1
}

# median of hyperfine's JSON export in ms
median_ms() { python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["results"][0]["median"]*1000,1))' "$1"; }
