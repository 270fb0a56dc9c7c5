#!/usr/bin/env bash
# The ReplicaSet and Deployment controllers with the real kubectl. No kubelet runs here: a
# helper marks Pending pods Running and Ready through the status subresource, as a kubelet
# would report them, so rollouts can progress. (tests/integration/hollow/ does the same with
# simulated nodes and the scheduler.)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"

# mark_ready: every Pending pod in the default namespace becomes Running and Ready.
mark_ready() {
  local p
  for p in $(k get pods -o name --field-selector=status.phase=Pending); do
    k patch "$p" --subresource=status --type=merge -p \
      '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}' >/dev/null || true
  done
}
# count_pods SELECTOR [EXCLUDE]: how many pods match (optionally leaving one name out).
count_pods() { k get pods -l "$1" -o name | grep -vc "^pod/${2:-^}$" || true; }
# rs_replicas_by_revision APP: spec.replicas of the app's ReplicaSets, oldest revision first.
rs_replicas_by_revision() {
  k get rs -l "app=$1" --sort-by='.metadata.annotations.deployment\.kubernetes\.io/revision' -o 'jsonpath={.items[*].spec.replicas}'
}
# ready_loop SECONDS: keeps marking pods ready in the background (a stand-in kubelet).
ready_loop() {
  ( local end=$((SECONDS + $1)); while ((SECONDS < end)); do mark_ready; sleep 0.3; done ) &
  track_bg $!
}

# --- a Deployment reaches its replicas
expect "create deployment" '^deployment.apps/frontend created$' -- k create deployment frontend --image=nginx:1.26 --replicas=3
eventually "replica set made with pod-template-hash" '^frontend-[bcdfghjklmnpqrstvwxz2456789]+ +3 +3 ' 20 -- k get rs -l app=frontend
eventually "three pods created" '^3$' 20 -- count_pods app=frontend
ready_loop 150
eventually "deployment ready 3/3" '^frontend +3/3 +3 +3 ' 30 -- k get deployment frontend
expect "rollout status completes" 'successfully rolled out' -- k rollout status deployment/frontend --timeout=30s
expect "Available condition" 'Available +True +MinimumReplicasAvailable' -- k describe deployment frontend
expect "events tell the story" 'ScalingReplicaSet.*Scaled up replica set frontend-[a-z0-9]+ from 0 to 3' -- k describe deployment frontend

# --- scale up and down
expect "scale up" '^deployment.apps/frontend scaled$' -- k scale deployment frontend --replicas=5
eventually "scaled to 5" '^frontend +5/5 +5 +5 ' 30 -- k get deployment frontend
expect "scale down" '^deployment.apps/frontend scaled$' -- k scale deployment frontend --replicas=2
eventually "scaled to 2" '^frontend +2/2 +2 +2 ' 30 -- k get deployment frontend
eventually "surplus pods deleted" '^2$' 30 -- count_pods app=frontend

# --- a new image makes a new ReplicaSet; rollout status completes; history and undo
expect "set image" '^deployment.apps/frontend image updated$' -- k set image deployment/frontend nginx=nginx:1.27
expect "rollout status after set image" 'successfully rolled out' -- k rollout status deployment/frontend --timeout=60s
eventually "new replica set owns the pods" 'nginx:1\.27' 20 -- k get rs -l app=frontend -o wide
expect_exact "old replica set scaled to zero" "0 2" -- rs_replicas_by_revision frontend
expect "rollout history" '^2 +<none>$' -- k rollout history deployment/frontend
expect "set image again" 'image updated' -- k set image deployment/frontend nginx=nginx:1.28
expect "rollout status third revision" 'successfully rolled out' -- k rollout status deployment/frontend --timeout=60s
expect "rollout undo --to-revision=2" '^deployment.apps/frontend rolled back$' -- k rollout undo deployment/frontend --to-revision=2
expect "rollout status after undo" 'successfully rolled out' -- k rollout status deployment/frontend --timeout=60s
expect_exact "image back to revision 2's" "nginx:1.27" -- k get deployment frontend -o 'jsonpath={.spec.template.spec.containers[0].image}'
expect "revision 2 became revision 4" '^4 +<none>$' -- k rollout history deployment/frontend
expect "revision annotation on the deployment" '^4$' -- k get deployment frontend -o 'jsonpath={.metadata.annotations.deployment\.kubernetes\.io/revision}'

