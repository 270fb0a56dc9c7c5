#!/usr/bin/env bash
# Release binaries per architecture (issue 21): their sizes, and start -> /readyz and idle RSS
# of kite-server (fresh data dir, --disable-agent) natively and under qemu-user-static — a
# sanity check of the port (the ratio), not a figure for a Raspberry Pi.
#
#   bash bench/run_cross.sh [ARCH...]   (default: every build-release-<arch>/ present)
# Needs the release builds (bash packaging/dev.sh release <arch>), kubectl. Idle RSS is VmRSS 20 s
# after /readyz; under emulation it is the qemu process's (the emulator's own memory included).
set -euo pipefail
cd "$(dirname "$0")/.."
archs=("$@")
if ((${#archs[@]} == 0)); then
  for d in build-release-*/; do d=${d%/}; archs+=("${d#build-release-}"); done
fi
tmp=$(mktemp -d)
pid=
cleanup() { [[ -n $pid ]] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT

mib() { awk -v b="$1" 'BEGIN{printf "%.1f", b/1048576}'; }
port() { echo $((20000 + RANDOM % 12000)); }

printf '%-6s %12s %12s %12s %10s %10s\n' arch server-MiB agent-MiB lib/kite-MiB ready-s idle-RSS-MiB
for arch in "${archs[@]}"; do
  rel=build-release-$arch
  [[ -x $rel/bin/kite-server ]] || { echo "$arch: no $rel/bin/kite-server" >&2; continue; }
  case $arch in
    arm64) emu=(qemu-aarch64-static -L /usr/aarch64-linux-gnu) ;;
    armhf) emu=(qemu-arm-static -L /usr/arm-linux-gnueabihf) ;;
    *) emu=() ;;
  esac
  s=$(stat -c %s "$rel/bin/kite-server") a=$(stat -c %s "$rel/bin/kite-agent")
  l=$(du -cb "$rel"/lib/kite/* 2>/dev/null | tail -1 | cut -f1)
  data=$tmp/$arch api=$(port) etcd=$(port) met=$(port)
  echo "{}" >"$tmp/empty.yaml"
  t0=$(date +%s.%N)
  "${emu[@]}" "$rel/bin/kite-server" --config "$tmp/empty.yaml" --data-dir "$data" --disable-agent \
    --bind-address 127.0.0.1 --https-listen-port "$api" --etcd-listen "127.0.0.1:$etcd" \
    --metrics-listen "127.0.0.1:$met" --write-kubeconfig "$data.kubeconfig" >"$tmp/$arch.log" 2>&1 &
  pid=$!
  until [[ -s $data.kubeconfig ]] && kubectl --kubeconfig "$data.kubeconfig" --request-timeout=2s get --raw /readyz 2>/dev/null | grep -q ok; do
    kill -0 "$pid" 2>/dev/null || { tail "$tmp/$arch.log"; exit 1; }
    sleep 0.05
  done
  t1=$(date +%s.%N)
  sleep 20  # idle: the controllers' start-up lists and the first resyncs are over
  rss=$(awk '/^VmRSS/{print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true; pid=
  printf '%-6s %12s %12s %12s %10.2f %10.1f\n' "$arch" "$(mib "$s")" "$(mib "$a")" "$(mib "${l:-0}")" \
    "$(echo "$t1 - $t0" | bc)" "$(echo "$rss / 1024" | bc -l)"
done
