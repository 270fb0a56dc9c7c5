#!/usr/bin/env bash
# exec and port-forward on one real node (bench/RESULTS.md, "exec and port-forward"; issue 18).
# kite-server with its embedded agent (its own containerd) in a network namespace, a busybox pod
# serving files with httpd. Then:
#   exec        ROUNDS runs of `kubectl exec p -- true`, each timed end to end (p50/p99); beside
#               it `kubectl get pod p` (the same kubectl start-up and one API request: the floor
#               of anything kubectl does), and the API server's part: the time from the SPDY
#               request's arrival to the session's end (the sum of apiserver_request_duration_
#               seconds for pods/exec over its count, from the server's /metrics) when it has it
#   throughput  a BIG_MB MiB file fetched by curl through `kubectl port-forward pod/p` and
#               directly from the pod IP (best of 3 each)
#   latency     ROUNDS fetches of a 13-byte page through the forward and directly (p50)
# Usage: bench/run_exec.sh [--build DIR] [--rounds N] [--big-mb N]     (needs root)
set -euo pipefail
BUILD=build
ROUNDS=50
BIG_MB=200
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --big-mb) BIG_MB=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export KITE_SERVER=$BUILD/bin/kite-server KITE_AGENT=$BUILD/bin/kite-agent KITE_IMAGES=${KITE_IMAGES:-$BUILD/images}
source "$HERE/../tests/integration/lib.sh"
source "$HERE/../tests/e2e/lib_node.sh"
require_node_tools
sweep_leftovers
IMAGE=kite.local/busybox:1.35

new_netns bexec
NS=$REPLY
new_node_dir bexec
D=$REPLY
KC=$TEST_TMP/kubeconfig
k() { in_ns "$NS" "$KUBECTL_BIN" --kubeconfig "$KC" --cache-dir "$TEST_TMP/kcache" "$@"; }
_spawn "$TEST_TMP/kite.log" nsenter --net="/run/netns/$NS" -- "$KITE_SERVER" --data-dir "$D" --write-kubeconfig "$KC" \
  --node-name bench-exec --etcd-listen "" --metrics-listen 127.0.0.1:0 --kubelet-port 0
ready() { k get node bench-exec -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep -q True; }
wait_until 120 ready || fail "node not Ready"
k run p --image="$IMAGE" -- sh -c "mkdir -p /www && echo hello-bench >/www/index.html && \
  head -c $((BIG_MB * 1024 * 1024)) /dev/zero >/www/big && exec httpd -f -p 80 -h /www" >/dev/null
running() { [[ $(k get pod p -o 'jsonpath={.status.phase}') == Running ]]; }
wait_until 120 running || fail "pod p not Running"
POD_IP=$(k get pod p -o 'jsonpath={.status.podIP}')
has_big() { [[ $(in_ns "$NS" curl -s -o /dev/null -w '%{size_download}' "http://$POD_IP/big") -eq $((BIG_MB * 1024 * 1024)) ]]; }
wait_until 60 has_big || fail "the pod's file is not served"

ms_now() { date +%s%N; }
# pct FILE P: the P-th percentile of the numbers in FILE (nearest rank).
pct() { sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int((p/100)*NR+0.999); if (i<1) i=1; print a[i]}'; }
time_cmd() {  # time_cmd OUT CMD...: appends the command's wall time in ms to OUT
  local out=$1 t0 t1
  shift
  t0=$(ms_now)
  "$@" >/dev/null 2>&1 || fail "$* failed"
  t1=$(ms_now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) / 1e6 }' >>"$out"
}

k exec p -- true
k get pod p >/dev/null
: >"$TEST_TMP/exec.ms"
: >"$TEST_TMP/get.ms"
for _ in $(seq "$ROUNDS"); do
  time_cmd "$TEST_TMP/exec.ms" k exec p -- true
  time_cmd "$TEST_TMP/get.ms" k get pod p
done
METRICS=$(k get --raw /metrics)
API_PART=$(awk '/^apiserver_request_duration_seconds_(sum|count)\{.*subresource="exec"/ {
  if ($1 ~ /_sum/) s += $2; else c += $2 } END { if (c > 0) printf "%.1f", 1000 * s / c; else print "n/a" }' <<<"$METRICS")

# port-forward: throughput and added latency
in_ns "$NS" "$KUBECTL_BIN" --kubeconfig "$KC" --cache-dir "$TEST_TMP/kcache" port-forward pod/p 18090:80 >"$TEST_TMP/pf.log" 2>&1 &
PF=$!
track_bg $PF
forwarding() { [[ $(in_ns "$NS" curl -s -m 5 http://127.0.0.1:18090/) == hello-bench ]]; }
wait_until 30 forwarding || fail "port-forward not up: $(cat "$TEST_TMP/pf.log")"
speed() {  # speed URL: MB/s (MiB) of one download, best of 3
  local best=0 s
  for _ in 1 2 3; do
    s=$(in_ns "$NS" curl -s -o /dev/null -w '%{speed_download}' "$1")
    s=${s%.*}
    ((s > best)) && best=$s
  done
  awk -v b="$best" 'BEGIN { printf "%.1f\n", b / 1048576 }'
}
PF_MBS=$(speed http://127.0.0.1:18090/big)
DIRECT_MBS=$(speed "http://$POD_IP/big")
: >"$TEST_TMP/pf.ms"
: >"$TEST_TMP/direct.ms"
for _ in $(seq "$ROUNDS"); do
  in_ns "$NS" curl -s -o /dev/null -w '%{time_total}\n' http://127.0.0.1:18090/ | awk '{printf "%.3f\n", $1 * 1000}' >>"$TEST_TMP/pf.ms"
  in_ns "$NS" curl -s -o /dev/null -w '%{time_total}\n' "http://$POD_IP/" | awk '{printf "%.3f\n", $1 * 1000}' >>"$TEST_TMP/direct.ms"
done
kill "$PF" 2>/dev/null || true

echo "exec round trip (kubectl exec p -- true), $ROUNDS runs: p50 $(pct "$TEST_TMP/exec.ms" 50) ms, p99 $(pct "$TEST_TMP/exec.ms" 99) ms"
echo "kubectl get pod p (kubectl's own floor), $ROUNDS runs: p50 $(pct "$TEST_TMP/get.ms" 50) ms, p99 $(pct "$TEST_TMP/get.ms" 99) ms"
echo "API server's part of an exec (mean over pods/exec requests): $API_PART ms"
echo "port-forward throughput: $PF_MBS MiB/s; direct to the pod IP: $DIRECT_MBS MiB/s; ratio $(awk -v a="$PF_MBS" -v b="$DIRECT_MBS" 'BEGIN { printf "%.2f", a / b }')"
echo "small GET through port-forward p50 $(pct "$TEST_TMP/pf.ms" 50) ms, direct p50 $(pct "$TEST_TMP/direct.ms" 50) ms"
