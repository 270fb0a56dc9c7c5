#!/usr/bin/env bash
# kite's developer entry point, used by the README, .ci/run and the Dockerfile.
#
#   packaging/dev.sh deps    install missing Debian packages from packaging/deps.txt (and, for the
#                            test group, the npm packages tests/clients/js pins)
#   packaging/dev.sh build   deps + configure + build (build/bin/)
#   packaging/dev.sh test    build + the whole test suite (unit, integration, fuzz smoke)
#   packaging/dev.sh fuzz    build and run only the fuzz targets (as the test command does)
#   packaging/dev.sh run     build + start kite-server with its embedded defaults
#   packaging/dev.sh release [amd64|arm64|armhf]   self-contained, stripped kite-server and
#                            kite-agent for that architecture (default: this machine's) in
#                            build-release-<arch>/bin/, the shared libraries they still load in
#                            build-release-<arch>/lib/kite/, the target's images (pause, kite-dns, kite-ingress,
#                            local-path-helper) in build-release-<arch>/images/; for another
#                            architecture also kite-time64-tests (tests/cross/) in bin/
#   packaging/dev.sh sysroot <arch>   unpack the target's Debian libraries for a cross build
#
# Environment: KITE_BUILD_DIR (default build), KITE_FUZZ_RUNS (default 300000 inputs per fuzz
# target with a fixed seed, so a run is reproducible; 0 skips fuzzing; explore longer by hand,
# see tests/fuzz/README.md), KITE_FUZZ_BIG_RUNS (default 200 inputs of up to 3 MiB for each
# parser of request bodies),
# KITE_DEPS_GROUPS (default "build run test"), KITE_CROSS_ARCHS (the release builds `test` makes
# for tests/integration/cross/qemu_smoke.sh, default "arm64": a cold unity build of it is ~19 CPU
# minutes, ~10 min of CI's 2 cores; "arm64 armhf" for both, "" for none: their tests then skip),
# KITE_SYSROOT_DIR (default ~/.cache/kite-sysroot).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=${KITE_BUILD_DIR:-build}
export DEBIAN_FRONTEND=noninteractive
export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
# CI builds in a fresh clone at a new path each time: hash paths relative to the checkout so the
# cache still hits.
export CCACHE_BASEDIR=$root CCACHE_NOHASHDIR=true

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

