#!/usr/bin/env bash
# The Endpoints and EndpointSlice controllers seen through the real kubectl: a Service's
# Endpoints and EndpointSlices follow its pods' readiness (driven here by patching pod status as
# a kubelet would), named target ports resolve to container ports, a Service without selector
# keeps the Endpoints its user wrote, and deleting the Service removes both.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
source "$HERE/lib_controllers.sh"
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"

cat >"$M/web.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: web-a, labels: {app: web}}
spec:
  containers: [{name: c, image: busybox, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: web-b, labels: {app: web}}
spec:
  containers: [{name: c, image: busybox, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, labels: {tier: front}}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}]
YAML
expect "create pods and service" 'service/web created' -- k apply -f "$M/web.yaml"
eventually "endpoints exist, empty" 20 '^web$' -- k get endpoints web -o 'jsonpath={.metadata.name}'
eventually "placeholder endpointslice" 20 'endpointslice' -- k get endpointslices -l kubernetes.io/service-name=web -o name

expect "web-a ready" 'patched' -- ready_pod default web-a 10.42.0.11
expect "web-b running, not ready" 'patched' -- k patch pod web-b --subresource=status --type=merge -p \
  '{"status":{"phase":"Running","podIP":"10.42.0.12","podIPs":[{"ip":"10.42.0.12"}],"conditions":[{"type":"Ready","status":"False"}]}}'
eventually_exact "ready address" 20 "10.42.0.11 web-a" -- k get endpoints web -o 'jsonpath={.subsets[0].addresses[0].ip} {.subsets[0].addresses[0].targetRef.name}'
eventually_exact "not-ready address" 20 "10.42.0.12" -- k get endpoints web -o 'jsonpath={.subsets[0].notReadyAddresses[*].ip}'
expect_exact "named target port resolved" "http 8080 TCP" -- k get endpoints web -o 'jsonpath={.subsets[0].ports[0].name} {.subsets[0].ports[0].port} {.subsets[0].ports[0].protocol}'
expect_exact "endpoints carry the service's labels" "front" -- k get endpoints web -o 'jsonpath={.metadata.labels.tier}'
expect "kubectl get endpoints" 'web +10.42.0.11:8080' -- k get endpoints web

slice() { k get endpointslices -l kubernetes.io/service-name=web -o "jsonpath=$1"; }
eventually_exact "slice endpoints and conditions" 20 "10.42.0.11:true:true:false 10.42.0.12:false:false:false" -- \
  slice '{range .items[*].endpoints[*]}{.addresses[0]}:{.conditions.ready}:{.conditions.serving}:{.conditions.terminating} {end}'
expect_exact "slice metadata" "IPv4 endpointslice-controller.k8s.io web- Service/web http/8080/TCP" -- \
  slice '{.items[0].addressType} {.items[0].metadata.labels.endpointslice\.kubernetes\.io/managed-by} {.items[0].metadata.generateName} {.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name} {.items[0].ports[0].name}/{.items[0].ports[0].port}/{.items[0].ports[0].protocol}'
expect_exact "slice targetRef" "Pod/web-a" -- slice '{.items[0].endpoints[0].targetRef.kind}/{.items[0].endpoints[0].targetRef.name}'
expect_exact "one slice" "1" -- bash -c "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get endpointslices -l kubernetes.io/service-name=web -o name | grep -c ."

expect "web-b ready" 'patched' -- ready_pod default web-b 10.42.0.12
eventually_exact "both ready" 20 "10.42.0.11 10.42.0.12" -- k get endpoints web -o 'jsonpath={.subsets[0].addresses[*].ip}'
eventually_exact "slice: both ready" 20 "true true" -- slice '{.items[0].endpoints[*].conditions.ready}'
expect "delete web-a" 'deleted' -- k delete pod web-a --wait=false
eventually_exact "deleted pod leaves endpoints" 20 "10.42.0.12" -- k get endpoints web -o 'jsonpath={.subsets[0].addresses[*].ip}'
eventually_exact "deleted pod leaves the slice" 20 "10.42.0.12" -- slice '{.items[0].endpoints[*].addresses[0]}'

# Many pods: at most 100 endpoints per slice.
for i in $(seq 1 105); do
  cat <<YAML
---
apiVersion: v1
kind: Pod
metadata: {name: many-$i, labels: {app: many}}
spec: {containers: [{name: c, image: busybox}]}
YAML
done >"$M/many.yaml"
cat >>"$M/many.yaml" <<'YAML'
---
apiVersion: v1
kind: Service
metadata: {name: many}
spec:
  selector: {app: many}
  ports: [{port: 80, targetPort: 8080}]
YAML
expect "create 105 pods" 'service/many created' -- k apply -f "$M/many.yaml"
for i in $(seq 1 105); do
  k patch pod "many-$i" --subresource=status --type=merge -p \
    "{\"status\":{\"phase\":\"Running\",\"podIP\":\"10.42.1.$i\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}" >/dev/null
done
eventually_exact "105 endpoints in 2 slices" 30 "100 5" -- bash -c \
  "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get endpointslices -l kubernetes.io/service-name=many -o json | python3 -c 'import json,sys; print(\" \".join(str(n) for n in sorted((len(s.get(\"endpoints\") or []) for s in json.load(sys.stdin)[\"items\"]), reverse=True)))'"

# A Service without selector: its Endpoints are the user's.
cat >"$M/manual.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: external}
spec:
  ports: [{port: 443}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: external}
subsets:
- addresses: [{ip: 192.0.2.10}]
  ports: [{port: 443}]
YAML
expect "service without selector" 'endpoints/external created' -- k apply -f "$M/manual.yaml"
sleep 2
expect_exact "manual endpoints kept" "192.0.2.10" -- k get endpoints external -o 'jsonpath={.subsets[0].addresses[*].ip}'
expect_exact "no slices for it" "" -- k get endpointslices -l kubernetes.io/service-name=external -o name

expect "delete service" 'deleted' -- k delete service web
eventually "endpoints removed with the service" 20 'NotFound|not found' -- bash -c "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get endpoints web 2>&1 || true"
eventually_exact "slices removed with the service" 20 "" -- k get endpointslices -l kubernetes.io/service-name=web -o name

finish
