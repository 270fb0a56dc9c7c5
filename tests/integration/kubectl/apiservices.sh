#!/usr/bin/env bash
# APIServices (apiregistration.k8s.io/v1) and API aggregation with the real kubectl and a real
# HTTPS extension API server (extension_server.py, which trusts only what the ConfigMap
# kube-system/extension-apiserver-authentication tells it to): the Local APIServices of the
# built-in and custom groups with upstream's columns, validation as upstream's, the ConfigMap and
# the Role extension servers bind to; an APIService backed by a Service becoming Available, its
# resources in discovery (`kubectl get flunders`, api-resources), reads and creates proxied with the
# front-proxy certificate and the user (impersonated too) in X-Remote-*, never the caller's
# credentials, RBAC applied before anything is proxied; ServiceNotFound, MissingEndpoints and
# FailedDiscoveryCheck with 503 for callers; the aggregator's metrics.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
require_tool openssl
require_tool python3
require_tool promtool
TOKENS=$TEST_TMP/tokens.csv
printf 'nobody-token,nobody,1001\nroot-token,root,1002,"system:masters"\n' >"$TOKENS"
KITE_ARGS=(--token-auth-file "$TOKENS")
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"
admin_cert_files
# kt TOKEN ARGS... — kubectl with the bearer token alone (no client certificate).
kt() {
  local token=$1
  shift
  timeout 60 "$KUBECTL_BIN" --kubeconfig /dev/null --cache-dir "$TEST_TMP/kubectl-cache-$token" --server "$BASE" \
    --certificate-authority "$TEST_TMP/ca.crt" --token "$token" "$@" </dev/null
}

# --- the Local APIServices
expect "kubectl get apiservices: upstream's columns" '^NAME +SERVICE +AVAILABLE +AGE' -- k get apiservices
eventually "the core group's is v1., Local and Available" '^v1\. +Local +True ' 10 -- k get apiservices
expect "…and every built-in group/version has one" '^v2\.autoscaling +Local +True' -- k get apiservices
expect "…metrics.k8s.io's (the built-in metrics server) too" '^v1beta1\.metrics\.k8s\.io +Local +True' -- k get apiservices
expect_exact "…labelled automanaged=onstart with upstream's priorities" "onstart 17800 15" -- \
  k get apiservice v1.apps -o 'jsonpath={.metadata.labels.kube-aggregator\.kubernetes\.io/automanaged} {.spec.groupPriorityMinimum} {.spec.versionPriority}'
expect_exact "…Available with reason Local" "True Local Local APIServices are always available" -- \
  k get apiservice v1. -o 'jsonpath={.status.conditions[?(@.type=="Available")].status} {.status.conditions[0].reason} {.status.conditions[0].message}'
cat >"$M/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gizmos.toys.example.com}
spec:
  group: toys.example.com
  scope: Namespaced
  names: {plural: gizmos, singular: gizmo, kind: Gizmo}
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
YAML
k apply -f "$M/crd.yaml" >/dev/null
eventually "a CRD's group/version gets a Local APIService (automanaged=true, priority 1000/100)" '^true 1000 100$' 10 -- \
  k get apiservice v1.toys.example.com -o 'jsonpath={.metadata.labels.kube-aggregator\.kubernetes\.io/automanaged} {.spec.groupPriorityMinimum} {.spec.versionPriority}'
k delete -f "$M/crd.yaml" >/dev/null
eventually "…which goes with the CRD" 'NotFound' 10 -- bash -c "$(declare -f k); TEST_TMP=$TEST_TMP KUBECTL_BIN=$KUBECTL_BIN k get apiservice v1.toys.example.com 2>&1 || true"

# --- validation (upstream's messages)
bad() {  # NAME SPEC-YAML
  printf 'apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: %s}\nspec: %s\n' "$1" "$2" >"$M/bad.yaml"
  k create -f "$M/bad.yaml"
}
expect_fail "the name must be version.group" 'metadata.name: Invalid value: "v1.other.io": must be `spec.version\+"."\+spec.group`: "v1.wardle.io"' -- \
  bad v1.other.io '{group: wardle.io, version: v1, groupPriorityMinimum: 100, versionPriority: 10, service: {namespace: default, name: x}}'
expect_fail "groupPriorityMinimum within 1-20000" 'spec.groupPriorityMinimum: Invalid value: 0: must be positive and less than 20000' -- \
  bad v1.wardle.io '{group: wardle.io, version: v1, groupPriorityMinimum: 0, versionPriority: 1001, service: {namespace: default, name: x}}'
