#!/usr/bin/env bash
# The node lifecycle and taint eviction controllers seen through the real kubectl, with nodes
# made by kubectl and their kubelets played by status patches and Lease renewals: a node that
# stops heartbeating goes Unknown and is tainted unreachable, its pods go not-ready and are
# evicted after their tolerationSeconds; a node reporting Ready=False is tainted not-ready; a node
# that comes back loses the taints. Pods get upstream's default 300 s tolerations on create.
# The pod garbage collector keeps at most --terminated-pod-gc-threshold finished pods and
# removes pods bound to nodes that are gone.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
source "$HERE/lib_controllers.sh"
KITE_ARGS=(--node-monitor-grace-period 4s --terminated-pod-gc-threshold 2)
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"

now() { date -u +%Y-%m-%dT%H:%M:%SZ; }
micro_now() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }
heartbeat() {  # heartbeat NODE STATUS: what the kubelet posts, and its Lease renewal
  local t
  t=$(now)
  k patch node "$1" --subresource=status --type=merge -p \
    "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"$2\",\"reason\":\"KubeletReady\",\"message\":\"kubelet is posting ready status\",\"lastHeartbeatTime\":\"$t\",\"lastTransitionTime\":\"$t\"}]}}" >/dev/null
  k -n kube-node-lease patch lease "$1" --type=merge -p "{\"spec\":{\"renewTime\":\"$(micro_now)\"}}" >/dev/null
}
make_node() {  # (k reads no stdin: manifests go through files)
  cat >"$M/node-$1.yaml" <<YAML
apiVersion: v1
kind: Node
metadata: {name: $1, labels: {kubernetes.io/hostname: $1}}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: $1, namespace: kube-node-lease}
spec: {holderIdentity: $1, leaseDurationSeconds: 40, renewTime: "$(micro_now)"}
YAML
  k apply -f "$M/node-$1.yaml" >/dev/null
  heartbeat "$1" True
}
pod_on() {  # pod_on NAME NODE [TOLERATIONS-JSON]
  cat >"$M/pod-$1.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  nodeName: $2
  containers: [{name: c, image: busybox}]
  tolerations: ${3:-[]}
YAML
  k apply -f "$M/pod-$1.yaml" >/dev/null
  ready_pod default "$1" "10.42.9.$((RANDOM % 200 + 2))" >/dev/null
}

make_node n1
expect "node n1 ready" 'n1 +Ready' -- k get node n1
eventually "RegisteredNode event" 10 'RegisteredNode Node n1 event: Registered Node n1 in Controller' -- \
  k get events --field-selector involvedObject.kind=Node -o 'jsonpath={range .items[*]}{.reason} {.message}{"\n"}{end}'
pod_on fast n1 '[{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 3}]'
pod_on slow n1
pod_on forever n1 '[{operator: Exists}]'
expect_exact "default tolerations added on create" \
  "node.kubernetes.io/not-ready:NoExecute:300 node.kubernetes.io/unreachable:NoExecute:300" -- \
  k get pod slow -o 'jsonpath={range .spec.tolerations[*]}{.key}:{.effect}:{.tolerationSeconds} {end}'
expect_exact "own toleration kept, the other defaulted" \
  "node.kubernetes.io/unreachable:NoExecute:3 node.kubernetes.io/not-ready:NoExecute:300" -- \
  k get pod fast -o 'jsonpath={range .spec.tolerations[*]}{.key}:{.effect}:{.tolerationSeconds} {end}'

# Heartbeats keep the node Ready past the grace period.
for _ in 1 2 3 4 5 6; do heartbeat n1 True; sleep 1; done
expect_exact "heartbeating node stays Ready" "True" -- k get node n1 -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
expect_exact "no taints while healthy" "" -- k get node n1 -o 'jsonpath={.spec.taints}'

# Silence: Unknown, unreachable taints, pods not ready, then evictions by toleration.
eventually_exact "silent node goes Unknown" 20 "Unknown NodeStatusUnknown Kubelet stopped posting node status." -- \
  k get node n1 -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].reason} {.status.conditions[?(@.type=="Ready")].message}'
expect "kubectl shows NotReady" 'n1 +NotReady' -- k get node n1
eventually "unreachable taints" 10 'node.kubernetes.io/unreachable:NoSchedule.*node.kubernetes.io/unreachable:NoExecute|node.kubernetes.io/unreachable:NoExecute.*node.kubernetes.io/unreachable:NoSchedule' -- \
  k get node n1 -o 'jsonpath={range .spec.taints[*]}{.key}:{.effect} {end}'