# --- pause and resume: a paused Deployment does not roll out
expect "rollout pause" 'paused' -- k rollout pause deployment/frontend
expect "set image while paused" 'image updated' -- k set image deployment/frontend nginx=nginx:1.29
sleep 1
expect_exact "no new replica set while paused" "" -- bash -c "$KUBECTL_BIN --kubeconfig $TEST_TMP/kubeconfig --cache-dir $TEST_TMP/kubectl-cache get rs -l app=frontend -o wide | grep 'nginx:1.29' || true"
eventually "Progressing Unknown DeploymentPaused" 'Progressing +Unknown +DeploymentPaused' 20 -- k describe deployment frontend
expect "rollout resume" 'resumed' -- k rollout resume deployment/frontend
expect "rollout status after resume" 'successfully rolled out' -- k rollout status deployment/frontend --timeout=60s

# --- Recreate strategy
cat >"$M/recreate.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: batchy
spec:
  replicas: 2
  strategy:
    type: Recreate
  selector:
    matchLabels: {app: batchy}
  template:
    metadata:
      labels: {app: batchy}
    spec:
      containers:
      - name: c
        image: busybox:1
YAML
expect "create Recreate deployment" 'created' -- k apply -f "$M/recreate.yaml"
expect "Recreate rolls out" 'successfully rolled out' -- k rollout status deployment/batchy --timeout=60s
expect "Recreate new image" 'image updated' -- k set image deployment/batchy c=busybox:2
expect "Recreate rollout completes" 'successfully rolled out' -- k rollout status deployment/batchy --timeout=60s
expect "Recreate scaled old to 0 before new up" 'Scaled down replica set batchy-[a-z0-9]+ from 2 to 0' -- k describe deployment batchy

# --- proportional scaling: a resize in the middle of a rollout is spread over the active
# ReplicaSets (namespace prop: the background ready loop only serves default, so the new pods
# stay unready and the rollout stays half done)
k create namespace prop >/dev/null
k -n prop create deployment spread --image=nginx:1 --replicas=10 >/dev/null
eventually "spread: ten pods" '^10$' 30 -- bash -c "$KUBECTL_BIN --kubeconfig $TEST_TMP/kubeconfig --cache-dir $TEST_TMP/kubectl-cache -n prop get pods -o name | grep -c ."
for p in $(k -n prop get pods -o name); do
  k -n prop patch "$p" --subresource=status --type=merge -p \
    '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}' >/dev/null
done
eventually "spread: 10/10 available" '^spread +10/10 +10 +10 ' 30 -- k -n prop get deployment spread
k -n prop set image deployment/spread nginx=nginx:2 >/dev/null
prop_sizes() { k -n prop get rs --sort-by='.metadata.annotations.deployment\.kubernetes\.io/revision' -o 'jsonpath={.items[*].spec.replicas}'; }
eventually "mid-rollout within maxSurge 3 / maxUnavailable 2: old 8, new 5" '^8 5$' 30 -- prop_sizes
expect "resize to 20 mid-rollout" 'scaled' -- k -n prop scale deployment spread --replicas=20
eventually "the resize is spread in proportion: old 15, new 10 (25 = 20 + maxSurge 5)" '^15 10$' 30 -- prop_sizes
expect "proportional scale events" 'Scaled up replica set spread-[a-z0-9]+ from 8 to 15' -- k -n prop describe deployment spread
eventually "annotations record the new size" '^20 20$' 30 -- \
  k -n prop get rs -o 'jsonpath={.items[*].metadata.annotations.deployment\.kubernetes\.io/desired-replicas}'

