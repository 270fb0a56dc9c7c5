#!/usr/bin/env bash
# A whole small cluster: kite-server (API, controllers, scheduler) and kite-hollow's simulated
# nodes, driven with the real kubectl the way a user runs workloads. Two kite-hollow processes
# (edge-a-0..2, edge-b-0) so one node can be "powered off" (SIGSTOP) on its own.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"
source "$HERE/kubectl/lib_kubectl.sh"
KITE_HOLLOW=${KITE_HOLLOW:-./bin/kite-hollow}
require_tool "$KITE_HOLLOW"
# Hollow nodes serve no kubelet API: no metrics server scraping their made-up addresses
# (10.200.0.x, off this machine).
KITE_ARGS=(--node-monitor-grace-period 4s --disable-metrics-server)
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"

# A CronJob created first: its first run comes at the next minute boundary, checked near the end.
k create cronjob ticker --image=busybox --schedule='*/1 * * * *' -- true >/dev/null

_spawn "$TEST_TMP/hollow-a.log" "$KITE_HOLLOW" --kubeconfig "$TEST_TMP/kubeconfig" --nodes 3 --node-name-prefix edge-a- \
  --heartbeat-interval 1s --node-status-interval 2s --node-labels zone=a --cpu 2 --memory 4Gi --job-pod-duration 1s
_spawn "$TEST_TMP/hollow-b.log" "$KITE_HOLLOW" --kubeconfig "$TEST_TMP/kubeconfig" --nodes 1 --node-name-prefix edge-b- \
  --heartbeat-interval 1s --node-status-interval 2s --node-labels zone=b --cpu 2 --memory 4Gi --job-pod-duration 1s
HOLLOW_B=$LAST_PID

count() { k get pods "$@" --no-headers 2>/dev/null | wc -l; }
running_on() { k get pods "$@" -o 'jsonpath={range .items[?(@.status.phase=="Running")]}{.spec.nodeName}{"\n"}{end}' | sort | uniq -c; }
on_a0() { k get pods -l app=frontend --field-selector spec.nodeName=edge-a-0 -o name | wc -l; }
ready_count() { k get nodes --no-headers | grep -c ' Ready '; }
nodes_of_count() { nodes_of "$@" | wc -w; }
pods_on() { k get pods -l "$2" --field-selector "spec.nodeName=$1" -o name | wc -l; }
nodes_of() { k get pods "$@" -o 'jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u | tr '\n' ' '; }

eventually "four Ready nodes" '^4$' 30 -- ready_count

# --- a Deployment reaches its replicas, on nodes, Running
expect "create deployment" 'created' -- k create deployment frontend --image=nginx:1.26 --replicas=4
expect "rollout status" 'successfully rolled out' -- k rollout status deployment/frontend --timeout=60s
expect "pods Running on hollow nodes" '^frontend-[a-z0-9]+-[a-z0-9]{5} +1/1 +Running +0 +[0-9a-z]+ +10\.64\.[0-9]+\.[0-9]+ +edge-' -- k get pods -l app=frontend -o wide
expect "Scheduled events" 'Successfully assigned default/frontend-[a-z0-9-]+ to edge-' -- k get events --field-selector reason=Scheduled

# --- scale, new image, undo
expect "scale up" 'scaled' -- k scale deployment frontend --replicas=6
expect "rollout status after scale" 'successfully rolled out' -- k rollout status deployment/frontend --timeout=60s
eventually "6/6" '^frontend +6/6 +6 +6 ' 30 -- k get deployment frontend
expect "scale down" 'scaled' -- k scale deployment frontend --replicas=3
eventually "3/3" '^frontend +3/3 +3 +3 ' 30 -- k get deployment frontend
expect "set image deployment/frontend www=image:v2" 'image updated' -- k set image deployment/frontend nginx=nginx:1.27
expect "rollout status after set image" 'successfully rolled out' -- k rollout status deployment/frontend --timeout=60s
expect "rollout undo --to-revision=1" 'rolled back' -- k rollout undo deployment/frontend --to-revision=1
expect "rollout status after undo" 'successfully rolled out' -- k rollout status deployment/frontend --timeout=60s
expect_exact "image back" "nginx:1.26" -- k get deployment frontend -o 'jsonpath={.spec.template.spec.containers[0].image}'

# --- a deleted pod is replaced
victim=$(k get pods -l app=frontend -o jsonpath='{.items[0].metadata.name}')
expect "delete a pod" 'deleted' -- k delete pod "$victim"
eventually "replaced and Running" '^frontend +3/3 +3 +3 ' 30 -- k get deployment frontend
expect_fail "the deleted pod is gone" 'NotFound' -- k get pod "$victim"

# --- cordon keeps new pods away
expect "cordon edge-a-0" 'cordoned' -- k cordon edge-a-0
before_a0=$(on_a0)
expect "scale to 8" 'scaled' -- k scale deployment frontend --replicas=8
expect "rollout status with a cordoned node" 'successfully rolled out' -- k rollout status deployment/frontend --timeout=60s
expect_exact "no new pod on the cordoned node" "$before_a0" -- on_a0
expect "uncordon" 'uncordoned' -- k uncordon edge-a-0

# --- drain evicts and honours a PodDisruptionBudget
cat >"$M/pdb.yaml" <<'YAML'
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: frontend
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {app: frontend}
YAML
expect "create pdb" 'created' -- k apply -f "$M/pdb.yaml"
eventually "pdb allows one disruption" '^frontend +N/A +1 +1 ' 30 -- k get pdb frontend
expect "drain edge-a-1" 'node/edge-a-1 drained' -- k drain edge-a-1 --ignore-daemonsets --delete-emptydir-data --timeout=90s
expect "no pods left on the drained node" 'No resources found' -- k get pods -A --field-selector spec.nodeName=edge-a-1
eventually "replicas back elsewhere" '^frontend +8/8 +8 +8 ' 60 -- k get deployment frontend
cat >"$M/pdb-strict.yaml" <<'YAML'
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: frontend
spec:
  maxUnavailable: 0
  selector:
    matchLabels: {app: frontend}
YAML
expect "pdb allows nothing" 'configured' -- k apply -f "$M/pdb-strict.yaml"
eventually "pdb at zero" '^frontend +N/A +0 +0 ' 30 -- k get pdb frontend
expect_fail "drain blocked by the budget" 'Cannot evict pod as it would violate the pod.s disruption budget' -- \
  k drain edge-a-2 --ignore-daemonsets --timeout=5s
expect "uncordon after the blocked drain" 'uncordoned' -- k uncordon edge-a-1 edge-a-2
expect "delete pdb" 'deleted' -- k delete pdb frontend

# --- placement: nodeSelector, taints, required anti-affinity, topology spread
expect "label edge-a-2 disk=ssd" 'labeled' -- k label node edge-a-2 disk=ssd
cat >"$M/placement.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: wants-ssd
spec:
  nodeSelector: {disk: ssd}
  containers: [{name: c, image: nginx}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: spread-out
spec:
  replicas: 3
  selector: {matchLabels: {app: spread-out}}
  template:
    metadata: {labels: {app: spread-out}}
    spec:
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: spread-out}}
            topologyKey: kubernetes.io/hostname
      containers: [{name: c, image: nginx}]
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: zoned
spec:
  replicas: 4
  selector: {matchLabels: {app: zoned}}
  template:
    metadata: {labels: {app: zoned}}
    spec:
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: zone
        whenUnsatisfiable: DoNotSchedule
        labelSelector: {matchLabels: {app: zoned}}
      containers: [{name: c, image: nginx}]
