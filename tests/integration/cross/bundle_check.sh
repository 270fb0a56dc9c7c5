#!/usr/bin/env bash
# The offline bundle of a release build, for its architecture (issue 21): packaging/bundle/
# bundle.sh from build-release-<arch>/ carries lib/kite/ (every shared library the binaries load
# besides libc's), and its images (pause, kite-dns, kite-ingress, local-path-helper) are of that
# architecture: the image config's architecture (and variant) and `file` of every program in the
# layers. The add-on images' roots are complete: /kite-dns and /kite-ingress run with nothing but their root (under
# qemu-user with the root as the only library prefix; natively in a chroot). install.sh puts the
# bundle into a scratch root, where the binaries load lib/kite/ from <bin>/../lib/kite and run
# (`--version`, emulated); kite-uninstall.sh (in a network namespace of its own, so killall's
# cleanup never meets the host's) leaves the scratch root as it was. No server is started: the
# emulated server is tests/integration/cross/qemu_smoke.sh's, the installed one tests/e2e/install_bundle.sh's.
#
#   bundle_check.sh ARCH RELEASE_DIR   ARCH = arm64 | armhf | amd64
# Exit 77 (skipped) when the release build or the emulator is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/lib.sh"
source "$here/kubectl/lib_kubectl.sh"
root=$(cd "$here/../.." && pwd)

arch=$1 rel=$2
case $arch in
  arm64) triplet=aarch64-linux-gnu qemu=qemu-aarch64-static image_arch=arm64 file_re='ARM aarch64' goarch=arm64 ;;
  armhf) triplet=arm-linux-gnueabihf qemu=qemu-arm-static image_arch=arm/v7 file_re='ARM, EABI5' goarch=arm ;;
  amd64) triplet=x86_64-linux-gnu qemu="" image_arch=amd64 file_re='x86-64' goarch=amd64 ;;
  *) fail "unknown architecture $arch" ;;
esac
if [[ ! -x $rel/bin/kite-server || ! -f $rel/images/kite-dns.tar ]]; then
  echo "SKIP: no release build with images in $rel (bash packaging/dev.sh release $arch)"
  exit 77
fi
if [[ -n $qemu ]] && ! command -v "$qemu" >/dev/null; then
  echo "SKIP: $qemu not installed (packaging/deps.txt, group cross)"
  exit 77
fi
require_tool file
require_tool python3
# A target program, with the target's libc from PREFIX (emulated) or as it is (native).
run_target() {  # run_target PREFIX PROGRAM ARGS...
  local prefix=$1
  shift
  if [[ -n $qemu ]]; then "$qemu" -L "$prefix" "$@"; else "$@"; fi
}

# --- the bundle -----------------------------------------------------------------------------------
"$root/packaging/bundle/bundle.sh" --bin-dir "$rel/bin" --images-dir "$rel/images" --arch "$arch" \
  --out "$TEST_TMP/out" >/dev/null
tar -C "$TEST_TMP" -xzf "$TEST_TMP/out/kite-bundle-$arch.tar.gz"
B=$TEST_TMP/kite-$arch
expect_exact "the bundle's MANIFEST checks" "ok" -- sh -c "cd '$B' && sha256sum -c --quiet MANIFEST && echo ok"
expect_exact "VERSION names $arch" "$arch" -- awk '{print $3}' "$B/VERSION"
# kite-cni: a static program (it starts once per pod and plugin: nothing to load).
expect "bin/kite-cni is a static $arch program" "$file_re.*statically linked" -- file -b "$B/bin/kite-cni"
mkdir -p "$TEST_TMP/cni" && ln -sf "$B/bin/kite-cni" "$TEST_TMP/cni/bridge"
cni_version=$(CNI_COMMAND=VERSION run_target "/usr/$triplet" "$TEST_TMP/cni/bridge" </dev/null 2>&1 || true)
expect "kite-cni run as bridge answers VERSION (on the target's CPU)" '"supportedVersions":\["0.3.0","0.3.1","0.4.0","1.0.0"\]' -- echo "$cni_version"
for bin in kite-server kite-agent; do
  expect "bin/$bin is a $arch program" "$file_re" -- file -b "$B/bin/$bin"
  for lib in $(readelf -d "$B/bin/$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
    [[ $lib == libc.so.6 || $lib == libm.so.6 || $lib == ld-linux* ]] && continue
    expect "lib/kite/ carries $lib ($bin), a $arch library" "$file_re" -- file -b -L "$B/lib/kite/$lib"
  done
done

# --- the images: the architecture in the config and of every program in the layer ----------------
for img in pause kite-dns kite-ingress local-path-helper; do
  tarball=$B/images/$img.tar
  dir=$TEST_TMP/img-$img
  mkdir -p "$dir/rootfs"
  tar -C "$dir" -xf "$tarball"
  config=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[0]["Config"])' "$dir/manifest.json")
  expect_exact "$img.tar's config: linux/$image_arch" "linux/$image_arch" -- python3 -c 'import json,sys