expect_fail "versionPriority within 1-1000" 'spec.versionPriority: Invalid value: 1001: must be positive and less than 1000' -- \
  bad v1.wardle.io '{group: wardle.io, version: v1, groupPriorityMinimum: 0, versionPriority: 1001, service: {namespace: default, name: x}}'
expect_fail "a local APIService has no caBundle" 'spec.caBundle: Invalid value: .*local APIServices may not have a caBundle' -- \
  bad v1.wardle.io '{group: wardle.io, version: v1, groupPriorityMinimum: 100, versionPriority: 10, caBundle: Zm9v}'
expect_fail "insecureSkipTLSVerify excludes a caBundle" 'spec.insecureSkipTLSVerify: Invalid value: true: may not be true if caBundle is present' -- \
  bad v1.wardle.io '{group: wardle.io, version: v1, groupPriorityMinimum: 100, versionPriority: 10, insecureSkipTLSVerify: true, caBundle: Zm9v, service: {namespace: default, name: x}}'
expect_fail "the version is a DNS-1035 label" 'spec.version: Invalid value: "1v": a DNS-1035 label' -- \
  bad 1v.wardle.io '{group: wardle.io, version: 1v, groupPriorityMinimum: 100, versionPriority: 10, service: {namespace: default, name: x}}'

# --- what extension servers trust: the ConfigMap and the Role they bind to
TLS=$TEST_TMP/kite-data/server/tls
k get configmap extension-apiserver-authentication -n kube-system -o 'jsonpath={.data.requestheader-client-ca-file}' >"$TEST_TMP/rh-ca.crt"
expect "the ConfigMap's requestheader-client-ca-file is the request-header CA" '^$' -- \
  diff <(openssl x509 -noout -fingerprint -in "$TEST_TMP/rh-ca.crt") <(openssl x509 -noout -fingerprint -in "$TLS/request-header-ca.crt")
expect_exact "…with upstream's header names and k3s's allowed name" '["system:auth-proxy"] ["X-Remote-User"] ["X-Remote-Group"] ["X-Remote-Extra-"]' -- \
  k get configmap extension-apiserver-authentication -n kube-system -o 'jsonpath={.data.requestheader-allowed-names} {.data.requestheader-username-headers} {.data.requestheader-group-headers} {.data.requestheader-extra-headers-prefix}'
expect "…and its client-ca-file the client CA" 'BEGIN CERTIFICATE' -- \
  k get configmap extension-apiserver-authentication -n kube-system -o 'jsonpath={.data.client-ca-file}'
expect "the Role extension-apiserver-authentication-reader reads it" 'extension-apiserver-authentication.*get.*list.*watch|get.*list.*watch.*extension-apiserver-authentication' -- \
  k get role extension-apiserver-authentication-reader -n kube-system -o 'jsonpath={.rules}'
expect "the proxy's certificate is system:auth-proxy of that CA" 'CN ?= ?system:auth-proxy' -- \
  openssl x509 -noout -subject -nameopt compat -in "$TLS/client-auth-proxy.crt"

# --- an extension API server behind a Service (its own CA; it trusts the ConfigMap's CA)
C=$TEST_TMP/ext-tls
mkdir -p "$C"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=wardle-ca -keyout "$C/ca.key" -out "$C/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=wardle -keyout "$C/tls.key" -out "$C/tls.csr" 2>/dev/null
printf 'subjectAltName=DNS:wardle.default.svc\n' >"$C/ext"
openssl x509 -req -in "$C/tls.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial -days 1 -extfile "$C/ext" \
  -out "$C/tls.crt" 2>/dev/null
CA_BUNDLE=$(base64 -w0 "$C/ca.crt")
EXT_PORT=$(free_port)
LOG=$TEST_TMP/ext.log
: >"$LOG"
ALLOWED=$(k get configmap extension-apiserver-authentication -n kube-system -o 'jsonpath={.data.requestheader-allowed-names}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)[0])')
_spawn "$TEST_TMP/ext-server.log" python3 "$HERE/extension_server.py" "$EXT_PORT" "$C/tls.crt" "$C/tls.key" "$TEST_TMP/rh-ca.crt" "$ALLOWED" "$LOG"
EXT_PID=$LAST_PID
for _ in $(seq 50); do
  curl -s --cacert "$C/ca.crt" --resolve "wardle.default.svc:$EXT_PORT:127.0.0.1" --cert "$TLS/client-auth-proxy.crt" \
    --key "$TLS/client-auth-proxy.key" -o /dev/null "https://wardle.default.svc:$EXT_PORT/" && break
  sleep 0.1
