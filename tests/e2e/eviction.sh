#!/usr/bin/env bash
# Node-pressure eviction on a real node: kite-server with its embedded agent runs two pods, then
# is restarted with a hard memory threshold no machine can satisfy (memory.available<64Ti), so
# the node is under memory pressure from its first observation (the running pods are adopted,
# not admitted again). Shows: the node reports MemoryPressure; pods are evicted one at a time in
# upstream's order — the BestEffort pod (usage over its zero request) before the Burstable one
# whose memory request covers its usage — each ending Failed with reason Evicted, upstream's
# message and a Warning Evicted event; a static pod is never evicted; a new BestEffort pod is
# refused at admission (Failed, "Pod was rejected: The node had condition: [MemoryPressure]. ").
# Pods name their node (spec.nodeName): the scheduler would keep them off a node under pressure.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
sweep_leftovers

one_node evict

# A static pod, written before the start: critical, never evicted.
mkdir -p "$D/agent/pod-manifests"
cat >"$D/agent/pod-manifests/static.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: static, namespace: default}
spec:
  containers: [{name: c, image: $IMAGE, imagePullPolicy: Never}]
YAML

# start ARGS...: kite-server on the node, with extra flags. At --v 2 the pod workers log each
# pod's sync, rejection and status write, so a failure's log tail says what the kubelet did.
start() { start_node_server --disable kite-dns,traefik --v 2 "$@"; }
start
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
eventually_eq "both pods Running before the pressure" 90 "Running Running" \
  k get pod burstable besteffort -o 'jsonpath={.items[*].status.phase}'

# The same node again, now under memory pressure from its first observation.
stop_pid "$SERVER_PID" || fail "kite-server did not stop cleanly"
start --eviction-hard 'memory.available<64Ti' --kubelet-arg eviction-pressure-transition-period=5m
eventually_eq "node reports MemoryPressure" 90 True \
  k get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="MemoryPressure")].status}'

eventually_eq "the BestEffort pod is evicted first" 60 "Failed/Evicted" \
  k get pod besteffort -o 'jsonpath={.status.phase}/{.status.reason}'
MSG=$(k get pod besteffort -o 'jsonpath={.status.message}')
[[ $MSG == "The node was low on resource: memory. Threshold quantity: 64Ti, available: "*"Container c was using "*", request is 0, has larger consumption of memory. " ]] ||
  fail "eviction message: $MSG"
echo "ok - upstream's eviction message"
evicted_event() { [[ -n $(k get events --field-selector involvedObject.name=besteffort,reason=Evicted -o name) ]]; }
eventually "a Warning Evicted event" 20 evicted_event
expect_eq "the evicted pod's containers are gone" "" k get pod besteffort -o 'jsonpath={.status.containerStatuses[?(@.state.running)].name}'
eventually_eq "then the Burstable pod" 60 "Failed/Evicted" k get pod burstable -o 'jsonpath={.status.phase}/{.status.reason}'
# One pod per 10 s pass: the order shows in the Evicted events' times.
evicted_order() {
  k get events --field-selector reason=Evicted --sort-by=.lastTimestamp -o 'jsonpath={.items[*].involvedObject.name}'
}
expect_eq "the BestEffort pod went before the Burstable one" "besteffort burstable" evicted_order
expect_eq "the static pod is never evicted" Running k get pod "static-$NODE" -o 'jsonpath={.status.phase}'

# A new BestEffort pod is refused while the pressure lasts.
cat >"$TEST_TMP/late.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: late}
spec:
  nodeName: $NODE
  containers:
  - {name: c, image: $IMAGE, imagePullPolicy: Never}
YAML
k create -f "$TEST_TMP/late.yaml" >/dev/null
eventually_eq "a new BestEffort pod is rejected at admission" 60 \
  "Failed/Evicted/Pod was rejected: The node had condition: [MemoryPressure]. " \
  k get pod late -o 'jsonpath={.status.phase}/{.status.reason}/{.status.message}'
expect_eq "nothing of it ran" "" k get pod late -o 'jsonpath={.status.containerStatuses[*].name}'
echo "PASS"
