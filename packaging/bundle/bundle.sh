#!/usr/bin/env bash
# Builds kite's offline install bundle for one architecture, from a build's outputs alone (no
# network):
#   packaging/bundle/bundle.sh [--bin-dir build/bin] [--images-dir build/images] [--arch amd64]
#                              [--out build/bundle]
# writes <out>/kite-bundle-<arch>.tar.gz holding kite-<arch>/:
#   bin/kite-server, bin/kite-agent      the binaries (stripped copies)
#   bin/kite-cni                         the pods' bridge, loopback and portmap CNI plugins
#                                        (static; the agent runs it from its own folder)
#   lib/kite/                            the shared libraries a release build's binaries load
#                                        through their $ORIGIN/../lib/kite run path (<bin-dir>/../lib/kite,
#                                        packaging/dev.sh release); absent for a build linked
#                                        against the system's libraries
#   images/pause.tar, images/kite-dns.tar, images/kite-ingress.tar, images/local-path-helper.tar  the images the cluster
#                                        needs, as docker-archive tarballs of the bundle's
#                                        architecture that the agent imports from <data-dir>/agent/images/
#   systemd/kite.service                 the unit template install.sh fills in
#   install.sh, kite-killall.sh, kite-uninstall.sh
#   MANIFEST                             sha256sum lines of every other file (install.sh checks it)
#   VERSION                              the version and architecture
# --bin-dir/--images-dir/--arch take a cross build's outputs the same way (build-release-<arch>/bin,
# build-release-<arch>/images).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin_dir=$root/build/bin images_dir=$root/build/images out=$root/build/bundle arch=""
strip=${STRIP:-strip}
while [[ $# -gt 0 ]]; do
  case $1 in
    --bin-dir) bin_dir=$2; shift 2 ;;
    --images-dir) images_dir=$2; shift 2 ;;
    --arch) arch=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) echo "usage: $0 [--bin-dir DIR] [--images-dir DIR] [--arch ARCH] [--out DIR]" >&2; exit 2 ;;
  esac
done
if [[ -z $arch ]]; then
  case $(uname -m) in
    x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; armv7l|armv6l) arch=armhf ;; *) arch=$(uname -m) ;;
  esac
fi
for f in "$bin_dir/kite-server" "$bin_dir/kite-agent" "$bin_dir/kite-cni" "$images_dir/pause.tar" "$images_dir/kite-dns.tar" \
  "$images_dir/kite-ingress.tar"; do
  [[ -f $f ]] || { echo "bundle.sh: $f missing (build kite-server, kite-agent, kite-cni and kite-images first)" >&2; exit 1; }
done
version=$(sed -n 's/^project(kite VERSION \([0-9.]*\).*/\1/p' "$root/CMakeLists.txt" | head -1)

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
top=$work/kite-$arch
mkdir -p "$top/bin" "$top/images" "$top/systemd"
for b in kite-server kite-agent kite-cni; do
  cp "$bin_dir/$b" "$top/bin/$b"
  # Stripped unless already (a cross build passes its own STRIP; a foreign binary stays as is).
  "$strip" "$top/bin/$b" 2>/dev/null || true
done
if [[ -d $bin_dir/../lib/kite ]]; then
  mkdir -p "$top/lib/kite"
  cp "$bin_dir/../lib/kite/"* "$top/lib/kite/"
fi
cp "$images_dir/pause.tar" "$images_dir/kite-dns.tar" "$images_dir/kite-ingress.tar" "$top/images/"
if [[ -f $images_dir/local-path-helper.tar ]]; then cp "$images_dir/local-path-helper.tar" "$top/images/"; fi
cp "$here/kite.service" "$top/systemd/kite.service"
cp "$here/install.sh" "$here/kite-killall.sh" "$here/kite-uninstall.sh" "$top/"
chmod 755 "$top/install.sh" "$top/kite-killall.sh" "$top/kite-uninstall.sh" "$top/bin/"*
printf 'kite %s %s\n' "${version:-unknown}" "$arch" >"$top/VERSION"
(cd "$top" && find . -type f ! -name MANIFEST -printf '%P\n' | LC_ALL=C sort | xargs sha256sum >MANIFEST)
mkdir -p "$out"
# Reproducible: sorted names, fixed owner and time, no gzip timestamp.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$work" -cf - "kite-$arch" |
  gzip -n -9 >"$out/kite-bundle-$arch.tar.gz.tmp"
mv "$out/kite-bundle-$arch.tar.gz.tmp" "$out/kite-bundle-$arch.tar.gz"
echo "$out/kite-bundle-$arch.tar.gz ($(du -k "$out/kite-bundle-$arch.tar.gz" | cut -f1) KiB)"
