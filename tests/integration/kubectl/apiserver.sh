#!/usr/bin/env bash
# The API server's transport, certificates and authentication, driven by the real kubectl and
# curl against kite-server (formerly the unit test tests/unit/server/apiserver_test.cc): kubectl
# reads the written admin kubeconfig over verified TLS; discovery in every format; create, read
# and delete; a watch from a resourceVersion and after a compaction; anonymous, token and
# certificate callers; certificates kept across a restart. Every wait is on readiness or on a
# stream that ends by its own timeoutSeconds; no fixed sleeps.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
require_tool "${CURL:-curl}"
require_tool openssl
require_tool "$ETCDCTL"
printf '%s\n' 's3cret,bob,1001,"devs,ops"' 'root-token,root,0,system:masters' >"$TEST_TMP/tokens.csv"
# The API server alone: the cases assert the stored state, which controllers would change.
KITE_ARGS=(--disable-controller-manager --disable-scheduler --token-auth-file "$TEST_TMP/tokens.csv"
  --tls-san kite.example.com)
start_kite_api
admin_cert_files
TLS=$TEST_TMP/kite-data/server/tls

# c ARGS... — curl trusting the cluster CA, bounded; stderr with stdout.
c() { "${CURL:-curl}" -sS --max-time 10 --cacert "$TEST_TMP/ca.crt" "$@" 2>&1; }
# admin ARGS... — c as the admin (client certificate from the kubeconfig).
admin() { c --cert "$TEST_TMP/client.crt" --key "$TEST_TMP/client.key" "$@"; }

# --- the written kubeconfig
expect "kubectl version reads the server version" '"gitVersion": "v1\.32\.4\+kite"' -- k version -o json
expect "the server's minor version" '"minor": "32"' -- k version -o json
expect_exact "the kubeconfig is private" "600" -- stat -c %a "$TEST_TMP/kubeconfig"

# --- discovery
expect "api-resources: pods" '^pods +po +v1 +true +Pod$' -- k api-resources
expect "api-resources: deployments" '^deployments +deploy +apps/v1 +true +Deployment$' -- k api-resources
expect "api-resources: customresourcedefinitions" \
  '^customresourcedefinitions +crd,crds +apiextensions\.k8s\.io/v1 +false +CustomResourceDefinition$' -- k api-resources
expect "api-resources: horizontalpodautoscalers" '^horizontalpodautoscalers +hpa +autoscaling/v2 +true +HorizontalPodAutoscaler$' \
  -- k api-resources
expect "api-resources: secrets" '^secrets +v1 +true +Secret$' -- k api-resources
expect "api-resources --namespaced=false lists namespaces" '^namespaces$' -- k api-resources --namespaced=false -o name
not_namespaced_pods() { ! k api-resources --namespaced=false -o name | grep -qx pods; }
if not_namespaced_pods; then _report ok "api-resources --namespaced=false leaves out pods"; else
  _report fail "api-resources --namespaced=false leaves out pods"; fi
for gv in apps/v1 autoscaling/v1 autoscaling/v2 batch/v1 v1 rbac.authorization.k8s.io/v1; do
  expect "api-versions lists $gv" "^${gv//./\\.}\$" -- k api-versions
done
# The legacy documents too (drain and auth can-i read /api/v1 directly).
expect "legacy /api/v1 lists pods/eviction" \
  '\{"name":"pods/eviction","singularName":"","namespaced":true,"kind":"Eviction","verbs":\["create"\],"group":"policy","version":"v1"\}' \
  -- admin "$BASE/api/v1"
# kubectl 1.28 asks for v2beta1 only and must get it.
expect "aggregated discovery v2beta1 on request" '"apiVersion":"apidiscovery\.k8s\.io/v2beta1"' \
  -- admin -H 'Accept: application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList' "$BASE/apis"

# --- create, read, delete
printf '%s\n' 'apiVersion: v1' 'kind: ConfigMap' 'metadata:' '  name: game-config' '  labels:' '    app: game' \
  'data:' '  color: blue' >"$TEST_TMP/cm.yaml"
expect_exact "apply creates" "configmap/game-config created" -- k apply --validate=false -f "$TEST_TMP/cm.yaml"
expect_exact "get -o jsonpath" "blue" -- k get configmap game-config -o 'jsonpath={.data.color}'
expect "get lists it" 'game-config' -- k get configmaps
expect "a uid of 36 characters" '^[0-9a-f-]{36}$' -- k get configmap game-config -o 'jsonpath={.metadata.uid}'
expect_exact "the system namespaces" "namespace/default
namespace/kube-node-lease
namespace/kube-public
namespace/kube-system" -- k get namespaces -o name
expect_fail "a namespace that does not exist" 'namespaces "nope" not found' -- k apply --validate=false -n nope -f "$TEST_TMP/cm.yaml"
printf '%s\n' 'apiVersion: v1' 'kind: ConfigMap' 'metadata:' '  name: Bad_Name' >"$TEST_TMP/bad.yaml"
expect_fail "a name that is not a DNS subdomain" \
  'The ConfigMap "Bad_Name" is invalid: metadata\.name: Invalid value: "Bad_Name": a lowercase RFC 1123 subdomain' \
  -- k apply --validate=false -f "$TEST_TMP/bad.yaml"
