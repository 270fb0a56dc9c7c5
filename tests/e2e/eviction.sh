#!/usr/bin/env bash
# Node-pressure eviction on a real node: kite-server with its embedded agent, started with a hard
# memory threshold no machine can satisfy (memory.available<64Ti), so the node is under memory
# pressure from its first observation. Shows: the node reports MemoryPressure; pods are evicted
# one at a time in upstream's order — the BestEffort pod (usage over its zero request) before
# the Burstable one whose memory request covers its usage — each ending Failed with reason
# Evicted, upstream's message and a Warning Evicted event; a static pod is never evicted.
# Pods name their node (spec.nodeName): the scheduler would keep them off a node under pressure.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
sweep_leftovers

new_netns evict
NS=$REPLY
new_node_dir evict
D=$REPLY
NODE=kite-e2e-evict
IMAGE=kite.local/busybox:1.35
KC=$TEST_TMP/kubeconfig
k() { kubectl_in "$NS" "$KC" "$@"; }

# A static pod, written before the start: critical, never evicted.
mkdir -p "$D/agent/pod-manifests"
cat >"$D/agent/pod-manifests/static.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: static, namespace: default}
spec:
  containers: [{name: c, image: $IMAGE, imagePullPolicy: Never}]
YAML

_spawn "$TEST_TMP/kite.log" nsenter --net="/run/netns/$NS" -- "$KITE_SERVER" --data-dir "$D" --write-kubeconfig "$KC" \
  --node-name "$NODE" --etcd-listen "" --metrics-listen 127.0.0.1:0 \
  --eviction-hard 'memory.available<64Ti' --kubelet-arg eviction-pressure-transition-period=5m
eventually_eq "node reports MemoryPressure" 90 True \
  k get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="MemoryPressure")].status}'
eventually_eq "node Ready" 90 True k get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

cat >"$TEST_TMP/pods.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: burstable}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 5
  containers:
  - {name: c, image: $IMAGE, imagePullPolicy: Never, resources: {requests: {memory: 1Gi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: besteffort}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 5
  containers:
  - {name: c, image: $IMAGE, imagePullPolicy: Never}
YAML
k create -f "$TEST_TMP/pods.yaml" >/dev/null

eventually_eq "the BestEffort pod is evicted first" 60 "Failed/Evicted" \
  k get pod besteffort -o 'jsonpath={.status.phase}/{.status.reason}'
expect_eq "the Burstable pod within its request still runs" Running k get pod burstable -o 'jsonpath={.status.phase}'
MSG=$(k get pod besteffort -o 'jsonpath={.status.message}')
[[ $MSG == "The node was low on resource: memory. Threshold quantity: 64Ti, available: "*"Container c was using "*", request is 0, has larger consumption of memory. " ]] ||
  fail "eviction message: $MSG"
echo "ok - upstream's eviction message"
evicted_event() { [[ -n $(k get events --field-selector involvedObject.name=besteffort,reason=Evicted -o name) ]]; }
eventually "a Warning Evicted event" 20 evicted_event
expect_eq "the evicted pod's containers are gone" "" k get pod besteffort -o 'jsonpath={.status.containerStatuses[?(@.state.running)].name}'
eventually_eq "then the Burstable pod" 60 "Failed/Evicted" k get pod burstable -o 'jsonpath={.status.phase}/{.status.reason}'
expect_eq "the static pod is never evicted" Running k get pod "static-$NODE" -o 'jsonpath={.status.phase}'
echo "PASS"
