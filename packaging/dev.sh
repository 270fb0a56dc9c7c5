#!/usr/bin/env bash
# kite's developer entry point, used by the README, .ci/run and the Dockerfile.
#
#   packaging/dev.sh deps    install missing Debian packages from packaging/deps.txt (and, for the
#                            test group, the npm packages tests/clients/js pins)
#   packaging/dev.sh build   deps + configure + build (build/bin/)
#   packaging/dev.sh test    build + the whole test suite (unit, integration, fuzz smoke)
#   packaging/dev.sh fuzz    build and run only the fuzz targets (as the test command does)
#   packaging/dev.sh run     build + start kite-server with its embedded defaults
#
# Environment: KITE_BUILD_DIR (default build), KITE_FUZZ_RUNS (default 300000 inputs per fuzz
# target with a fixed seed, so a run is reproducible; 0 skips fuzzing; explore longer by hand,
# see tests/fuzz/README.md), KITE_FUZZ_BIG_RUNS (default 200 inputs of up to 3 MiB for each
# parser of request bodies),
# KITE_DEPS_GROUPS (default "build run test").
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

build() {
  deps
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$build" -j"$(nproc)"
}

fuzz() {
  local runs=${KITE_FUZZ_RUNS:-300000}
  [ "$runs" = 0 ] && return 0
  [ -f tests/fuzz/CMakeLists.txt ] || return 0
  CC=clang-19 CXX=clang++-19 cmake -S . -B "$build-fuzz" -G Ninja -DKITE_FUZZ=ON -DKITE_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  ninja -C "$build-fuzz" -j"$(nproc)" fuzzers
  local failed=0
  for f in "$build-fuzz"/bin/*_fuzz; do
    [ -x "$f" ] || continue
    local corpus; corpus=$(mktemp -d)
    echo "fuzzing $(basename "$f"): $runs inputs, seed 1"
    local bin; bin=$(realpath "$f")
    if ! (cd "$corpus" && "$bin" -seed=1 -runs="$runs" -max_len=65536 "$corpus" >"$corpus.log" 2>&1); then
      tail -50 "$corpus.log"; failed=1
    fi
    rm -rf "$corpus" "$corpus.log"
  done
  # The parsers of request bodies again at the real body limit (3 MiB): a few hundred runs from
  # seeds of that size (tests/fuzz/big_seeds.py), which the 64 KiB runs above never reach.
  local big_runs=${KITE_FUZZ_BIG_RUNS:-200} seeds; seeds=$(mktemp -d)
  python3 tests/fuzz/big_seeds.py "$seeds"
  for dir in "$seeds"/*/; do
    local name; name=$(basename "$dir")
    local bin="$build-fuzz/bin/$name"
    [ -x "$bin" ] || continue
    bin=$(realpath "$bin")
    echo "fuzzing $name at the body limit: $big_runs inputs of up to 3 MiB, seed 1"
    if ! (cd "$dir" && "$bin" -seed=1 -runs="$big_runs" -max_len=3145728 -len_control=0 -rss_limit_mb=4096 \
          -timeout=60 "$dir" >"${dir%/}.log" 2>&1); then
      tail -50 "${dir%/}.log"; failed=1
    fi
  done
  rm -rf "$seeds"
  return $failed
}

case "${1:-}" in
  deps) deps ;;
  build) build ;;
  test)
    build
    # Unit and integration suites run in parallel (ctest -j); slow suites carry their own labels.
    (cd "$build" && ctest --output-on-failure -j"$(nproc)" --timeout 600)
    fuzz
    ;;
  fuzz) deps; fuzz ;;
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
  *) echo "usage: $0 deps|build|test|fuzz|run [kite-server flags]" >&2; exit 2 ;;
esac
