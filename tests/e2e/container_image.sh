#!/usr/bin/env bash
# kite's container image (the Dockerfile): built with buildah from the repo on a Debian base made
# offline from the Debian mirror with debootstrap (no registry), run privileged with podman — the
# server and its embedded agent in one container — and driven with the real kubectl: /readyz,
# the node Ready, a Deployment's pod Running from the bundled images.
# buildah and podman keep their images under this test's dir (--root/--runroot, vfs), and the
# container joins a network namespace this test made (--network ns:), so neither the host's
# image store nor its interfaces, routes or iptables rules change. The debootstrapped base is
# kept in the build dir ($KITE_IMAGES/debian-bookworm-base.tar) for the next run; the compile
# inside reuses ccache through a mounted cache dir. Slow (debootstrap, apt in the build stage, a
# build of kite-server inside the container): label "image", and it runs only when asked,
# KITE_IMAGE_TEST=1 (`KITE_IMAGE_TEST=1 ctest -L image`), so the default suite keeps its budget.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"

[[ ${KITE_IMAGE_TEST:-} == 1 ]] || skip "the container image test runs with KITE_IMAGE_TEST=1 (slow: ctest -L image)"
[[ $(id -u) -eq 0 ]] || skip "needs root"
for t in buildah podman debootstrap; do command -v "$t" >/dev/null || skip "$t is not installed"; done
sweep_leftovers
STORE=(--root "$TEST_TMP/storage" --runroot "$TEST_TMP/run" --storage-driver vfs)
PODMAN=(podman "${STORE[@]}" --cgroup-manager cgroupfs --events-backend file)
NAME=kite-e2e-image-$$
_image_cleanup() {
  "${PODMAN[@]}" rm -f "$NAME" >/dev/null 2>&1 || true
  # The vfs layers are plain directories; the container's mounts under the store go first.
  local m
  for m in $(awk -v d="$TEST_TMP/" 'index($5, d) == 1 {print $5}' /proc/self/mountinfo | sort -r); do umount -l "$m" 2>/dev/null; done
}
trap '_image_cleanup; _e2e_cleanup' EXIT

# The base: debootstrap from the Debian mirror, once.
BASE_TAR=${KITE_IMAGE_BASE:-$KITE_IMAGES/debian-bookworm-base.tar}
if [[ ! -s $BASE_TAR ]]; then
  log "debootstrap bookworm (minbase) from the Debian mirror"
  debootstrap --variant=minbase bookworm "$TEST_TMP/rootfs" http://deb.debian.org/debian >"$TEST_TMP/debootstrap.log" 2>&1 ||
    fail "debootstrap: $(tail -5 "$TEST_TMP/debootstrap.log")"
  tar -C "$TEST_TMP/rootfs" --numeric-owner -cf "$BASE_TAR.tmp" . && mv "$BASE_TAR.tmp" "$BASE_TAR"
  rm -rf "$TEST_TMP/rootfs"
fi
"${PODMAN[@]}" import "$BASE_TAR" localhost/kite-e2e-base:bookworm >/dev/null
echo "ok - a Debian base made with debootstrap, imported"

# The image, from the repo.
CCACHE=${CCACHE_DIR:-$HOME/.cache/ccache}
mkdir -p "$CCACHE"
buildah "${STORE[@]}" bud --isolation chroot --network host --pull-never --layers=false \
  --build-arg BASE=localhost/kite-e2e-base:bookworm -v "$CCACHE:/ccache" -t localhost/kite:e2e \
  -f "$REPO/Dockerfile" "$REPO" >"$TEST_TMP/buildah.log" 2>&1 || fail "buildah bud: $(tail -20 "$TEST_TMP/buildah.log")"
echo "ok - buildah built the Dockerfile from the repo"

# Run it privileged in a namespace of ours (node0 10.99.0.1, as the e2e nodes).
new_netns img 10.99.0.1
NS=$REPLY
"${PODMAN[@]}" run -d --privileged --name "$NAME" --network "ns:/run/netns/$NS" --hostname kite-image \
  localhost/kite:e2e --etcd-listen=127.0.0.1:2379 --metrics-listen=127.0.0.1:2381 \
  --write-kubeconfig=/var/lib/kite/kubeconfig.yaml >/dev/null
KC=$TEST_TMP/kubeconfig.yaml
eventually "the container wrote its admin kubeconfig" 60 \
  sh -c "${PODMAN[*]} exec '$NAME' cat /var/lib/kite/kubeconfig.yaml >'$KC' 2>/dev/null && [ -s '$KC' ]"
k_img() { kubectl_in "$NS" "$KC" --server https://10.99.0.1:6443 "$@"; }
eventually_eq "/readyz from kubectl" 60 ok k_img get --raw /readyz
eventually_eq "the container's node Ready" 120 True \
  k_img get node kite-image -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
eventually_eq "kite-dns Running (images from the bundle's archives)" 180 Running \
  k_img get pods -n kube-system -l k8s-app=kube-dns -o 'jsonpath={.items[0].status.phase}'
echo "PASS"
