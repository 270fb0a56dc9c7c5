#!/usr/bin/env bash
# kubectl_hpa (issue 18): the HorizontalPodAutoscaler controller scales a Deployment up on CPU
# utilization read in-process from the built-in metrics server, which scrapes a fake kubelet
# (../fake_kubelet.py) reporting each pod at 180% of its 100m request: upstream's algorithm
# asks for ceil(180 / 50 x 2) = 8 replicas, limited to max(2 x 2, 4) = 4 in one step
# (ScalingLimited ScaleUpLimit); at the next sync the 2 new pods (Pending: no kubelet) count as
# 0%, (180 + 180 + 0 + 0) / 4 = 90% asks for 8, which is then reached. Status, conditions and the
# SuccessfulRescale Events as upstream. An autoscaling/v1 HPA (kubectl autoscale) scales too.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$HERE/lib.sh"
source "$HERE/kubectl/lib_kubectl.sh"

# No scheduler and no kubelet: the test plays the kubelet's part for the pods' status.
KITE_ARGS=(--metric-resolution 1s --disable-scheduler)
start_kite_api
source "$HERE/kubectl/lib_fake_kubelet.sh"
start_fake_kubelet n1

cat >"$TEST_TMP/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: app, image: busybox, resources: {requests: {cpu: 100m}}}]
EOF
k apply -f "$TEST_TMP/web.yaml" >/dev/null
eventually "the Deployment's 2 pods exist" '^2$' 30 -- bash -c "$(declare -f k); KUBECTL_BIN=$KUBECTL_BIN TEST_TMP=$TEST_TMP; k get pods -l app=web --no-headers | wc -l"

# Running and Ready for ten minutes (past the CPU initialization period), and busy.
started=$(date -u -d '10 minutes ago' +%Y-%m-%dT%H:%M:%SZ)
pods=$(k get pods -l app=web -o jsonpath='{.items[*].metadata.name}')
containers=""
for p in $pods; do
  k patch pod "$p" --subresource=status --type=merge -p "{\"status\":{\"phase\":\"Running\",\"startTime\":\"$started\",
    \"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"$started\"}]}}" >/dev/null
  containers+="${containers:+,}{\"namespace\":\"default\",\"pod\":\"$p\",\"container\":\"app\",\"cpu\":0.18,\"memory\":10485760}"
done
echo "{\"node\":{\"cpu\":0.5,\"memory\":1073741824},\"containers\":[$containers]}" >"$TEST_TMP/load.json"
eventually "the metrics server has the pods' usage" '180m' 30 -- k top pods -l app=web

cat >"$TEST_TMP/hpa.yaml" <<'EOF'
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 1
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
EOF
k apply -f "$TEST_TMP/hpa.yaml" >/dev/null
eventually "the HPA scales the Deployment up to 4 (the scale-up limit), then to 8" '^8$' 90 -- \
  k get deployment web -o jsonpath='{.spec.replicas}'
events() { k get events --field-selector involvedObject.kind=HorizontalPodAutoscaler; }
expect "SuccessfulRescale Events with upstream's messages" \
  'New size: 4; reason: cpu resource utilization \(percentage of request\) above target' -- events
expect "… the second step" 'New size: 8; reason: cpu resource utilization' -- events
eventually "kubectl get hpa shows 180%/50% and the replicas" '^web +Deployment/web +cpu: 180%/50% +1 +10 +8 ' 30 -- \
  k get hpa web --no-headers
expect "status.currentMetrics: averageUtilization and averageValue" '"averageUtilization":180,"averageValue":"180m"' -- \
  k get hpa web -o jsonpath='{.status.currentMetrics[0].resource.current}'
expect "status: currentReplicas, desiredReplicas, lastScaleTime" '^8 8 20[0-9-]+T' -- \
  k get hpa web -o jsonpath='{.status.currentReplicas} {.status.desiredReplicas} {.status.lastScaleTime}'
expect "AbleToScale True" 'True' -- k get hpa web -o jsonpath='{.status.conditions[?(@.type=="AbleToScale")].status}'
expect "ScalingActive True ValidMetricFound" 'ValidMetricFound' -- \
  k get hpa web -o jsonpath='{.status.conditions[?(@.type=="ScalingActive")].reason}'
expect "kubectl describe hpa: the conditions" 'ScalingActive +True +ValidMetricFound' -- k describe hpa web

# autoscaling/v1, as kubectl autoscale writes it: the same scaling, v1's status fields.
k delete hpa web >/dev/null
k scale deployment web --replicas=2 >/dev/null
k autoscale deployment web --cpu-percent=50 --min=1 --max=3 >/dev/null
eventually "a v1 HPA (kubectl autoscale) scales to its max" '^3$' 60 -- k get deployment web -o jsonpath='{.spec.replicas}'
# Read through autoscaling/v1 itself (kubectl 1.32 resolves hpa.v1.autoscaling to the preferred v2).
v1_hpa() {  # v1_hpa PYTHON-EXPRESSION-ON-o
  k get --raw /apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/web |
    python3 -c "import json, sys; o = json.load(sys.stdin); print($1)"
}
eventually "… and v1's status (converted from what the controller writes through v2)" '^3 [0-9]+$' 30 -- \
  v1_hpa 'o["status"].get("currentReplicas", ""), o["status"].get("currentCPUUtilizationPercentage", "")'
# One resource in two versions: v2 readers (kubectl describe, get) see the v1 HPA converted.
expect "the v1 HPA read as v2: a cpu Utilization metric" '^cpu Utilization 50$' -- \
  k get hpa.v2.autoscaling web -o jsonpath='{.spec.metrics[0].resource.name} {.spec.metrics[0].resource.target.type} {.spec.metrics[0].resource.target.averageUtilization}'
expect "kubectl describe of the v1 HPA: its metric and conditions" \
  'resource cpu on pods +\(as a percentage of request\): +[0-9]+% \([0-9]+m\) / 50%|resource cpu on pods +\(as a percentage of request\): +[0-9]+% / 50%' -- k describe hpa web
expect "… and its conditions" 'AbleToScale +True' -- k describe hpa web
expect "kubectl get hpa of the v1 HPA: its columns" '^web +Deployment/web +cpu: [0-9]+%/50% +1 +3 +3 ' -- k get hpa web --no-headers
expect "v2's conditions travel in v1's annotation" 'AbleToScale' -- \
  v1_hpa 'o["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/conditions"]'
expect "… and v1 has no v2 fields" '^None None$' -- v1_hpa 'o["spec"].get("metrics"), o["status"].get("conditions")'
finish