done
: >"$LOG"

cat >"$M/apiservice.yaml" <<YAML
apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1alpha1.wardle.example.com}
spec:
  group: wardle.example.com
  version: v1alpha1
  groupPriorityMinimum: 1000
  versionPriority: 15
  service: {namespace: default, name: wardle}
  caBundle: $CA_BUNDLE
YAML
expect "an APIService with a service is created" 'apiservice.apiregistration.k8s.io/v1alpha1.wardle.example.com created' -- k apply -f "$M/apiservice.yaml"
expect_exact "…with the service's port defaulted to 443" "443" -- k get apiservice v1alpha1.wardle.example.com -o 'jsonpath={.spec.service.port}'
eventually "…unavailable while its Service is missing (ServiceNotFound)" '^v1alpha1\.wardle\.example\.com +default/wardle +False \(ServiceNotFound\)' 15 -- \
  k get apiservice v1alpha1.wardle.example.com --no-headers
expect "…with upstream's message" 'service/wardle in "default" is not present' -- \
  k get apiservice v1alpha1.wardle.example.com -o 'jsonpath={.status.conditions[0].message}'
expect_fail "a request for it is answered 503" 'ServiceUnavailable|the server is currently unable to handle the request' -- \
  k get --raw /apis/wardle.example.com/v1alpha1/namespaces/default/flunders
# The Service without a selector, so that its Endpoints are the test's to write.
printf 'apiVersion: v1\nkind: Service\nmetadata: {name: wardle}\nspec: {ports: [{name: https, port: 443}]}\n' >"$M/service.yaml"
k create -f "$M/service.yaml" >/dev/null
eventually "a Service without endpoints: MissingEndpoints" 'False \(MissingEndpoints\)' 15 -- k get apiservice v1alpha1.wardle.example.com --no-headers
cat >"$M/endpoints.yaml" <<YAML
apiVersion: v1
kind: Endpoints
metadata: {name: wardle}
subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{name: https, port: $EXT_PORT}]}]
YAML
k apply -f "$M/endpoints.yaml" >/dev/null
eventually "with a ready endpoint the discovery check passes: Available" '^v1alpha1\.wardle\.example\.com +default/wardle +True ' 20 -- \
  k get apiservice v1alpha1.wardle.example.com --no-headers
expect "…reason Passed" 'Passed all checks passed' -- \
  k get apiservice v1alpha1.wardle.example.com -o 'jsonpath={.status.conditions[0].reason} {.status.conditions[0].message}'
expect "the check came with the front-proxy certificate as system:kube-aggregator" '^GET /apis/wardle.example.com/v1alpha1 system:auth-proxy system:kube-aggregator system:masters -$' -- cat "$LOG"

# --- discovery and requests through the aggregator
eventually "kubectl api-resources lists the extension's resource" '^flunders +fl +wardle.example.com/v1alpha1 +true +Flunder' 20 -- \
  k api-resources --api-group=wardle.example.com
expect "the group/version's document is the extension's own (proxied)" '"groupVersion": "wardle.example.com/v1alpha1"' -- \
  k get --raw /apis/wardle.example.com/v1alpha1
expect "/apis/<group> names the version" '"preferredVersion":\{"groupVersion":"wardle.example.com/v1alpha1"' -- k get --raw /apis/wardle.example.com
cat >"$M/flunder.yaml" <<'YAML'
apiVersion: wardle.example.com/v1alpha1
kind: Flunder
metadata: {name: first}
YAML
: >"$LOG"
expect "kubectl create of an extension's kind is proxied (POST with its body)" 'flunder.wardle.example.com/first created' -- k create -f "$M/flunder.yaml"
expect "kubectl get flunders finds it through discovery" '^first' -- k get flunders --no-headers
expect_exact "the extension stored the user the aggregator named" "system:admin" -- \
  k get flunder first -o 'jsonpath={.metadata.annotations.created-by}'
expect "the extension saw the user and groups in X-Remote-*, with the front-proxy certificate" \
  '^POST /apis/wardle.example.com/v1alpha1/namespaces/default/flunders(\?[^ ]*)? system:auth-proxy system:admin system:masters,system:authenticated -$' -- grep '^POST' "$LOG"
