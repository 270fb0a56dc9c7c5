#!/usr/bin/env bash
# The resource quota controller seen through the real kubectl: ResourceQuota status.used follows
# pods (count, requests, limits; finished pods not counted), object counts and count/<resource>.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
source "$HERE/lib_controllers.sh"
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"

cat >"$M/quota.yaml" <<'YAML'
apiVersion: v1
kind: ResourceQuota
metadata: {name: q}
spec:
  hard: {pods: "10", requests.cpu: "4", requests.memory: 4Gi, limits.cpu: "8", configmaps: "20", count/deployments.apps: "5", services.nodeports: "3"}
YAML
expect "create quota" 'created' -- k apply -f "$M/quota.yaml"
used() { k get resourcequota q -o "jsonpath={.status.used.$1}"; }
eventually_exact "hard copied" 20 "10" -- k get resourcequota q -o 'jsonpath={.status.hard.pods}'
eventually_exact "no pods yet" 20 "0" -- used pods
expect_exact "kube-root-ca.crt counted" "1" -- used configmaps

cat >"$M/pods.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  containers:
  - {name: c, image: busybox, resources: {requests: {cpu: 250m, memory: 64Mi}, limits: {cpu: "1"}}}
  - {name: d, image: busybox, resources: {requests: {cpu: 250m, memory: 64Mi}}}
---
apiVersion: v1
kind: Pod
metadata: {name: b}
spec:
  initContainers:
  - {name: i, image: busybox, resources: {requests: {cpu: "1"}}}
  containers:
  - {name: c, image: busybox, resources: {requests: {cpu: 100m, memory: 1Gi}}}
YAML
expect "create pods" 'pod/b created' -- k apply -f "$M/pods.yaml"
eventually_exact "pods counted" 20 "2" -- used pods
eventually_exact "cpu requests: 500m + max(100m, init 1)" 20 "1500m" -- used 'requests\.cpu'
expect_exact "memory requests" "1152Mi" -- used 'requests\.memory'
expect_exact "cpu limits" "1" -- used 'limits\.cpu'
expect "kubectl describe quota" 'requests.cpu +1500m +4' -- k describe resourcequota q

expect "pod b finished" 'patched' -- k patch pod b --subresource=status --type=merge -p '{"status":{"phase":"Succeeded"}}'
eventually_exact "finished pod not counted" 20 "1 500m" -- bash -c \
  "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get resourcequota q -o 'jsonpath={.status.used.pods} {.status.used.requests\.cpu}'"

expect "create deployment" 'created' -- k create deployment web --image=busybox --replicas=0
expect "create nodeport service" 'created' -- k create service nodeport np --tcp=80:8080
eventually_exact "count/deployments.apps" 20 "1" -- used 'count/deployments\.apps'
eventually_exact "services.nodeports" 20 "1" -- used 'services\.nodeports'

finish