deps() {
  local groups=${KITE_DEPS_GROUPS:-"build run test"} want=() missing=()
  while read -r group pkg cmd; do
    [[ -z "$group" || "$group" == \#* ]] && continue
    [[ -n "${cmd:-}" ]] && command -v "$cmd" >/dev/null && continue  # provided some other way
    [[ " $groups " == *" $group "* ]] && want+=("$pkg")
  done < packaging/deps.txt
  for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    sudo_ apt-get update -qq
    sudo_ apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
  fi
  if [[ " $groups " == *" test "* ]]; then js_client; fi
}

# The JavaScript client the tests in tests/clients/ use, from the npm registry at the version
# package-lock.json pins, into tests/clients/js/node_modules (again only when the lock changed).
# Not fatal: without it only the clients_js test fails ("required tool not found").
js_client() {
  local dir=tests/clients/js
  [ -f "$dir/package-lock.json" ] || return 0
  if ! command -v npm >/dev/null; then
    echo "warning: npm not found (nodejs from packaging/deps.txt; Debian's own nodejs needs the npm package)" >&2
    return 0
  fi
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.package-lock.json.installed" 2>/dev/null; then
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.package-lock.json.installed) ||
      echo "warning: npm ci in $dir failed; the clients_js test will fail" >&2
  fi
}

# A cross build's libraries: the target architecture's Debian packages (deps.txt's sysroot
# group) downloaded with apt-get and unpacked into $KITE_SYSROOT_DIR/<arch>, not installed.
# Installing them as multiarch packages would need the host's amd64 packages at exactly the
# same versions (the -security and point-release mirrors often differ per architecture) and
# would upgrade or downgrade the host's own headers under every other build on the machine.
sysroot() {
  local arch=$1 dir=${KITE_SYSROOT_DIR:-$HOME/.cache/kite-sysroot}/$1 pkgs=()
  while read -r group pkg _; do
    [[ "$group" == sysroot ]] && pkgs+=("$pkg:$arch")
  done < packaging/deps.txt
  local want="${pkgs[*]}"
  [ -f "$dir/.kite-packages" ] && [ "$(cat "$dir/.kite-packages")" = "$want" ] && return 0
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    sudo_ dpkg --add-architecture "$arch"
    sudo_ apt-get update -qq || true  # a foreign index half-synced on the mirror is not fatal
  fi
  local debs; debs=$(mktemp -d); chmod 755 "$debs"
  chown _apt "$debs" 2>/dev/null || true  # apt-get download fetches as _apt
  (cd "$debs" && apt-get download -qq "${pkgs[@]}")
  rm -rf "$dir"; mkdir -p "$dir"
  for d in "$debs"/*.deb; do dpkg-deb -x "$d" "$dir"; done
  rm -rf "$debs"
  # Absolute symlinks (libz.so -> /lib/...) would point into the host: make them relative.
  find "$dir" -type l -lname '/*' | while read -r l; do ln -sfr "$dir$(readlink "$l")" "$l"; done
  echo "$want" > "$dir/.kite-packages"
}

host_arch() { dpkg --print-architecture; }

# Self-contained release binaries (cmake/SelfContained.cmake) for one architecture, every one
# built alike: a unity build (52 compiler runs instead of ~270: ~10 min cold on 2 cores), without
# -g (stripped anyway; halves the objects in the cache), each function in its own section so the
# linker's --gc-sections drops what nothing calls (amd64 server 26.5 MiB -> 24.3 MiB).
release() {
  local arch=${1:-$(host_arch)} dir args=()
  dir=build-release-$arch
  args=(-DKITE_SELF_CONTAINED=ON -DKITE_TESTS=OFF -DKITE_BENCH=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo
        "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O2 -DNDEBUG -ffunction-sections -fdata-sections" -DCMAKE_UNITY_BUILD=ON)
  if [ "$arch" != "$(host_arch)" ]; then
    local triplet
    case $arch in
      arm64) triplet=aarch64-linux-gnu ;;
      armhf) triplet=arm-linux-gnueabihf ;;
      *) echo "release: unknown architecture $arch (amd64, arm64, armhf)" >&2; return 2 ;;
    esac
    KITE_DEPS_GROUPS=cross deps
    sysroot "$arch"
    args+=(-DCMAKE_TOOLCHAIN_FILE=cmake/toolchain-$triplet.cmake
           -DKITE_SYSROOT="${KITE_SYSROOT_DIR:-$HOME/.cache/kite-sysroot}/$arch")
  else
    KITE_DEPS_GROUPS=build deps
  fi
  cmake -S . -B "$dir" -G Ninja "${args[@]}" >/dev/null
  local targets=(kite-server kite-agent kite-cni kite-images)
  # A cross build also makes the tests that can only fail on the target (tests/cross/), which
  # tests/integration/cross/qemu_smoke.sh runs under qemu.
  [ "$arch" != "$(host_arch)" ] && targets+=(kite-time64-tests)
  ninja -C "$dir" -j"$(nproc)" "${targets[@]}"
  "$dir/bin/kite-server" --version 2>/dev/null || true  # native only; cross_qemu runs the others
  ls -l "$dir/bin/kite-server" "$dir/bin/kite-agent" "$dir/bin/kite-cni" "$dir/lib/kite/"
}

build() {
  deps
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$build" -j"$(nproc)"
}

# One fuzz target's run in a scratch directory (a throwaway corpus, or the big seeds' copy);
# prints the log's tail when the target fails or finds something. fuzz() runs nproc at a time:
# libFuzzer is single-threaded, and CI's 2 cores halve the phase (5.5 -> ~3 min).
fuzz_one() {  # fuzz_one LABEL BINARY DIR ARGS...
  local label=$1 bin=$2 dir=$3 log; shift 3
  log=$(mktemp)
  echo "fuzzing $label"
  if ! (cd "$dir" && "$bin" -seed=1 "$@" "$dir" >"$log" 2>&1); then
    echo "FAILED: $label"; tail -50 "$log"; rm -f "$log"; return 1
  fi
  rm -f "$log"
}

fuzz() {
  local runs=${KITE_FUZZ_RUNS:-300000}
  [ "$runs" = 0 ] && return 0
  [ -f tests/fuzz/CMakeLists.txt ] || return 0
  CC=clang-19 CXX=clang++-19 cmake -S . -B "$build-fuzz" -G Ninja -DKITE_FUZZ=ON -DKITE_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$build-fuzz" -j"$(nproc)" fuzzers
  # The parsers of request bodies also run at the real body limit (3 MiB): a few hundred runs
  # from seeds of that size (tests/fuzz/big_seeds.py), which the 64 KiB runs never reach.
  local big_runs=${KITE_FUZZ_BIG_RUNS:-200} work jobs=() failed=0
  work=$(mktemp -d)
  python3 tests/fuzz/big_seeds.py "$work/big"
  for f in "$build-fuzz"/bin/*_fuzz; do
    [ -x "$f" ] || continue
    local name bin; name=$(basename "$f"); bin=$(realpath "$f")
    mkdir "$work/$name"
    jobs+=("$name: $runs inputs, seed 1|$bin|$work/$name|-runs=$runs|-max_len=65536")
    [ -d "$work/big/$name" ] && jobs+=("$name at the body limit: $big_runs inputs of up to 3 MiB, seed 1|$bin|$work/big/$name|-runs=$big_runs|-max_len=3145728|-len_control=0|-rss_limit_mb=4096|-timeout=60")
  done
  # nproc jobs at a time; wait -n reports each job's status as it ends.
  local running=0 job
  for job in "${jobs[@]}"; do
    IFS='|' read -r -a parts <<<"$job"
    fuzz_one "${parts[@]}" &
    running=$((running + 1))
    if [ "$running" -ge "$(nproc)" ]; then wait -n || failed=1; running=$((running - 1)); fi
  done
  while [ "$running" -gt 0 ]; do wait -n || failed=1; running=$((running - 1)); done
  rm -rf "$work"
  return $failed
}

case "${1:-}" in
  deps) deps ;;
  build) build ;;
  test)
    build
    # The cross builds the emulated smoke test (tests/integration/cross/qemu_smoke.sh) runs:
    # arm64 by default; both ARM variants cold would not fit CI's 45 minutes (bench/RESULTS.md).
    for arch in ${KITE_CROSS_ARCHS-arm64}; do release "$arch"; done
    # Unit and integration suites run in parallel (ctest -j); slow suites carry their own labels.
    (cd "$build" && ctest --output-on-failure -j"$(nproc)" --timeout 600)
    fuzz
    ;;
  fuzz) deps; fuzz ;;
  release) release "${2:-}" ;;
  sysroot) [ -n "${2:-}" ] || { echo "usage: $0 sysroot arm64|armhf" >&2; exit 2; }; sysroot "$2" ;;
  run)
    build
    # The node's images without a registry: kite's pause image and the busybox test image go
    # where the agent imports archives from (<data-dir>/agent/images/), as the offline bundle
    # will place them.
    data_dir=/var/lib/kite
    args=("${@:2}")
    for i in "${!args[@]}"; do
      case ${args[$i]} in
        --data-dir=*) data_dir=${args[$i]#--data-dir=} ;;
        --data-dir) data_dir=${args[$((i + 1))]:-$data_dir} ;;
      esac
    done
    mkdir -p "$data_dir/agent/images"
    cp -u "$build"/images/*.tar "$data_dir/agent/images/"
    exec "$build/bin/kite-server" "${@:2}"
    ;;
  *) echo "usage: $0 deps|build|test|fuzz|run [kite-server flags]|release [arch]|sysroot arch" >&2; exit 2 ;;
esac