c = json.load(open(sys.argv[1]))
print(c["os"] + "/" + c["architecture"] + ("/" + c["variant"] if c.get("variant") else ""))' "$dir/$config"
  for layer in $(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))[0]["Layers"]))' "$dir/manifest.json"); do
    tar -C "$dir/rootfs" -xf "$dir/$layer"
  done
  programs=$(cd "$dir/rootfs" && find . -type f \( -perm -u+x -o -name '*.so*' \) | LC_ALL=C sort)
  [[ -n $programs ]] || fail "$img.tar's layer holds no program"
  for p in $programs; do
    expect "$img: ${p#.} is built for $arch" "$file_re" -- file -b "$dir/rootfs/$p"
  done
done
for addon in kite-dns kite-ingress; do
  root=$TEST_TMP/img-$addon/rootfs
  if [[ -n $qemu ]]; then
    # The image root is qemu's only library prefix: a library it lacks is not found anywhere.
    expect "$addon runs from its image's root alone" "Usage: $addon" -- "$qemu" -L "$root" "$root/$addon" --help
  else
    expect "$addon runs from its image's root alone" "Usage: $addon" -- chroot "$root" /$addon --help
  fi
done

# --- install into a scratch root, run the installed binaries, uninstall ---------------------------
SR=$TEST_TMP/root SD=$TEST_TMP/data
mkdir -p "$SR/usr/local/bin" "$SR/etc/systemd/system"
before=$(cd "$SR" && find . | LC_ALL=C sort)
out=$(INSTALL_KITE_ROOT=$SR KITE_DATA_DIR=$SD INSTALL_KITE_SKIP_CHECKS=true sh "$B/install.sh" 2>&1) ||
  fail "install.sh: $out"
for f in usr/local/bin/kite-server usr/local/bin/kite-agent usr/local/bin/kite-cni usr/local/bin/kite-uninstall.sh; do
  [[ -x $SR/$f ]] || fail "install.sh did not write $f"
done
expect_exact "install.sh put lib/kite/ beside the bin dir" "$(ls "$B/lib/kite")" -- ls "$SR/usr/local/lib/kite"
expect_exact "install.sh put the $arch images where the agent imports them" "kite-dns.tar kite-ingress.tar local-path-helper.tar pause.tar" -- \
  sh -c "ls '$SD/agent/images' | xargs"
prefix=/usr/$triplet
for bin in kite-server kite-agent; do
  installed=$SR/usr/local/bin/$bin
  # The loader's own account of where each library came from (what ldd prints).
  resolved=$(LD_TRACE_LOADED_OBJECTS=1 run_target "$prefix" "$installed" 2>&1 || true)
  for path in "$SR"/usr/local/lib/kite/*; do
    lib=${path##*/}
    readelf -d "$installed" | grep -q "NEEDED.*\[$lib\]" || continue
    re=$(sed 's/[.+]/\\&/g' <<<"$lib")
    expect "installed $bin loads $lib from <bin>/../lib/kite" "$re => $SR/usr/local/bin/\.\./lib/kite/$re " -- echo "$resolved"
  done
  expect "installed $bin --version runs: linux/$goarch" "^$bin v.*linux/$goarch\)$" -- run_target "$prefix" "$installed" --version
done
# Its own network namespace: killall's interface and iptables clean-up only ever sees that one.
out=$(unshare --net "$SR/usr/local/bin/kite-uninstall.sh" 2>&1) || fail "kite-uninstall.sh: $out"
expect_exact "uninstall leaves the scratch root as before the install" "$before" -- sh -c "cd '$SR' && find . | LC_ALL=C sort"
expect_exact "uninstall removes the data dir" "" -- sh -c "ls -d '$SD' 2>/dev/null || true"

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
