#!/usr/bin/env bash
# A release build of another architecture, run under qemu-user-static on this machine (issue
# 21): the binaries are self-contained (they load only libc and what lib/kite/ holds),
# `kite-server --version` names the architecture, and the emulated server starts on a fresh
# data dir (no embedded agent: that needs a real containerd of the target's architecture),
# answers /readyz with 200, takes a Deployment from the real kubectl (and its controllers make
# the ReplicaSet), serves etcdctl put/get on its etcd endpoint and stops cleanly on SIGTERM.
# Before that, the unit tests of times past 2038 built for the target (kite-time64-tests) pass.
#
#   qemu_smoke.sh ARCH RELEASE_DIR   ARCH = arm64 | armhf | amd64 (native, no emulator)
# RELEASE_DIR is packaging/dev.sh release's build-release-<arch>. Exit 77 (skipped) when that
# build or the emulator is missing; `packaging/dev.sh test` makes both.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
source "$here/lib.sh"
source "$here/kubectl/lib_kubectl.sh"

arch=$1 rel=$2
case $arch in
  arm64) emu=(qemu-aarch64-static -L /usr/aarch64-linux-gnu) goarch=arm64 machine=AArch64 ;;
  armhf) emu=(qemu-arm-static -L /usr/arm-linux-gnueabihf) goarch=arm machine=ARM ;;
  amd64) emu=() goarch=amd64 machine=X86-64 ;;
  *) fail "unknown architecture $arch" ;;
esac
server=$rel/bin/kite-server agent=$rel/bin/kite-agent
if [[ ! -x $server || ! -x $agent ]]; then
  echo "SKIP: no release build in $rel (bash packaging/dev.sh release $arch)"
  exit 77
fi
if ((${#emu[@]})) && ! command -v "${emu[0]}" >/dev/null; then
  echo "SKIP: ${emu[0]} not installed (packaging/deps.txt, group cross)"
  exit 77
fi
require_tool "$ETCDCTL"
require_tool "${CURL:-curl}"

# Self-contained: the target's ELF, stripped, needing only libc's libraries and the ones
# bundled in lib/kite/ (found through the $ORIGIN run path).
for bin in "$server" "$agent"; do
  name=$(basename "$bin")
  hdr=$(readelf -h "$bin")
  expect "$name is a $machine executable" "Machine: +.*$machine" -- echo "$hdr"
  syms=$(readelf -S "$bin" | grep -c '\.symtab' || true)
  expect_exact "$name is stripped" "0" -- echo "$syms"
  needed=$(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  foreign=$(grep -Ev '^(libc\.so\.6|libm\.so\.6|ld-linux.*|libstdc\+\+\.so\.6|libgcc_s\.so\.1|libprometheus-cpp-core\.so\.[0-9.]+)$' <<<"$needed" || true)
  expect_exact "$name needs only libc and lib/kite/" "" -- echo "$foreign"
  rpath=$(readelf -d "$bin" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
  expect "$name finds lib/kite/ beside it" '\$ORIGIN/\.\./lib/kite' -- echo "$rpath"
  for lib in $needed; do
    [[ $lib == libc.so.6 || $lib == libm.so.6 || $lib == ld-linux* ]] && continue
    expect "lib/kite/ has $lib for $name" "." -- ls "$rel/lib/kite/$lib"
  done
done

# Times past 2038 on the target (tests/unit/time64_test.cc, built for it as kite-time64-tests):
# on armhf, whose Debian 12 libraries keep a 32-bit time_t, this is where a wrapped time shows.
if ((${#emu[@]})); then
  tests=$rel/bin/kite-time64-tests
  expect "kite-time64-tests was built for $arch (packaging/dev.sh release $arch)" "." -- ls "$tests"
  [[ -x $tests ]] && expect "times past 2038 format, parse and stat on $arch" "\[  PASSED  \] [0-9]+ tests" -- \
    env TEST_TMPDIR="$TEST_TMP/" "${emu[@]}" "$tests"
fi

# The emulated programs through a wrapper, so lib.sh's helpers start them like native ones.
wrap() {
  printf '#!/bin/sh\nexec %s "%s" "$@"\n' "${emu[*]}" "$1" >"$TEST_TMP/$(basename "$1")"
  chmod +x "$TEST_TMP/$(basename "$1")"
  echo "$TEST_TMP/$(basename "$1")"
}
KITE_SERVER=$(wrap "$server")
expect "kite-server --version names version, commit and linux/$goarch" \
  "^kite-server v[0-9]+\.[0-9]+\.[0-9]+ \(commit [0-9a-f]+(-dirty)?, linux/$goarch\)$" -- "$KITE_SERVER" --version
expect "kite-agent --version names linux/$goarch" "^kite-agent v.*linux/$goarch\)$" -- "$(wrap "$agent")" --version

# Start on a fresh data dir; emulation makes the first start (key generation, schema) slower
# than lib_kubectl's 30 s allow, hence the loop here.
API_PORT=$(free_port) PORT=$(free_port) MPORT=$(free_port)
echo "{}" >"$TEST_TMP/empty-config.yaml"
started=$SECONDS
_spawn "$TEST_TMP/kite.log" "$KITE_SERVER" --config "$TEST_TMP/empty-config.yaml" --data-dir "$TEST_TMP/data" \
  --etcd-listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$MPORT" --bind-address 127.0.0.1 \
  --https-listen-port "$API_PORT" --write-kubeconfig "$TEST_TMP/kubeconfig" --disable-agent
SERVER_PID=$LAST_PID
deadline=$((SECONDS + 240))
until [[ -s $TEST_TMP/kubeconfig ]] && k get --raw /readyz >/dev/null 2>&1; do
  kill -0 "$SERVER_PID" 2>/dev/null || fail "kite-server exited during start-up"
  ((SECONDS < deadline)) || fail "kite-server not ready within 240 s"
  sleep 0.2
done
log "emulated $arch kite-server ready after $((SECONDS - started)) s"

admin_cert_files
code=$("${CURL:-curl}" -sS --max-time 30 --cacert "$TEST_TMP/ca.crt" --cert "$TEST_TMP/client.crt" \
  --key "$TEST_TMP/client.key" -o /dev/null -w '%{http_code}' "$BASE/readyz")
expect_exact "/readyz answers 200" "200" -- echo "$code"

expect "kubectl creates a Deployment" "deployment.apps/web created" -- \
  k create deployment web --image=kite.local/busybox:1.35 --replicas=2
expect_exact "kubectl reads it back" "web 2" -- k get deployment web -o jsonpath='{.metadata.name} {.spec.replicas}'
eventually "the Deployment controller makes its ReplicaSet" "^web-" 120 -- \
  k get replicasets -l app=web -o jsonpath='{.items[*].metadata.name}'

ep=127.0.0.1:$PORT
expect "etcdctl put" "^OK$" -- ctl "$ep" put /cross/$arch "hello from $arch"
expect_exact "etcdctl get" "hello from $arch" -- ctl "$ep" get /cross/$arch --print-value-only

rc=0
stop_pid "$SERVER_PID" || rc=$?
expect_exact "kite-server stops cleanly on SIGTERM" "0" -- echo "$rc"
_SERVER_PIDS=()

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