: >"$LOG"
expect "a bearer token's user reaches it too" '^first' -- kt root-token get flunders --no-headers
expect "…named in X-Remote-User; the token itself is never passed on (no Authorization)" \
  '^GET /apis/wardle.example.com/v1alpha1/namespaces/default/flunders(\?[^ ]*)? system:auth-proxy root system:masters,system:authenticated -$' -- cat "$LOG"
: >"$LOG"
expect "an impersonated caller is named as the impersonated user" '^first' -- \
  k get flunders --no-headers --as=jane --as-group=devs --as-group=system:masters
expect "…in X-Remote-User and X-Remote-Group" ' system:auth-proxy jane devs,system:masters,system:authenticated -$' -- \
  grep '^GET /apis/wardle.example.com/v1alpha1/namespaces/default/flunders' "$LOG"
expect "…and the client's address in X-Forwarded-For, as Go's reverse proxy adds it" '^XFF 127\.0\.0\.1$' -- cat "$LOG"
: >"$LOG"
curl -s --cacert "$TEST_TMP/ca.crt" --cert "$TEST_TMP/client.crt" --key "$TEST_TMP/client.key" -H 'X-Forwarded-For: 10.1.2.3' \
  -o /dev/null "$BASE/apis/wardle.example.com/v1alpha1/namespaces/default/flunders" </dev/null || true
expect "…appended to what the request already carried" '^XFF 10\.1\.2\.3, 127\.0\.0\.1$' -- cat "$LOG"
expect_fail "an extension's 404 is relayed as it is" 'flunders.wardle.example.com "nope" not found' -- k get flunder nope
: >"$LOG"
expect_fail "RBAC decides before anything is proxied: a user without rights is Forbidden" \
  'User "nobody" cannot list resource "flunders" in API group "wardle.example.com" in the namespace "default"' -- \
  kt nobody-token get flunders
expect_exact "…and the extension never saw that request" "0" -- bash -c "grep -c nobody '$LOG' || true"

# --- the extension going away: FailedDiscoveryCheck, 503 for callers, the metrics
kill "$EXT_PID" 2>/dev/null || true
wait "$EXT_PID" 2>/dev/null || true
eventually "a dead extension server: FailedDiscoveryCheck" 'False \(FailedDiscoveryCheck\)' 20 -- \
  k get apiservice v1alpha1.wardle.example.com --no-headers
expect "…with upstream's message" 'failing or missing response from https://127.0.0.1:[0-9]+/apis/wardle.example.com/v1alpha1: ' -- \
  k get apiservice v1alpha1.wardle.example.com -o 'jsonpath={.status.conditions[0].message}'
expect_fail "kubectl get flunders: the server is currently unable to handle the request" \
  'the server is currently unable to handle the request' -- k get flunders
expect "its resources stay in discovery meanwhile (stale, as upstream)" '^flunders ' -- k api-resources --api-group=wardle.example.com
k get --raw /metrics >"$TEST_TMP/metrics.txt"
expect "aggregator_unavailable_apiservice is 1 for it" '^aggregator_unavailable_apiservice\{name="v1alpha1.wardle.example.com"\} 1' -- cat "$TEST_TMP/metrics.txt"
expect "…0 for a Local one" '^aggregator_unavailable_apiservice\{name="v1.apps"\} 0' -- cat "$TEST_TMP/metrics.txt"
expect "aggregator_unavailable_apiservice_total counts the reasons" \
  '^aggregator_unavailable_apiservice_total\{name="v1alpha1.wardle.example.com",reason="FailedDiscoveryCheck"\} [1-9]' -- cat "$TEST_TMP/metrics.txt"
expect_exact "promtool finds nothing to say about the aggregator's metrics" "" -- \
  bash -c "grep -E '^(# (HELP|TYPE) )?aggregator_' '$TEST_TMP/metrics.txt' | promtool check metrics 2>&1"
expect "deleting the APIService" 'deleted' -- k delete apiservice v1alpha1.wardle.example.com
eventually "…takes its group out of discovery" '^$' 15 -- k api-resources --api-group=wardle.example.com --no-headers
expect_fail "…and its paths are this server's again (404)" 'NotFound|could not find' -- k get --raw /apis/wardle.example.com/v1alpha1
expect "kite-server is still healthy" '^ok$' -- k get --raw /readyz
finish
