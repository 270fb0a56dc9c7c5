#!/usr/bin/env bash
# The disruption controller seen through the real kubectl: PodDisruptionBudget status over pods
# a Deployment made (readiness driven by status patches) for minAvailable, a percentage and
# maxUnavailable, and the eviction subresource honouring disruptionsAllowed.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
source "$HERE/lib_controllers.sh"
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"

cat >"$M/web.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: busybox}]}
YAML
expect "create deployment" 'created' -- k apply -f "$M/web.yaml"
pods() { k get pods -l app=web -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}'; }
eventually_exact "three pods" 30 "3" -- bash -c "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get pods -l app=web -o name | grep -c ."
mapfile -t P < <(pods)
ready_pod default "${P[0]}" 10.42.0.21 >/dev/null
ready_pod default "${P[1]}" 10.42.0.22 >/dev/null

expect "create budget minAvailable=2" 'created' -- k create poddisruptionbudget web --selector=app=web --min-available=2
st() { k get pdb "$1" -o 'jsonpath={.status.expectedPods} {.status.currentHealthy} {.status.desiredHealthy} {.status.disruptionsAllowed} {.status.conditions[?(@.type=="DisruptionAllowed")].status} {.status.conditions[?(@.type=="DisruptionAllowed")].reason}'; }
eventually_exact "2 of 3 healthy: no disruption allowed" 20 "3 2 2 0 False InsufficientPods" -- st web
expect_exact "observedGeneration" "1" -- k get pdb web -o 'jsonpath={.status.observedGeneration}'
expect "kubectl get pdb" 'web +2 +N/A +0 ' -- k get pdb web

cat >"$M/evict.json" <<EOF2
{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"${P[0]}","namespace":"default"}}
EOF2
expect_fail "eviction refused by the budget" 'Cannot evict pod as it would violate the pod.s disruption budget' -- \
  k create --raw "/api/v1/namespaces/default/pods/${P[0]}/eviction" -f "$M/evict.json"

ready_pod default "${P[2]}" 10.42.0.23 >/dev/null
eventually_exact "3 of 3 healthy: one disruption allowed" 20 "3 3 2 1 True SufficientPods" -- st web
expect "eviction allowed" 'Success' -- k create --raw "/api/v1/namespaces/default/pods/${P[0]}/eviction" -f "$M/evict.json"
eventually_exact "replacement not ready: none allowed again" 20 "3 2 2 0 False InsufficientPods" -- st web
expect "delete budget" 'deleted' -- k delete pdb web

expect "create budget maxUnavailable=1" 'created' -- k create pdb maxu --selector=app=web --max-unavailable=1
eventually_exact "maxUnavailable: expected from the deployment's replicas" 20 "3 2 2 0 False InsufficientPods" -- st maxu
expect "scale deployment to 4" 'scaled' -- k scale deployment web --replicas=4
eventually_exact "maxUnavailable follows the scale" 20 "4 2 3 0 False InsufficientPods" -- st maxu
expect "delete budget maxu" 'deleted' -- k delete pdb maxu

expect "create budget minAvailable=50%" 'created' -- k create pdb half --selector=app=web --min-available=50%
eventually_exact "50% of 4, rounded up" 20 "4 2 2 0 False InsufficientPods" -- st half
for p in $(pods); do
  [[ $(k get pod "$p" -o 'jsonpath={.status.podIP}') ]] || ready_pod default "$p" "10.42.0.$((RANDOM % 200 + 30))" >/dev/null
done
eventually_exact "all ready: two allowed" 20 "4 4 2 2 True SufficientPods" -- st half
# Four evictions at once against two allowed disruptions (kubectl drain evicts in parallel):
# each success spends one allowance under a resourceVersion precondition, so exactly two pass.
mapfile -t P < <(pods)
for p in "${P[@]}"; do
  printf '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"%s","namespace":"default"}}' "$p" >"$M/evict-$p.json"
done
pids=()
for p in "${P[@]}"; do
  (k create --raw "/api/v1/namespaces/default/pods/$p/eviction" -f "$M/evict-$p.json" >"$M/evict-$p.out" 2>&1 || true) &
  pids+=($!)
done
wait "${pids[@]}"
expect_exact "concurrent evictions: exactly the two allowed succeed" "2" -- bash -c "grep -l Success $M/evict-*.out | wc -l"
expect_exact "the others are refused by the budget" "2" -- bash -c "grep -l 'Cannot evict pod' $M/evict-*.out | wc -l"
eventually_exact "the allowance is spent" 20 "0" -- k get pdb half -o 'jsonpath={.status.disruptionsAllowed}'

cat >"$M/orphans.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: lone, labels: {app: lone}}
spec: {containers: [{name: c, image: busybox}]}
YAML
expect "pod without controller" 'created' -- k apply -f "$M/orphans.yaml"
expect "percentage budget over it" 'created' -- k create pdb lone --selector=app=lone --min-available=50%
eventually "no controller: SyncFailed" 20 'SyncFailed' -- k get pdb lone -o 'jsonpath={.status.conditions[?(@.type=="DisruptionAllowed")].reason}'

finish
