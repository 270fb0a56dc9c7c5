#!/usr/bin/env bash
# Flash wear of an idle one-node cluster (bench/RESULTS.md, "Flash wear"; issue 17, k3s#5042).
#
# Two one-node clusters side by side, each kite-server with its embedded agent and containerd in
# its own network namespace and data dir: "kite" (defaults) and "durable-leases"
# (--datastore-heartbeat-flush 0: every Lease renewal fsync'd, as before). After a warm-up,
# the bytes written to storage (write_bytes of /proc/<pid>/io) by every process of each cluster
# (kite-server, containerd, shims, pods) over the window, per second:
#   idle      no workload
#   10 pods   ten idle pods (busybox sleep) Running on the node
# Usage: bench/run_flash_wear.sh [--build DIR] [--window SECONDS] [--warmup SECONDS] [--no-agent]
# Needs root (containerd); the issue's figures use --window 600.
set -euo pipefail
BUILD=build
WINDOW=600
WARMUP=60
AGENT=1
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --window) WINDOW=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --no-agent) AGENT=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export KITE_SERVER=$BUILD/bin/kite-server KITE_IMAGES=$BUILD/images
source "$HERE/../tests/integration/lib.sh"
source "$HERE/../tests/e2e/lib_node.sh"
require_node_tools
sweep_leftovers

declare -A NSOF DIROF
start() {  # start NAME ARGS...
  local name=$1 ns d
  shift
  new_netns "$name"
  ns=$REPLY
  new_node_dir "$name"
  d=$REPLY
  NSOF[$name]=$ns
  DIROF[$name]=$d
  local agent=()
  [[ $AGENT == 1 ]] || agent=(--disable-agent)
  _spawn "$TEST_TMP/$name.log" nsenter --net="/run/netns/$ns" -- "$KITE_SERVER" --data-dir "$d" --write-kubeconfig "$d/kubeconfig" \
    --node-name "bench-$name" --etcd-listen "" --metrics-listen 127.0.0.1:0 "${agent[@]}" "$@"
}
kc() {  # kc NAME ARGS...: kubectl against that cluster
  local name=$1
  shift
  in_ns "${NSOF[$name]}" "$KUBECTL_BIN" --kubeconfig "${DIROF[$name]}/kubeconfig" --cache-dir "$TEST_TMP/kc-$name" "$@"
}
# Bytes written so far by every process of the cluster (its command line names the data dir or
# its /run/kite state dir; containers are the shims' children).
written() {
  local d=${DIROF[$1]} run pid total=0 b
  run=$(_run_dir "$d")
  local pids
  pids=$(pgrep -f -- "$d/" || true; [[ -n $run ]] && pgrep -f -- "$run/" || true)
  for pid in $pids $(for p in $pids; do pgrep -P "$p" || true; done); do
    b=$(awk '/^write_bytes/{print $2}' "/proc/$pid/io" 2>/dev/null || echo 0)
    total=$((total + ${b:-0}))
  done
  echo "$total"
}
measure() {  # measure PHASE: one line per cluster, side by side over the same window
  local phase=$1 name
  declare -A before
  sleep "$WARMUP"
  for name in kite durable-leases; do before[$name]=$(written "$name"); done
  sleep "$WINDOW"
  for name in kite durable-leases; do
    local after
    after=$(written "$name")
    printf '%-10s %-16s %10.1f B/s  (%d bytes in %d s)\n' "$phase" "$name" \
      "$(echo "(${after} - ${before[$name]}) / $WINDOW" | bc -l)" "$((after - before[$name]))" "$WINDOW"
  done
}

node_ready() { kc "$1" get node "bench-$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep True >/dev/null; }
ten_ready() { [[ $(kc "$1" get deployment idle -o 'jsonpath={.status.readyReplicas}') == 10 ]]; }

start kite
start durable-leases --datastore-heartbeat-flush 0
for name in kite durable-leases; do
  wait_until 90 test -f "${DIROF[$name]}/kubeconfig" || fail "$name: no kubeconfig"
  if [[ $AGENT == 1 ]]; then
    wait_until 120 node_ready "$name" || fail "$name: node not Ready"
  fi
done
echo "# flash wear: window ${WINDOW}s after ${WARMUP}s warm-up; commit $(git -C "$HERE" rev-parse --short HEAD)"
measure idle
if [[ $AGENT == 1 ]]; then
  for name in kite durable-leases; do
    kc "$name" create deployment idle --image=kite.local/busybox:1.35 --replicas=10 -- sleep 1000000 >/dev/null
  done
  for name in kite durable-leases; do
    wait_until 180 ten_ready "$name" || fail "$name: 10 pods not Running"
  done
  measure "10 pods"
fi