YAML
expect "create placement workloads" 'deployment.apps/zoned created' -- k apply -f "$M/placement.yaml"
expect "nodeSelector pod Ready" 'condition met' -- k wait --for=condition=Ready pod/wants-ssd --timeout=30s
expect_exact "nodeSelector honoured" "edge-a-2" -- k get pod wants-ssd -o 'jsonpath={.spec.nodeName}'
expect "anti-affinity rolls out" 'successfully rolled out' -- k rollout status deployment/spread-out --timeout=60s
expect_exact "anti-affinity: three pods on three nodes" "3" -- nodes_of_count -l app=spread-out
expect "topology spread rolls out" 'successfully rolled out' -- k rollout status deployment/zoned --timeout=60s
expect_exact "spread: two pods per zone (a: 3 nodes, b: 1 node)" "2" -- \
  pods_on edge-b-0 app=zoned
free=$(comm -23 <(printf '%s\n' edge-a-0 edge-a-1 edge-a-2 edge-b-0) <(nodes_of -l app=spread-out | tr ' ' '\n' | sort))
expect "taint the one node without a spread-out pod" 'tainted' -- k taint node "$free" dedicated=infra:NoSchedule
expect "scale anti-affinity to 4" 'scaled' -- k scale deployment spread-out --replicas=4
eventually "fourth pod Pending: one node per pod, the tainted one excluded" \
  '0/4 nodes are available: 1 node\(s\) had untolerated taint \{dedicated: infra\}, 3 node\(s\) didn.t match pod anti-affinity rules' 30 -- \
  k get events --field-selector reason=FailedScheduling
expect "untaint" 'untainted' -- k taint node "$free" dedicated=infra:NoSchedule-
expect "fourth pod placed once the taint is gone" 'successfully rolled out' -- k rollout status deployment/spread-out --timeout=60s

# --- DaemonSet on every eligible node; StatefulSet in order; a Job completes
cat >"$M/workloads.yaml" <<'YAML'
apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      nodeSelector: {zone: a}
      containers: [{name: c, image: busybox}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 3
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: c, image: postgres}]
---
apiVersion: batch/v1
kind: Job
metadata:
  name: once
