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
KITE_ARGS=(--node-monitor-grace-period 4s)
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"

_spawn "$TEST_TMP/hollow-a.log" "$KITE_HOLLOW" --kubeconfig "$TEST_TMP/kubeconfig" --nodes 3 --node-name-prefix edge-a- \
  --heartbeat-interval 1s --node-status-interval 2s --node-labels zone=a --cpu 2 --memory 4Gi --job-pod-duration 1s
_spawn "$TEST_TMP/hollow-b.log" "$KITE_HOLLOW" --kubeconfig "$TEST_TMP/kubeconfig" --nodes 1 --node-name-prefix edge-b- \
  --heartbeat-interval 1s --node-status-interval 2s --node-labels zone=b --cpu 2 --memory 4Gi --job-pod-duration 1s
HOLLOW_B=$LAST_PID

count() { k get pods "$@" --no-headers 2>/dev/null | wc -l; }
running_on() { k get pods "$@" -o 'jsonpath={range .items[?(@.status.phase=="Running")]}{.spec.nodeName}{"\n"}{end}' | sort | uniq -c; }
nodes_of() { k get pods "$@" -o 'jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}' | sort -u | tr '\n' ' '; }

eventually "four Ready nodes" '^4$' 30 -- bash -c "'$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' --cache-dir '$TEST_TMP/kubectl-cache' get nodes --no-headers | grep -c ' Ready '"

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
expect "scale to 8" 'scaled' -- k scale deployment frontend --replicas=8
expect "rollout status with a cordoned node" 'successfully rolled out' -- k rollout status deployment/frontend --timeout=60s
newest=$(k get pods -l app=frontend --sort-by=.metadata.creationTimestamp -o jsonpath='{range .items[*]}{.spec.nodeName}{" "}{end}')
expect_fail "no new pod on the cordoned node" 'edge-a-0' -- bash -c "echo '$(k get pods -l app=frontend -o jsonpath='{range .items[*]}{.metadata.creationTimestamp}{" "}{.spec.nodeName}{"\n"}{end}' | sort | tail -5)' | grep edge-a-0 || exit 1"
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
expect_exact "no pods left on the drained node" "" -- bash -c "'$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' --cache-dir '$TEST_TMP/kubectl-cache' get pods -A --field-selector spec.nodeName=edge-a-1 --no-headers"
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

finish
