#!/usr/bin/env bash
# Workload commands on the API side (no controllers run in this suite): scale (the scale
# subresource), rollout history/undo/pause/resume/restart over hand-made ReplicaSets, cordon
# and uncordon, wait --for, get -w, the status subresource, eviction, delete cascades and
# namespace deletion marking.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
# The API side alone: controllers would act on the hand-made ReplicaSets and statuses, the
# scheduler on its pods.
KITE_ARGS=(--disable-controller-manager --disable-scheduler)
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"

cat >"$M/web.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 1
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: www
        image: nginx:1.26
YAML
expect "create deployment" '^deployment.apps/web created$' -- k create -f "$M/web.yaml"

# --- scale through the scale subresource
expect "scale deployment" '^deployment.apps/web scaled$' -- k scale deployment web --replicas=3
expect_exact "replicas after scale" "3" -- k get deployment web -o 'jsonpath={.spec.replicas}'
expect "scale with --current-replicas" '^deployment.apps/web scaled$' -- k scale deployment web --current-replicas=3 --replicas=4
expect_fail "scale with a wrong --current-replicas" 'Expected replicas to be 9, was 4' -- k scale deployment web --current-replicas=9 --replicas=5
expect_exact "scale subresource" '{"kind":"Scale","spec":4}' -- bash -c \
  "timeout 60 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get --raw /apis/apps/v1/namespaces/default/deployments/web/scale | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps({\"kind\":d[\"kind\"],\"spec\":d[\"spec\"][\"replicas\"]},separators=(\",\",\":\")))'"

cat >"$M/rs.yaml" <<'YAML'
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: myapp-replicaset
  labels: {app: myapp}
spec:
  replicas: 2
  selector:
    matchLabels: {app: myapp}
  template:
    metadata:
      labels: {app: myapp}
    spec:
      containers:
      - name: app
        image: busybox
YAML
expect "create replicaset" '^replicaset.apps/myapp-replicaset created$' -- k create -f "$M/rs.yaml"
expect "scale replicaset by name" '^replicaset.apps/myapp-replicaset scaled$' -- k scale --replicas=6 replicaset myapp-replicaset
expect "scale replicaset by file" '^replicaset.apps/myapp-replicaset scaled$' -- k scale --replicas=5 -f "$M/rs.yaml"
expect_exact "replicaset replicas" "5" -- k get rs myapp-replicaset -o 'jsonpath={.spec.replicas}'

# --- rollout: history and undo read ReplicaSets owned by the deployment (made here by hand,
# as the deployment controller would)
uid=$(k get deployment web -o 'jsonpath={.metadata.uid}')
for rev in 1 2; do
  image=nginx:1.2$((5 + rev))
  cat >"$M/rs-$rev.yaml" <<YAML
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-rev$rev
  labels: {app: web, pod-template-hash: rev$rev}
  annotations: {deployment.kubernetes.io/revision: "$rev"}
  ownerReferences:
  - {apiVersion: apps/v1, kind: Deployment, name: web, uid: $uid, controller: true, blockOwnerDeletion: true}
spec:
  replicas: 0
  selector:
    matchLabels: {app: web, pod-template-hash: rev$rev}
  template:
    metadata:
      labels: {app: web, pod-template-hash: rev$rev}
    spec:
      containers:
      - name: www
        image: $image
YAML
  k create -f "$M/rs-$rev.yaml" >/dev/null
done
expect "rollout history" 'REVISION +CHANGE-CAUSE' -- k rollout history deployment/web
expect "rollout history lists revisions" '^2 +<none>$' -- k rollout history deployment/web
expect "rollout history --revision" 'Image:[[:space:]]+nginx:1\.26' -- k rollout history deployment/web --revision=1
expect "rollout undo --to-revision" '^deployment.apps/web rolled back$' -- k rollout undo deployment/web --to-revision=2
expect_exact "undo restored the template" "nginx:1.27" -- k get deployment web -o 'jsonpath={.spec.template.spec.containers[0].image}'
expect "rollout pause" '^deployment.apps/web paused$' -- k rollout pause deployment/web
expect_exact "paused" "true" -- k get deployment web -o 'jsonpath={.spec.paused}'
expect "rollout resume" '^deployment.apps/web resumed$' -- k rollout resume deployment/web
expect_exact "resumed" "" -- k get deployment web -o 'jsonpath={.spec.paused}'
expect "rollout restart" '^deployment.apps/web restarted$' -- k rollout restart deployment/web
expect "restart annotation" 'kubectl.kubernetes.io/restartedAt' -- k get deployment web -o yaml
expect "set image with the documented form" '^deployment.apps/web image updated$' -- k set image deployment/web www=image:v2

# --- nodes: cordon/uncordon
cat >"$M/node.yaml" <<'YAML'
apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels: {kubernetes.io/hostname: node-1, node-role.kubernetes.io/worker: ""}
YAML
expect "create node" '^node/node-1 created$' -- k create -f "$M/node.yaml"
expect "cordon" '^node/node-1 cordoned$' -- k cordon node-1
expect "cordoned node shows SchedulingDisabled" '^node-1 +[A-Za-z]+,SchedulingDisabled +worker' -- k get node node-1
expect "uncordon" '^node/node-1 uncordoned$' -- k uncordon node-1
expect_exact "unschedulable cleared" "" -- k get node node-1 -o 'jsonpath={.spec.unschedulable}'