spec:
  completions: 3
  parallelism: 2
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: busybox}]
YAML
expect "create DaemonSet, StatefulSet, Job" 'job.batch/once created' -- k apply -f "$M/workloads.yaml"
expect "DaemonSet rolls out" 'successfully rolled out' -- k rollout status daemonset/agent --timeout=60s
expect_exact "one daemon pod per zone=a node" "edge-a-0 edge-a-1 edge-a-2" -- \
  nodes_of -l app=agent
expect "StatefulSet rolls out" 'partitioned roll out complete|rolling update complete|3 pods at revision' -- k rollout status statefulset/db --timeout=60s
expect_exact "StatefulSet pods started in order" "db-0 db-1 db-2" -- \
  k get pods -l app=db --sort-by=.status.startTime -o 'jsonpath={.items[*].metadata.name}'
expect "Job completes" 'condition met' -- k wait --for=condition=complete job/once --timeout=60s
expect_exact "Job succeeded 3" "3" -- k get job once -o 'jsonpath={.status.succeeded}'

# --- a node that stops heartbeating goes NotReady; its pods move after their toleration
cat >"$M/mover.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: mover
spec:
  replicas: 1
  selector: {matchLabels: {app: mover}}
  template:
    metadata: {labels: {app: mover}}
    spec:
      nodeSelector: {zone: b}
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 2}
      containers: [{name: c, image: nginx}]
YAML
expect "create a pod pinned to zone b" 'created' -- k apply -f "$M/mover.yaml"
expect "it runs on edge-b-0" 'successfully rolled out' -- k rollout status deployment/mover --timeout=60s
expect "relax the pin so it can move" 'patched' -- k patch deployment mover --type=json -p '[{"op":"remove","path":"/spec/template/spec/nodeSelector"}]'
expect "the relaxed pod rolls out" 'successfully rolled out' -- k rollout status deployment/mover --timeout=60s
k label node edge-b-0 pin=here >/dev/null
expect "pin the pod to edge-b-0 by affinity preference" 'patched' -- k patch deployment mover --type=merge -p \
  '{"spec":{"template":{"spec":{"affinity":{"nodeAffinity":{"preferredDuringSchedulingIgnoredDuringExecution":[{"weight":100,"preference":{"matchExpressions":[{"key":"pin","operator":"In","values":["here"]}]}}]}}}}}}'
expect "preferred node rollout" 'successfully rolled out' -- k rollout status deployment/mover --timeout=60s
expect_exact "mover on edge-b-0" "edge-b-0" -- nodes_of -l app=mover
kill -STOP "$HOLLOW_B"
eventually "edge-b-0 goes NotReady" '^edge-b-0 +NotReady' 30 -- k get node edge-b-0
eventually "tainted unreachable" 'node.kubernetes.io/unreachable' 20 -- k get node edge-b-0 -o 'jsonpath={.spec.taints}'
eventually "the pod moved to a live node" '^ *1 edge-a-[0-2]$' 60 -- running_on -l app=mover
kill -CONT "$HOLLOW_B"
eventually "edge-b-0 Ready again" '^edge-b-0 +Ready' 30 -- k get node edge-b-0

# --- cascades and namespace deletion with real pods on nodes
expect "create deployment in a namespace" 'created' -- k create namespace scratch
expect "workload in scratch" 'created' -- k create deployment tmp -n scratch --image=nginx --replicas=2
expect "scratch rolls out" 'successfully rolled out' -- k rollout status deployment/tmp -n scratch --timeout=60s
expect "orphan cascade keeps the ReplicaSet" 'deleted' -- k delete deployment tmp -n scratch --cascade=orphan
eventually "ReplicaSet kept, without owner" '^tmp-[a-z0-9]+ +2 +2 +2 ' 20 -- k get rs -n scratch
expect "foreground cascade deletes the ReplicaSet and waits" 'deleted' -- k delete rs -n scratch --all --cascade=foreground --timeout=60s
eventually "pods gone with their ReplicaSet" 'No resources found' 30 -- k get pods -n scratch
expect "background cascade" 'deleted' -- k delete deployment frontend --cascade=background
eventually "frontend's pods go" 'No resources found' 60 -- k get pods -l app=frontend
expect "namespace deletion empties it and completes" 'namespace "scratch" deleted' -- k delete namespace scratch --timeout=60s
expect_fail "namespace gone" 'NotFound' -- k get namespace scratch

# --- the CronJob created at the start has fired by now
eventually "CronJob fired" 'SuccessfulCreate +cronjob/ticker +Created job ticker-' 90 -- k get events --field-selector involvedObject.name=ticker
eventually "its Job completed" 'ticker-[0-9]+ +(Complete|Running) ' 60 -- k get jobs

finish