expect "NoExecute taint has timeAdded" '^20[0-9-]+T' -- k get node n1 -o 'jsonpath={.spec.taints[?(@.effect=="NoExecute")].timeAdded}'
eventually "NodeNotReady event" 10 'NodeNotReady.*Node n1 status is now: NodeNotReady' -- k get events --field-selector involvedObject.kind=Node -o 'jsonpath={range .items[*]}{.reason} {.message}{"\n"}{end}'
eventually_exact "pods marked not ready" 10 "False" -- k get pod slow -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
eventually "pod tolerating 3s is evicted" 15 '^20' -- k get pod fast -o 'jsonpath={.metadata.deletionTimestamp}'
eventually "TaintManagerEviction event" 10 'Marking for deletion Pod default/fast' -- k get events --field-selector involvedObject.name=fast -o 'jsonpath={range .items[*]}{.reason} {.message}{"\n"}{end}'
expect_exact "pod tolerating 300s stays" "" -- k get pod slow -o 'jsonpath={.metadata.deletionTimestamp}'
expect_exact "pod tolerating for ever stays" "" -- k get pod forever -o 'jsonpath={.metadata.deletionTimestamp}'

# The node comes back: taints go.
heartbeat n1 True
eventually_exact "node back: Ready" 10 "True" -- k get node n1 -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
eventually_exact "node back: taints removed" 10 "" -- k get node n1 -o 'jsonpath={.spec.taints}'
eventually "NodeReady event" 10 'Node n1 status is now: NodeReady' -- k get events --field-selector involvedObject.kind=Node -o 'jsonpath={range .items[*]}{.message}{"\n"}{end}'

# A kubelet reporting Ready=False: not-ready taints.
make_node n2
heartbeat n2 False
eventually "not-ready taints" 10 'node.kubernetes.io/not-ready:NoSchedule.*node.kubernetes.io/not-ready:NoExecute|node.kubernetes.io/not-ready:NoExecute.*node.kubernetes.io/not-ready:NoSchedule' -- \
  k get node n2 -o 'jsonpath={range .spec.taints[*]}{.key}:{.effect} {end}'
heartbeat n2 True
eventually_exact "ready again: not-ready taints removed" 10 "" -- k get node n2 -o 'jsonpath={.spec.taints}'

# A NoExecute taint a pod does not tolerate: evicted at once; cordon adds unschedulable.
pod_on plain n2
expect "taint node by hand" 'tainted' -- k taint node n2 example.com/drain=now:NoExecute
eventually "untolerated taint evicts at once" 10 '^20' -- k get pod plain -o 'jsonpath={.metadata.deletionTimestamp}'
expect "cordon" 'cordoned' -- k cordon n2
eventually "unschedulable taint" 10 'node.kubernetes.io/unschedulable:NoSchedule' -- k get node n2 -o 'jsonpath={range .spec.taints[*]}{.key}:{.effect} {end}'

# podgc: finished pods beyond the threshold (2 here), oldest first.
for i in 1 2 3 4; do
  pod_on done-$i n1 '[{operator: Exists}]'
  k patch pod "done-$i" --subresource=status --type=merge -p '{"status":{"phase":"Succeeded"}}' >/dev/null
  sleep 1  # distinct creationTimestamps
done
eventually_exact "terminated pods beyond the threshold collected" 30 "done-3 done-4" -- bash -c \
  "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get pods -o name | sed -n 's|^pod/\\(done-.*\\)|\\1|p' | sort | xargs"

# podgc: pods on a node that is gone (after the 40 s quarantine), terminating ones too.
pod_on ghostly ghost '[{operator: Exists}]'
expect "delete node n2" 'deleted' -- k delete node n2
eventually "RemovingNode event" 10 'Node n2 event: Removing Node n2 from Controller' -- \
  k get events --field-selector involvedObject.kind=Node -o 'jsonpath={range .items[*]}{.message}{"\n"}{end}'
eventually "pod on a node that never existed collected" 90 'NotFound|not found' -- bash -c "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get pod ghostly 2>&1 || true"
eventually "terminating pod of a deleted node collected" 30 'NotFound|not found' -- bash -c "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get pod plain 2>&1 || true"

finish
