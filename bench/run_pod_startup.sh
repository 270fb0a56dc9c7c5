#!/usr/bin/env bash
# Pod start-up and the agent's memory on one real node (bench/RESULTS.md, "Pods on a node";
# issue 17). In one network namespace: kite-server (--disable-agent) and a kite-agent joined to it
# by token, with its own containerd (measured apart). Then:
#   single    SINGLE pods one after another: create → Running seen through a watch (p50/p99)
#   bursts    10 and 30 pods created at once: the same latency, and until the last is Running
#   floor     `ctr run -d` of the same image through the same containerd, SINGLE times (no
#             API, no sandbox, no CNI: what the runtime alone costs), and 30 at once (the
#             burst's floor)
#   100 pods  a Deployment of 100 replicas: until all are Ready
#   memory    VmRSS of kite-agent, kite-server and containerd idle and with the 100 pods; and of
#             a kite-server with its embedded agent (a one-node cluster), idle, in a namespace beside
# Usage: bench/run_pod_startup.sh [--build DIR] [--single N]     (needs root)
# KITE_AGENT / KITE_SERVER in the environment measure other binaries than DIR's (the static
# release build: KITE_AGENT=build-release-amd64/bin/kite-agent); the image archives stay DIR's.
set -euo pipefail
BUILD=build
SINGLE=20
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --single) SINGLE=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export KITE_SERVER=${KITE_SERVER:-$BUILD/bin/kite-server} KITE_AGENT=${KITE_AGENT:-$BUILD/bin/kite-agent}
export KITE_IMAGES=$BUILD/images
source "$HERE/../tests/integration/lib.sh"
source "$HERE/../tests/e2e/lib_node.sh"
require_node_tools
sweep_leftovers
IMAGE=kite.local/busybox:1.35

# A one-node cluster as `dev.sh run` starts it: kite-server with its embedded agent, idle.
new_netns embedded
ENS=$REPLY
new_node_dir embedded
ED=$REPLY
_spawn "$TEST_TMP/embedded.log" nsenter --net="/run/netns/$ENS" -- "$KITE_SERVER" --data-dir "$ED" \
  --write-kubeconfig "$ED/kubeconfig" --node-name bench-embedded --etcd-listen "" --metrics-listen 127.0.0.1:0
EMBEDDED_PID=$LAST_PID
embedded_ready() {
  in_ns "$ENS" "$KUBECTL_BIN" --kubeconfig "$ED/kubeconfig" --cache-dir "$TEST_TMP/kc-e" get node bench-embedded \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep -q True
}
wait_until 120 embedded_ready || fail "embedded node not Ready"
sleep 30
EMBEDDED_RSS=$(awk '/^VmRSS/{print $2}' "/proc/$EMBEDDED_PID/status")
EMBEDDED_CTRD=$(awk '/^VmRSS/{print $2}' "/proc/$(pgrep -f -- "containerd --config $ED/" | head -1)/status")
kill -TERM "$EMBEDDED_PID"

new_netns bench
NS=$REPLY
new_node_dir server
SD=$REPLY
new_node_dir agent
AD=$REPLY
KC=$SD/kubeconfig
k() { in_ns "$NS" "$KUBECTL_BIN" --kubeconfig "$KC" --cache-dir "$TEST_TMP/kcache" "$@"; }
rss_kib() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
containerd_pid() { pgrep -f -- "containerd --config $AD/" | head -1; }

_spawn "$TEST_TMP/server.log" nsenter --net="/run/netns/$NS" -- "$KITE_SERVER" --data-dir "$SD" --write-kubeconfig "$KC" \
  --disable-agent --etcd-listen "" --metrics-listen 127.0.0.1:0
SERVER_PID=$LAST_PID
wait_until 30 test -s "$SD/server/token" || fail "no token"
_spawn "$TEST_TMP/agent.log" nsenter --net="/run/netns/$NS" -- "$KITE_AGENT" --server https://127.0.0.1:6443 \
  --token "$(cat "$SD/server/token")" --data-dir "$AD" --node-name bench-node
AGENT_PID=$LAST_PID
node_ready() { k get node bench-node -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep -q True; }
wait_until 120 node_ready || fail "node not Ready"
sleep 20
echo "# pods on a node: commit $(git -C "$HERE" rev-parse --short HEAD), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# kite-server $KITE_SERVER, kite-agent $KITE_AGENT"
echo "one-node cluster idle: kite-server with its embedded agent $EMBEDDED_RSS KiB, its containerd $EMBEDDED_CTRD KiB"
echo "idle: kite-agent $(rss_kib "$AGENT_PID") KiB, kite-server $(rss_kib "$SERVER_PID") KiB, containerd $(rss_kib "$(containerd_pid)") KiB"

