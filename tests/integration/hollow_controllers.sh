#!/usr/bin/env bash
# The controllers against kite-hollow's simulated nodes, as a user would see them: pods bound to
# the nodes become Endpoints with their node-assigned IPs; freezing kite-hollow (SIGSTOP) stops
# the heartbeats, so the nodes go NotReady, are tainted unreachable and their pods evicted after
# their tolerationSeconds; thawed (SIGCONT), the nodes come back, lose the taints, and the
# kubelets finish the evicted pods' graceful deletion; a namespace with running pods is deleted
# to the end. No scheduler: pods name their node.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"
source "$HERE/kubectl/lib_kubectl.sh"
source "$HERE/kubectl/lib_controllers.sh"
KITE_HOLLOW=${KITE_HOLLOW:-./bin/kite-hollow}
require_tool "$KITE_HOLLOW"
# Hollow nodes serve no kubelet API: no metrics server scraping their made-up addresses
# (10.200.0.x, off this machine).
KITE_ARGS=(--node-monitor-grace-period 5s --disable-metrics-server)
start_kite_api
_spawn "$TEST_TMP/hollow.log" "$KITE_HOLLOW" --kubeconfig "$TEST_TMP/kubeconfig" --nodes 2 --heartbeat-interval 1s \
  --node-status-interval 2s
HOLLOW_PID=$LAST_PID
M=$TEST_TMP/manifests
mkdir -p "$M"

eventually_exact "two Ready nodes" 30 "2" -- bash -c \
  "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get nodes --no-headers | grep -c ' Ready '"

for i in 1 2; do
  cat <<YAML
---
apiVersion: v1
kind: Pod
metadata: {name: web-$i, labels: {app: web}}
spec:
  nodeName: hollow-node-0
  tolerations: [{key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}]
  containers: [{name: c, image: registry.k8s.io/pause:3.9, ports: [{name: http, containerPort: 8080}]}]
YAML
done >"$M/web.yaml"
cat >>"$M/web.yaml" <<'YAML'
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
YAML
expect "pods on hollow-node-0 and a service" 'service/web created' -- k apply -f "$M/web.yaml"
eventually_exact "pods run" 30 "Running Running" -- k get pods -l app=web -o 'jsonpath={.items[*].status.phase}'
eventually "endpoints: both pods ready on hollow-node-0" 30 '^10\.[0-9.]+ 10\.[0-9.]+ hollow-node-0 hollow-node-0$' -- \
  k get endpoints web -o 'jsonpath={.subsets[0].addresses[*].ip} {.subsets[0].addresses[*].nodeName}'
eventually_exact "endpointslice: both ready" 30 "true true" -- \
  k get endpointslices -l kubernetes.io/service-name=web -o 'jsonpath={.items[0].endpoints[*].conditions.ready}'

kill -STOP "$HOLLOW_PID"
eventually "frozen nodes go NotReady" 30 'hollow-node-0 +NotReady' -- k get node hollow-node-0
eventually "unreachable NoExecute taint" 10 'node.kubernetes.io/unreachable:NoExecute' -- \
  k get node hollow-node-0 -o 'jsonpath={range .spec.taints[*]}{.key}:{.effect} {end}'
eventually "pods evicted after 2 s" 15 '^20[^ ]+ 20[^ ]+$' -- k get pods -l app=web -o 'jsonpath={.items[*].metadata.deletionTimestamp}'
eventually_exact "endpoints emptied" 10 "" -- k get endpoints web -o 'jsonpath={.subsets[*].addresses[*].ip}'
kill -CONT "$HOLLOW_PID"
eventually "thawed nodes Ready again" 30 'hollow-node-0 +Ready' -- k get node hollow-node-0
eventually_exact "taints removed" 15 "" -- k get node hollow-node-0 -o 'jsonpath={.spec.taints}'
eventually_exact "kubelet finished the evictions" 40 "" -- k get pods -l app=web -o name

expect "namespace" 'created' -- k create namespace team
cat >"$M/team.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: worker, namespace: team}
spec:
  nodeName: hollow-node-1
  containers: [{name: c, image: registry.k8s.io/pause:3.9}]
YAML
expect "running pod in it" 'created' -- k apply -f "$M/team.yaml"
eventually_exact "pod runs" 30 "Running" -- k -n team get pod worker -o 'jsonpath={.status.phase}'
expect "kubectl delete namespace completes once the kubelet stopped the pod" 'namespace "team" deleted' -- k delete namespace team --timeout=90s

kill -TERM "$HOLLOW_PID" 2>/dev/null || true
finish