# A stale resourceVersion on update is a conflict, in upstream's words.
expect "a stale resourceVersion is a conflict" \
  'Operation cannot be fulfilled on configmaps \\"game-config\\": the object has been modified' \
  -- admin -X PUT -H 'Content-Type: application/json' \
  -d '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"game-config","resourceVersion":"1"},"data":{}}' \
  "$BASE/api/v1/namespaces/default/configmaps/game-config"
expect_exact "the conflict changed nothing" "blue" -- k get configmap game-config -o 'jsonpath={.data.color}'
expect_exact "delete" 'configmap "game-config" deleted' -- k delete configmap game-config
expect_fail "get after delete" 'Error from server \(NotFound\): configmaps "game-config" not found' -- k get configmap game-config

# --- watch from a resourceVersion: the events after it, in order, then the stream ends by its
# timeoutSeconds.
rv=$(admin "$BASE/api/v1/namespaces/default/configmaps" | grep -o '"resourceVersion":"[0-9]*"' | head -n1 | cut -d'"' -f4)
[[ -n $rv ]] || fail "no resourceVersion in the list"
printf '%s\n' 'apiVersion: v1' 'kind: ConfigMap' 'metadata:' '  name: watched' 'data:' '  a: b' >"$TEST_TMP/w.yaml"
expect_exact "create the watched object" "configmap/watched created" -- k apply --validate=false -f "$TEST_TMP/w.yaml"
expect_exact "delete the watched object" 'configmap "watched" deleted' -- k delete configmap watched
admin -N "$BASE/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=2&resourceVersion=$rv" >"$TEST_TMP/watch.out"
added=$(grep -n '^{"type":"ADDED","object":{.*"name":"watched"' "$TEST_TMP/watch.out" | head -n1 | cut -d: -f1)
deleted=$(grep -n '^{"type":"DELETED","object":{.*"name":"watched"' "$TEST_TMP/watch.out" | head -n1 | cut -d: -f1)
if [[ -n $added && -n $deleted && $added -lt $deleted ]]; then
  _report ok "watch from a resourceVersion: ADDED then DELETED"
else
  _report fail "watch from a resourceVersion: ADDED then DELETED" "$(cat "$TEST_TMP/watch.out")"
fi
# After a compaction, watching from before it answers 410 Expired, as informers expect.
ctl "127.0.0.1:$PORT" compact "$(current_rev "127.0.0.1:$PORT")" >/dev/null
expect "a compacted resourceVersion: an ERROR event" '\{"type":"ERROR","object":\{"kind":"Status"' \
  -- admin "$BASE/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=2&resourceVersion=1"
expect "... with 410 Expired" '"reason":"Expired".*"code":410|"code":410.*"reason":"Expired"' \
  -- admin "$BASE/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=2&resourceVersion=1"

# --- anonymous callers get 401, except on the public endpoints
for p in healthz livez readyz; do
  expect_exact "anonymous /$p" "ok 200" -- c -w ' %{http_code}' "$BASE/$p"
done
expect "anonymous /version" '"major":"1"' -- c "$BASE/version"
expect "/readyz?verbose lists upstream's checks, the aggregator's start-up writes too" \
  'poststarthook/apiservice-registration-controller ok' -- c "$BASE/readyz?verbose"
expect "/livez?verbose is the process alone" '^livez check passed$' -- c "$BASE/livez?verbose"
expect "anonymous /api: Unauthorized" '"reason":"Unauthorized".* 401$' -- c -w ' %{http_code}' "$BASE/api"
expect "a wrong token: 401" ' 401$' -- c -w ' %{http_code}' -H 'Authorization: Bearer wrong' "$BASE/version"

# --- tokens and certificates authenticate
# A token user outside system:masters is known but not allowed (403, upstream wording).
expect "a token user without rights: 403" 'forbidden: User \\"bob\\" cannot get path \\"/metrics\\".* 403$' \
  -- c -w ' %{http_code}' -H 'Authorization: Bearer s3cret' "$BASE/metrics"
# system:masters via token or via the admin client certificate reaches routing (404 here).
expect "a system:masters token reaches routing" ' 404$' -- c -w ' %{http_code}' -H 'Authorization: Bearer root-token' "$BASE/nothing"
expect "the admin certificate reaches routing" 'the server could not find the requested resource' \
  -- admin -w ' %{http_code}' "$BASE/nothing"

# --- certificates: the SANs, and the same files after a restart
sans=$(openssl x509 -noout -ext subjectAltName -in "$TLS/serving-kube-apiserver.crt")
for want in DNS:kite.example.com DNS:kubernetes.default.svc.cluster.local DNS:localhost 'IP Address:127.0.0.1' \
  'IP Address:10.43.0.1'; do
  if grep -qF "$want" <<<"$sans"; then _report ok "serving certificate has $want"; else
    _report fail "serving certificate has $want" "$sans"; fi
done
cp "$TLS/server-ca.crt" "$TEST_TMP/ca-before.crt"
cp "$TLS/serving-kube-apiserver.crt" "$TEST_TMP/serving-before.crt"
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
rm -f "$TEST_TMP/kubeconfig"
start_kite_api
expect_exact "the CA is kept across a restart" "" -- cmp "$TLS/server-ca.crt" "$TEST_TMP/ca-before.crt"
expect_exact "the serving certificate is kept across a restart" "" -- cmp "$TLS/serving-kube-apiserver.crt" "$TEST_TMP/serving-before.crt"
expect "kubectl reaches the restarted server" '"serverVersion"' -- k version -o json

finish