in_ns "$NS" /usr/bin/python3 "$HERE/pod_startup.py" "$KC" "$IMAGE" "$SINGLE" 10,30 | python3 -c '
import json, sys
d = json.load(sys.stdin)
for k, v in d.items():
    fmt = lambda x: "-" if x is None else "%.3f s" % x
    extra = "" if "all_running_s" not in v else ", all Running after %s" % fmt(v["all_running_s"])
    print("%-8s n=%-3d p50 %s  p99 %s%s" % (k, v["n"], fmt(v["p50"]), fmt(v["p99"]), extra))'

# The floor: the runtime alone.
SOCK=$(sed -n 's/^ *address *= *"\(.*\.sock\)"$/\1/p' "$AD/agent/etc/containerd/config.toml" | head -1)
floor=()
for i in $(seq 1 "$SINGLE"); do
  t0=$(date +%s.%N)
  ctr --address "$SOCK" -n k8s.io run -d "$IMAGE" "floor-$$-$i" sleep 100000 >/dev/null
  t1=$(date +%s.%N)
  floor+=("$(echo "$t1 - $t0" | bc -l)")
  ctr --address "$SOCK" -n k8s.io tasks kill -s KILL "floor-$$-$i" >/dev/null 2>&1 || true
done
for i in $(seq 1 "$SINGLE"); do
  for _ in $(seq 1 20); do ctr --address "$SOCK" -n k8s.io tasks rm "floor-$$-$i" >/dev/null 2>&1 && break; sleep 0.1; done
  ctr --address "$SOCK" -n k8s.io containers rm "floor-$$-$i" >/dev/null 2>&1 || true
done
printf '%s\n' "${floor[@]}" | sort -n | awk '{a[NR]=$1} END {p50=a[int((NR+1)/2)]; p99=a[NR]; printf "floor    n=%-3d p50 %.3f s  p99 %.3f s  (ctr run -d)\n", NR, p50, p99}'
# The burst floor: 30 `ctr run -d` at once, each one's time and until the last has started.
t0=$(date +%s.%N)
runs=()
for i in $(seq 1 30); do
  (ctr --address "$SOCK" -n k8s.io run -d "$IMAGE" "burst-$$-$i" sleep 100000 >/dev/null
   echo "$(date +%s.%N) - $t0" | bc -l >"$TEST_TMP/burst-floor-$i") &
  runs+=($!)
done
wait "${runs[@]}"  # these only: the server and the agent are this shell's children too
t1=$(date +%s.%N)
cat "$TEST_TMP"/burst-floor-* | sort -n | awk -v all="$(echo "$t1 - $t0" | bc -l)" '{a[NR]=$1} END {
  printf "floor30  n=%-3d p50 %.3f s  p99 %.3f s, all started after %.3f s  (30 ctr run -d at once)\n", NR, a[int((NR+1)/2)], a[NR], all}'
for i in $(seq 1 30); do ctr --address "$SOCK" -n k8s.io tasks kill -s KILL "burst-$$-$i" >/dev/null 2>&1 || true; done
for i in $(seq 1 30); do
  for _ in $(seq 1 20); do ctr --address "$SOCK" -n k8s.io tasks rm "burst-$$-$i" >/dev/null 2>&1 && break; sleep 0.1; done
  ctr --address "$SOCK" -n k8s.io containers rm "burst-$$-$i" >/dev/null 2>&1 || true
done

t0=$(date +%s.%N)
k create deployment hundred --image="$IMAGE" --replicas=100 -- sleep 100000 >/dev/null
hundred() { [[ $(k get deployment hundred -o 'jsonpath={.status.readyReplicas}') == 100 ]]; }
wait_until 600 hundred || fail "100 pods not Ready"
t1=$(date +%s.%N)
printf '100 pods: all Ready after %.1f s\n' "$(echo "$t1 - $t0" | bc -l)"
sleep 20
echo "100 pods: kite-agent $(rss_kib "$AGENT_PID") KiB, kite-server $(rss_kib "$SERVER_PID") KiB, containerd $(rss_kib "$(containerd_pid)") KiB"
