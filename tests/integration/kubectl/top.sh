#!/usr/bin/env bash
# kubectl_top (issue 18): kite-server's built-in metrics server scrapes each Node's kubelet at
# its InternalIP and kubelet port (/metrics/resource, with the API server's kubelet-client
# certificate, the kubelet's serving certificate checked against the server CA) and serves
# metrics.k8s.io/v1beta1, so `kubectl top nodes`, `top pods` and `top pods --containers` print
# the usage the kubelet reported: CPU as the rate between two scrapes, memory as the working
# set. The kubelet is tests/integration/fake_kubelet.py (canned load) until the real kubelet
# server lands.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$HERE/lib.sh"
source "$HERE/kubectl/lib_kubectl.sh"

KITE_ARGS=(--metric-resolution 1s --disable-scheduler)
start_kite_api
source "$HERE/kubectl/lib_fake_kubelet.sh"

cat >"$TEST_TMP/load.json" <<'JSON'
{"node": {"cpu": 0.5, "memory": 1073741824},
 "containers": [
  {"namespace": "default", "pod": "web-1", "container": "app", "cpu": 0.15, "memory": 31457280},
  {"namespace": "default", "pod": "web-1", "container": "side", "cpu": 0.1, "memory": 20971520},
  {"namespace": "other", "pod": "db-1", "container": "db", "cpu": 0.025, "memory": 104857600}]}
JSON
start_fake_kubelet n1

cat >"$TEST_TMP/objects.yaml" <<EOF
apiVersion: v1
kind: Node
metadata: {name: n2}
---
apiVersion: v1
kind: Namespace
metadata: {name: other}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: default, labels: {app: web}}
spec:
  nodeName: n1
  containers: [{name: app, image: busybox}, {name: side, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: db-1, namespace: other, labels: {app: db}}
spec:
  nodeName: n1
  containers: [{name: db, image: busybox}]
EOF
k apply -f "$TEST_TMP/objects.yaml" >/dev/null
# n2 has an address where nothing listens: it simply has no metrics.
k patch node n2 --subresource=status --type=merge -p '{"status":{"addresses":[{"type":"InternalIP","address":"127.0.0.1"}],
  "daemonEndpoints":{"kubeletEndpoint":{"Port":1}}}}' >/dev/null

expect "discovery lists metrics.k8s.io/v1beta1" 'metrics.k8s.io/v1beta1' -- k api-versions
expect "api-resources shows NodeMetrics and PodMetrics" 'PodMetrics' -- k api-resources --api-group=metrics.k8s.io
eventually "kubectl top nodes: the kubelet's node usage" '^n1 +500m +25% +1024Mi +25% *$' 30 -- k top nodes
expect "kubectl top nodes -l: label selector" '^n1 ' -- k top nodes -l tier=edge
expect_fail "kubectl top node n2: no metrics" 'metrics not available yet|not found' -- k top node n2
eventually "kubectl top pods: a pod's sum of containers" '^web-1 +250m +50Mi *$' 30 -- k top pods
expect_exact "kubectl top pods --containers" "POD     NAME   CPU(cores)   MEMORY(bytes)
web-1   app    150m         30Mi
web-1   side   100m         20Mi" -- k top pods --containers
expect "kubectl top pods -A" '^other +db-1 +25m +100Mi *$' -- k top pods -A
expect "kubectl top pods -l app=db -n other" '^db-1 ' -- k top pods -n other -l app=db
expect "kubectl top pods -l app=none: nothing" 'No resources found|not available' -- k top pods -l app=none
expect "kubectl get nodemetrics" '^n1 ' -- k get nodemetrics
expect "kubectl get podmetrics -o json: metrics-server's shape" '"window": "1(\.[0-9]+)?s"' -- k get podmetrics web-1 -o json
expect "… with the usage per container" '"cpu": "150m"' -- k get podmetrics web-1 -o json
expect_fail "get of a pod without metrics: NotFound" 'podmetrics.metrics.k8s.io "default/nope" not found' -- k get podmetrics nope
expect_fail "metrics are read-only" 'MethodNotAllowed|not allow|not supported' -- k delete nodemetrics n1
# The load changes: the next windows show it.
sed -i 's/"cpu": 0.5,/"cpu": 1.5,/' "$TEST_TMP/load.json"
eventually "a new load shows in the next window" '^n1 +1500m +75% ' 30 -- k top nodes
finish
