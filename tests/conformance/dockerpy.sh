#!/usr/bin/env bash
# Runs docker-py 7.1.0's own integration suite (tests/integration of its repository at that tag)
# against the engine at DOCKER_HOST: berth's, or dockerd's to compare. The swarm, service, node,
# plugin, secret and config files are left out (no swarm on either side). Nothing can be pulled
# here, so the images the suite expects are a busybox-static rootfs imported under their names.
#
#   DOCKER_HOST=unix:///tmp/be/b.sock tests/conformance/dockerpy.sh [pytest args...]
#
# Needs: a venv with docker==7.1.0 and pytest (PY, default /opt/dpy/bin/python), the suite's
# source (DOCKERPY_SRC, default /tmp/dockerpy: `git archive 7.1.0` of docker/docker-py),
# busybox-static and the docker CLI. Prints pytest's summary; JUnit XML in $OUT (optional).
set -euo pipefail
PY=${PY:-/opt/dpy/bin/python}
SRC=${DOCKERPY_SRC:-/tmp/dockerpy}
: "${DOCKER_HOST:?set DOCKER_HOST to the engine under test}"
export DOCKER_HOST

rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
mkdir -p "$rootfs"/{bin,etc,tmp,root,var,usr/bin}
chmod 1777 "$rootfs/tmp"
cp "$(command -v busybox)" "$rootfs/bin/busybox"
for a in $("$rootfs/bin/busybox" --list); do
  [ "$a" = busybox ] || ln -sf busybox "$rootfs/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
id=$(tar -C "$rootfs" -c . | docker import -c 'CMD ["/bin/sh"]' - alpine:3.10)
for tag in alpine:latest busybox:latest busybox:buildroot-2014.02 hello-world:latest; do
  docker tag "$id" "$tag"
done

cd "$SRC"
skip=()
for f in api_swarm_test api_service_test models_nodes_test models_services_test models_swarm_test \
  api_plugin_test api_secret_test api_config_test; do
  skip+=(--ignore "tests/integration/$f.py")
done
# The credentials tests (docker-credential helpers, no engine) leave the process's environment
# changed: the tests after them no longer follow DOCKER_HOST and silently reach the default
# socket. They run on their own, last, with the client-side context tests.
rc=0
"$PY" -m pytest -q -p no:cacheprovider --timeout 120 "${skip[@]}" \
  --ignore tests/integration/context_api_test.py --ignore tests/integration/credentials ${OUT:+--junitxml "$OUT"} tests/integration "$@" || rc=$?
"$PY" -m pytest -q -p no:cacheprovider --timeout 120 ${OUT:+--junitxml "${OUT%.xml}-contexts.xml"} \
  tests/integration/context_api_test.py tests/integration/credentials || rc=$?
exit $rc
