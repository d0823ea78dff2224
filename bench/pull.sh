#!/usr/bin/env bash
# `pull` of a ~200 MiB single-layer image (busybox + 3/4 incompressible 128 KiB files + 1/4 text
# in 1 MiB files, like /work/shared/bench/anchors.sh) from a local docker-registry: berth's
# headless CLI, and docker (when a daemon answers on /var/run/docker.sock, else the anchor figure
# 2.8 s). Image removed before each run; median of 3. Target: berth <= 1/2 of docker's time.
# Needs: docker-registry, skopeo, hyperfine.
source "$(dirname "$0")/lib.sh"

BIG_MB=${BIG_MB:-200}
ANCHOR_PULL_MS=2800
IMG=$REG_ADDR/bench/big:v1

start_registry

# The image: one gzip layer in an OCI layout, copied in with skopeo (digests kept).
[ -f "$WORK/busybox.tar" ] || make_busybox_tar
python3 - "$WORK" "$BIG_MB" <<'PY'
import gzip, hashlib, io, json, os, random, sys, tarfile
work, mb = sys.argv[1], int(sys.argv[2])
r = random.Random(42)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
    with tarfile.open(f"{work}/busybox.tar") as bb:
        for m in bb.getmembers():
            t.addfile(m, bb.extractfile(m) if m.isfile() else None)
    def add(name, data):
        ti = tarfile.TarInfo(name); ti.size = len(data); ti.mtime = 1700000000; ti.mode = 0o644
        t.addfile(ti, io.BytesIO(data))
    for d in ("data", "data/rand", "data/text"):
        ti = tarfile.TarInfo(d); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; ti.mtime = 1700000000
        t.addfile(ti)
    rand_mb = mb * 3 // 4
    for i in range(rand_mb * 8):                       # 128 KiB random files
        add(f"data/rand/r{i:05d}.bin", r.randbytes(128 << 10))
    words = [("".join(r.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(r.randint(2, 9)))) for _ in range(5000)]
    for i in range(mb - rand_mb):                      # 1 MiB text files
        out, n = [], 0
        while n < (1 << 20):
            line = " ".join(r.choice(words) for _ in range(12)) + "\n"; out.append(line); n += len(line)
        add(f"data/text/t{i:04d}.txt", "".join(out).encode()[: 1 << 20])
raw = buf.getvalue()
gz = gzip.compress(raw, compresslevel=6, mtime=0)
lay = f"{work}/layout"; blobs = f"{lay}/blobs/sha256"; os.makedirs(blobs, exist_ok=True)
def put(b):
    d = hashlib.sha256(b).hexdigest(); open(f"{blobs}/{d}", "wb").write(b); return "sha256:" + d
ld = put(gz)
cfg = json.dumps({"architecture": {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine),
    "os": "linux", "config": {"Cmd": ["sh"]}, "rootfs": {"type": "layers", "diff_ids": ["sha256:" + hashlib.sha256(raw).hexdigest()]}}).encode()
cd = put(cfg)
man = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
    "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": len(cfg)},
    "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld, "size": len(gz)}]}).encode()
md = put(man)
open(f"{lay}/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
    "size": len(man), "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}, open(f"{lay}/index.json", "w"))
print(f"image: {len(raw) >> 20} MiB uncompressed, {len(gz) >> 20} MiB gzip", file=sys.stderr)
PY
skopeo copy --quiet --preserve-digests --dest-tls-verify=false "oci:$WORK/layout:v1" "docker://$IMG"

RUNS=${RUNS:-3}
WARMUP=${WARMUP:-0}
if berth_side; then
  start_engine
  b=$(hf berth_pull --prepare "sh -c '$B rmi -f $IMG >/dev/null 2>&1 || true'" "$B pull -q $IMG")
  echo "berth --headless pull ($BIG_MB MiB, one gzip layer): median $b ms"
  record pull_berth "berth --headless pull of a $BIG_MB MiB single-layer image (local registry)" "$b" ms
  stop_engine
fi

if docker_side && docker_available; then
  DOCKER_USED=1
  k=$(hf docker_pull --prepare "sh -c '$DK rmi -f $IMG >/dev/null 2>&1 || true'" "$DK pull -q $IMG")
  $DK rmi -f "$IMG" >/dev/null 2>&1 || true
  src="docker $($DK version --format '{{.Server.Version}}') measured now"
  echo "docker pull: median $k ms"
  record pull_docker "docker pull of a $BIG_MB MiB single-layer image (local registry)" "$k" ms
else
  k=$ANCHOR_PULL_MS
  src="anchor figure ${ANCHOR_PULL_MS} ms"
  echo "docker: $(no_docker_reason); using the anchor figure $k ms"
fi

if berth_side; then
  r=$(ratio "$b" "$k")
  echo "ratio berth/docker = $r ($src; target <= 0.5: $(verdict "$r" '<=' 0.5))"
  record pull_ratio "berth / docker, pull $BIG_MB MiB" "$r" ratio
fi