# --- a ReplicaSet on its own: scale by name and by file; a deleted pod is replaced
cat >"$M/replicaset-definition.yaml" <<'YAML'
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: myapp-replicaset
  labels: {app: myapp}
spec:
  replicas: 3
  selector:
    matchLabels: {type: front-end}
  template:
    metadata:
      labels: {type: front-end}
    spec:
      containers:
      - name: nginx
        image: nginx
YAML
expect "create replicaset" 'created' -- k create -f "$M/replicaset-definition.yaml"
eventually "replicaset 3 ready" '^myapp-replicaset +3 +3 +3 ' 30 -- k get rs myapp-replicaset
expect "scale --replicas=6 replicaset myapp-replicaset" 'scaled' -- k scale --replicas=6 replicaset myapp-replicaset
eventually "six pods" '^myapp-replicaset +6 +6 +6 ' 30 -- k get rs myapp-replicaset
expect "scale --replicas=6 -f replicaset-definition.yaml" 'scaled' -- k scale --replicas=2 -f "$M/replicaset-definition.yaml"
eventually "scaled down to two by file" '^myapp-replicaset +2 +2 +2 ' 30 -- k get rs myapp-replicaset
victim=$(k get pods -l type=front-end -o jsonpath='{.items[0].metadata.name}')
expect "delete a pod" "pod \"$victim\" deleted" -- k delete pod "$victim" --wait=false
eventually "deleted pod replaced" '^2$' 30 -- count_pods type=front-end "$victim"
expect "SuccessfulCreate events" 'SuccessfulCreate +replicaset/myapp-replicaset +Created pod: myapp-replicaset-' -- k get events --field-selector involvedObject.name=myapp-replicaset

# --- adoption: a matching orphan pod is adopted instead of a new pod being made
cat >"$M/orphan.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: orphan
  labels: {tier: adopt-me}
spec:
  containers:
  - name: nginx
    image: nginx
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: adopter
spec:
  replicas: 1
  selector:
    matchLabels: {tier: adopt-me}
  template:
    metadata:
      labels: {tier: adopt-me}
    spec:
      containers:
      - name: nginx
        image: nginx
YAML
expect "create orphan, then a replica set selecting it" 'replicaset.apps/adopter created' -- k create -f "$M/orphan.yaml"
eventually "orphan adopted" '^ReplicaSet/adopter$' 20 -- k get pod orphan -o 'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}'
eventually "no extra pod made" '^adopter +1 +1 ' 20 -- k get rs adopter
expect_exact "only the adopted pod" "1" -- count_pods tier=adopt-me
expect "relabel releases it" 'labeled' -- k label pod orphan tier=released --overwrite
eventually "released pod has no owner" '^(\[\])?$' 20 -- k get pod orphan -o 'jsonpath={.metadata.ownerReferences}'
eventually "replacement made after release" '^1$' 20 -- count_pods tier=adopt-me

# --- a ReplicationController
cat >"$M/rc.yaml" <<'YAML'
apiVersion: v1
kind: ReplicationController
metadata:
  name: legacy
spec:
  replicas: 2
  selector: {app: legacy}
  template:
    metadata:
      labels: {app: legacy}
    spec:
      containers:
      - name: c
        image: nginx
YAML
expect "create replicationcontroller" 'created' -- k apply -f "$M/rc.yaml"
eventually "replicationcontroller ready" '^legacy +2 +2 +2 ' 30 -- k get rc legacy

# --- the controllers hold their leader-election Lease
expect "controller manager lease" 'kube-controller-manager' -- k get lease -n kube-system
# ... and kubectl get componentstatuses says both run (as a k3s server on SQLite lists them)
expect "get cs: the controller manager Healthy" '^controller-manager +Healthy +ok' -- k get cs
expect "get cs: the scheduler Healthy" '^scheduler +Healthy +ok' -- k get cs

finish