# --- status subresource: the main resource cannot change status, /status can
expect "status patch" 'patched' -- k patch deployment web --subresource=status --type=merge -p '{"status":{"replicas":7}}'
expect_exact "status stored" "7" -- k get deployment web -o 'jsonpath={.status.replicas}'
expect "main resource ignores status" 'patched' -- k patch deployment web --type=merge -p '{"status":{"replicas":1},"metadata":{"labels":{"x":"y"}}}'
expect_exact "status unchanged by main resource" "7" -- k get deployment web -o 'jsonpath={.status.replicas}'

# --- wait and watch
cat >"$M/job-pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: waiter}
spec:
  containers: [{name: c, image: busybox}]
YAML
k create -f "$M/job-pod.yaml" >/dev/null
(sleep 2; k patch pod waiter --subresource=status --type=merge \
  -p '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}' >/dev/null) &
track_bg $!
expect "wait --for=condition=Ready" '^pod/waiter condition met$' -- k wait --for=condition=Ready pod/waiter --timeout=30s
expect_fail "wait times out" 'timed out waiting for the condition on pods/waiter' -- k wait --for=condition=Bogus pod/waiter --timeout=2s
k get configmaps -w --output-watch-events >"$TEST_TMP/watch.out" 2>&1 &
watcher=$!
track_bg $watcher
sleep 1
k create configmap watched --from-literal=a=b >/dev/null
k delete configmap watched >/dev/null
if wait_for_file_match "$TEST_TMP/watch.out" '^DELETED +watched' 15; then
  _report ok "get -w streams ADDED and DELETED"
else
  _report fail "get -w streams ADDED and DELETED" "$(cat "$TEST_TMP/watch.out")"
fi
kill "$watcher" 2>/dev/null || true
expect "wait --for=delete" 'deleted|condition met' -- bash -c \
  "(sleep 1; timeout 60 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' delete pod waiter --wait=false >/dev/null) & timeout 60 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' --cache-dir '$TEST_TMP/kubectl-cache' wait --for=delete pod/waiter --timeout=30s"

# --- eviction and PodDisruptionBudgets
cat >"$M/guarded.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: guarded, labels: {app: guarded}}
spec:
  containers: [{name: c, image: busybox}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: guard}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: guarded}}
YAML
k create -f "$M/guarded.yaml" >/dev/null
k patch pod guarded --subresource=status --type=merge -p '{"status":{"phase":"Running"}}' >/dev/null
expect_exact "eviction blocked by the budget is 429" "429" -- bash -c \
  "timeout 30 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' create --raw /api/v1/namespaces/default/pods/guarded/eviction -f - -v=6 <<<'{\"apiVersion\":\"policy/v1\",\"kind\":\"Eviction\",\"metadata\":{\"name\":\"guarded\"}}' 2>&1 | grep -o 'eviction 429' | cut -d' ' -f2"
k patch pdb guard --subresource=status --type=merge -p '{"status":{"disruptionsAllowed":1,"currentHealthy":1,"desiredHealthy":1,"expectedPods":1}}' >/dev/null
printf '%s' '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"guarded"}}' >"$M/eviction.json"
expect "eviction allowed by the budget" 'Success' -- k create --raw /api/v1/namespaces/default/pods/guarded/eviction -f "$M/eviction.json"
expect_fail "evicted pod is gone" 'NotFound' -- k get pod guarded

# --- deletion: cascade policies and namespaces
expect "delete --cascade=orphan records the policy" 'deleted' -- k delete rs web-rev1 --cascade=orphan --wait=false
expect "orphan finalizer set for the garbage collector" 'orphan' -- k get rs web-rev1 -o 'jsonpath={.metadata.finalizers}'
expect "delete --cascade=foreground records the policy" 'deleted' -- k delete rs web-rev2 --cascade=foreground --wait=false
expect "foreground finalizer" 'foregroundDeletion' -- k get rs web-rev2 -o 'jsonpath={.metadata.finalizers}'
expect "delete background" '^deployment.apps "web" deleted$' -- k delete deployment web --cascade=background
k create namespace doomed >/dev/null
expect "namespace delete" 'namespace "doomed" deleted' -- k delete namespace doomed --wait=false
expect "namespace is Terminating" '^doomed +Terminating' -- k get namespace doomed
expect_fail "no new objects in a terminating namespace" 'unable to create new content in namespace doomed because it is being terminated' -- \
  k create configmap late -n doomed

# --- exec/attach to a pod whose node has no kubelet to reach (no addresses): upstream's 503
# "no preferred addresses found", over kubectl's WebSocket and over the SPDY fallback alike.
# (The streams themselves are the kubelet's: tests/e2e/streaming.sh.)
k run streamer --image=nginx --overrides='{"spec":{"nodeName":"node-1"}}' >/dev/null
expect_fail "exec over WebSocket reports the unreachable kubelet" \
  'Error from server \(ServiceUnavailable\): no preferred addresses found; known addresses: \[\] \(node node-1\)' -- \
  k exec streamer -- ls /
expect_fail "attach too" 'no preferred addresses found' -- k attach streamer
expect_fail "exec over the SPDY fallback" 'Error from server \(ServiceUnavailable\): no preferred addresses found' -- \
  env KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false "$KUBECTL_BIN" --kubeconfig "$TEST_TMP/kubeconfig" --cache-dir "$TEST_TMP/kubectl-cache" exec streamer -- ls
expect_fail "exec into a missing pod" 'pods "nosuch" not found' -- k exec nosuch -- ls

finish
