#!/usr/bin/env bash
# Admission webhooks (admissionregistration.k8s.io/v1) with the real kubectl and a real HTTPS
# webhook (webhook_server.py, its own CA): the configurations served and validated as upstream
# validates them, a validating webhook denying with its message and code, a mutating webhook's
# JSONPatch stored, reached by URL and through a Service's endpoints, rules, namespaceSelector and
# objectSelector picking what is sent, reinvocationPolicy IfNeeded, DELETE, deletecollection, --dry-run=server and CONNECT
# (kubectl exec) sent too, the requester named in the review, a webhook's warning shown,
# timeoutSeconds with failurePolicy Fail and Ignore, a wrong uid refused, a webhook that cannot be
# reached never locking its own configuration in, and upstream's apiserver_admission_webhook_*
# metrics (promtool finds nothing to say about them).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
require_tool openssl
require_tool python3
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"

# The webhook's CA and serving certificate: the URL's 127.0.0.1 and the Service's DNS name.
C=$TEST_TMP/hook-tls
mkdir -p "$C"
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=hook-ca -keyout "$C/ca.key" -out "$C/ca.crt" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj /CN=hook -keyout "$C/tls.key" -out "$C/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:hook.default.svc\n' >"$C/ext"
openssl x509 -req -in "$C/tls.csr" -CA "$C/ca.crt" -CAkey "$C/ca.key" -CAcreateserial -days 1 -extfile "$C/ext" \
  -out "$C/tls.crt" 2>/dev/null
CA_BUNDLE=$(base64 -w0 "$C/ca.crt")
HOOK_PORT=$(free_port)
LOG=$TEST_TMP/hook.log
: >"$LOG"
_spawn "$TEST_TMP/hook-server.log" python3 "$HERE/webhook_server.py" "$HOOK_PORT" "$C/tls.crt" "$C/tls.key" "$LOG"
for _ in $(seq 50); do
  curl -s --cacert "$C/ca.crt" -o /dev/null "https://127.0.0.1:$HOOK_PORT/" && break
  sleep 0.1
done
DEAD_PORT=$(free_port)  # reserved, nothing listens

hook() {  # NAME PATH RULE_RESOURCES OPERATIONS [EXTRA_YAML]: one webhook entry reached by URL
  cat <<YAML
- name: $1
  clientConfig:
    url: https://127.0.0.1:$HOOK_PORT$2
    caBundle: $CA_BUNDLE
  rules: [{apiGroups: [""], apiVersions: ["v1"], resources: [$3], operations: [$4]}]
  sideEffects: None
  admissionReviewVersions: [v1]
${5:-}
YAML
}
# Eventually (a configuration takes effect within a second, as upstream's informers): CMD's output matches.
eventually_fails() {  # NAME REGEX SECONDS -- CMD: CMD fails with output matching REGEX
  local name=$1 re=$2 secs=$3 out=""
  shift 4
  local deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    if ! out=$("$@" 2>&1) && grep -Eq -- "$re" <<<"$out"; then
      _report ok "$name"
      return
    fi
    sleep 0.2
  done
  _report fail "$name" "wanted a failure matching /$re/; last: $out"
}

# --- the configurations as objects
{
  printf 'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: deny}\nwebhooks:\n'
  hook deny.kite.test /validate '"configmaps"' '"CREATE","UPDATE"' '  namespaceSelector: {matchLabels: {webhook: "on"}}'
  hook protect.kite.test /validate '"configmaps"' '"DELETE"' '  objectSelector: {matchLabels: {protect: "yes"}}'
} >"$M/deny.yaml"
expect "create a ValidatingWebhookConfiguration" '^validatingwebhookconfiguration.admissionregistration.k8s.io/deny created$' -- \
  k apply -f "$M/deny.yaml"
expect "kubectl get shows its webhooks" '^deny +2 +[0-9]+s$' -- k get validatingwebhookconfigurations
expect_exact "defaults: failurePolicy, matchPolicy, timeoutSeconds, scope" "Fail Equivalent 10 *" -- \
  k get validatingwebhookconfiguration deny -o 'jsonpath={.webhooks[0].failurePolicy} {.webhooks[0].matchPolicy} {.webhooks[0].timeoutSeconds} {.webhooks[0].rules[0].scope}'
expect "api-resources lists both kinds" 'mutatingwebhookconfigurations.*admissionregistration.k8s.io/v1.*false.*MutatingWebhookConfiguration' -- \
  k api-resources --api-group=admissionregistration.k8s.io
cat >"$M/invalid.yaml" <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: invalid}
webhooks:
- name: short.name
  clientConfig: {url: "http://127.0.0.1/x"}
  rules: [{apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], operations: ["PATCH"]}]
  sideEffects: Some
  timeoutSeconds: 31
  admissionReviewVersions: [v2]
YAML
expect_fail "an invalid configuration is refused with upstream's messages" \
  'webhooks\[0\].name: Invalid value: "short.name": should be a domain with at least three segments separated by dots' -- \
  k apply -f "$M/invalid.yaml"
OUT=$(k apply -f "$M/invalid.yaml" 2>&1 | tr '\n' ' ') || true
for want in "'https' is the only allowed URL scheme" 'operations\[0\]: Unsupported value: "PATCH"' \
  'sideEffects: Unsupported value: "Some": supported values: "None", "NoneOnDryRun"' \
  'timeoutSeconds: Invalid value: 31: the timeout value must be between 1 and 30 seconds' \
  'admissionReviewVersions: Invalid value: \["v2"\]: must include at least one of v1, v1beta1'; do
  if grep -Eq -- "$want" <<<"$OUT"; then _report ok "invalid: $want"; else _report fail "invalid: $want" "$OUT"; fi
done

# --- a validating webhook: denial, namespaceSelector, dry run, the requester
k create namespace hooked >/dev/null
k label namespace hooked webhook=on >/dev/null
eventually_fails "the webhook denies with its message" 'admission webhook "deny.kite.test" denied the request: configmap has forbidden key' \
  10 -- k create configmap bad -n hooked --from-literal=forbidden=1
k create configmap bad -n hooked --from-literal=forbidden=1 --dry-run=client -o yaml >"$M/bad.yaml"
expect_fail "and its code (403 Forbidden)" \
  '^Error from server \(Forbidden\): error when creating ".*bad.yaml": admission webhook "deny.kite.test" denied the request: configmap has forbidden key$' \
  -- k create -f "$M/bad.yaml"
expect "a namespace without the label is not sent to it" '^configmap/bad created$' -- \
  k create configmap bad -n default --from-literal=forbidden=1
expect "an allowed object in the labelled namespace" '^configmap/fine created$' -- k create configmap fine -n hooked --from-literal=a=1
expect_fail "an UPDATE is sent too" 'denied the request: configmap has forbidden key' -- \
  k patch configmap fine -n hooked -p '{"data":{"forbidden":"x"}}'
expect_fail "--dry-run=server is sent too" 'denied the request: configmap has forbidden key' -- \
  k create configmap bad2 -n hooked --from-literal=forbidden=1 --dry-run=server
expect "the review named the requester and the dry run" '^/validate CREATE ConfigMap hooked/bad2 system:admin true timeout=10s$' -- \
  grep '/validate CREATE ConfigMap hooked/bad2' "$LOG"

expect "an allowed write carries the webhook's warning" '^Warning: this configmap has a warn key' -- \
  k create configmap warned -n hooked --from-literal=warn=1

# --- CONNECT: kubectl exec reaches the webhooks with its PodExecOptions (no node here: an
# allowed exec then fails for want of one)
{
  printf 'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: exec}\nwebhooks:\n'
  hook exec.kite.test /validate '"pods/exec"' '"CONNECT"'
} >"$M/exec.yaml"
k apply -f "$M/exec.yaml" >/dev/null
k run web -n hooked --image=busybox:1.36 -- sleep 3600 >/dev/null
eventually_fails "an exec the webhook forbids is refused before any node is asked" \
  'admission webhook "exec.kite.test" denied the request: no forbidden commands' 10 -- k exec -n hooked web -- echo forbidden
expect_fail "one it allows goes on (to the missing node)" 'does not have a host assigned' -- k exec -n hooked web -- echo fine
expect "the review was a CONNECT of PodExecOptions" '^/validate CONNECT PodExecOptions hooked/web system:admin false' -- \
  grep -m1 '^/validate CONNECT' "$LOG"

# --- DELETE and objectSelector
k create configmap keep -n hooked --from-literal=a=1 >/dev/null
k label configmap keep -n hooked protect=yes >/dev/null
expect_fail "a DELETE the objectSelector picks is sent and denied" 'denied the request: this object is protected' -- \
  k delete configmap keep -n hooked
expect "one it does not pick is not" '^configmap "fine" deleted' -- k delete configmap fine -n hooked
expect_fail "nor does a deletecollection get past it" 'denied the request: this object is protected' -- \
  k delete --raw '/api/v1/namespaces/hooked/configmaps?labelSelector=protect%3Dyes'
expect "the protected object is still there" '^keep ' -- k get configmap keep -n hooked --no-headers

# --- a mutating webhook through a Service (no selector, its Endpoints at the webhook)
cat >"$M/hook-service.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: hook}
spec: {ports: [{name: https, port: 443, targetPort: $HOOK_PORT}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: hook}
subsets: [{addresses: [{ip: 127.0.0.1}], ports: [{name: https, port: $HOOK_PORT}]}]
YAML
k create -f "$M/hook-service.yaml" >/dev/null
cat >"$M/mutate.yaml" <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: MutatingWebhookConfiguration
metadata: {name: label}
webhooks:
- name: label.kite.test
  clientConfig:
    service: {namespace: default, name: hook, path: /mutate}
    caBundle: $CA_BUNDLE
  rules: [{apiGroups: [""], apiVersions: ["*"], resources: ["configmaps"], operations: ["CREATE"], scope: Namespaced}]
  namespaceSelector: {matchLabels: {webhook: "on"}}
  sideEffects: None
  admissionReviewVersions: [v1beta1, v1]
YAML
expect "create a MutatingWebhookConfiguration reached through a Service" 'mutatingwebhookconfiguration.admissionregistration.k8s.io/label created' -- \
  k apply -f "$M/mutate.yaml"
# mutated NS PREFIX: creates configmaps PREFIX0, PREFIX1… in NS until one comes back labelled
# mutated=yes (a new configuration takes effect within a second); sets N to its number, 50 if none.
mutated() {
  N=0
  until k create configmap "$2$N" -n "$1" --from-literal=a=1 >>"$TEST_TMP/mutate.out" 2>&1 &&
    [[ $(k get cm "$2$N" -n "$1" -o 'jsonpath={.metadata.labels.mutated}') == yes ]]; do
    N=$((N + 1))
    ((N < 50)) || return 0
    sleep 0.2
  done
}
mutated hooked m
if ((N < 50)); then _report ok "the mutating webhook's JSONPatch is stored (label mutated=yes)"; else _report fail "mutating webhook" "$(tail -3 "$TEST_TMP/mutate.out")"; fi
expect "and its request came through the Service's endpoint, after the mutation the validation" \
  '^/mutate CREATE ConfigMap hooked/m[0-9]+ system:admin false' -- grep '^/mutate CREATE' "$LOG"

# --- reinvocationPolicy IfNeeded: called again once a later webhook changed the object
k create namespace reinvoke >/dev/null
k label namespace reinvoke webhook=reinvoke >/dev/null
{
  printf 'apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata: {name: order}\nwebhooks:\n'
  hook again.kite.test /noop-again '"configmaps"' '"CREATE"' '  reinvocationPolicy: IfNeeded
  namespaceSelector: {matchLabels: {webhook: reinvoke}}'
  hook once.kite.test /noop-once '"configmaps"' '"CREATE"' '  namespaceSelector: {matchLabels: {webhook: reinvoke}}'
  hook relabel.kite.test /mutate '"configmaps"' '"CREATE"' '  namespaceSelector: {matchLabels: {webhook: reinvoke}}'
} >"$M/order.yaml"
k apply -f "$M/order.yaml" >/dev/null
mutated reinvoke r
expect_exact "IfNeeded: called twice, Never: once, for the same create" "2 1" -- \
  echo "$(grep -c "^/noop-again CREATE ConfigMap reinvoke/r$N " "$LOG") $(grep -c "^/noop-once CREATE ConfigMap reinvoke/r$N " "$LOG")"

# --- timeouts and failurePolicy; a wrong uid
{
  printf 'apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: faults}\nwebhooks:\n'
  hook slow-fail.kite.test /slow '"secrets"' '"CREATE"' '  timeoutSeconds: 1'
  hook slow-ignore.kite.test /slow '"serviceaccounts"' '"CREATE"' '  timeoutSeconds: 1
  failurePolicy: Ignore'
  hook bad-uid.kite.test /bad-uid '"persistentvolumeclaims"' '"CREATE"'
} >"$M/faults.yaml"
k apply -f "$M/faults.yaml" >/dev/null
eventually_fails "a webhook past its timeoutSeconds under failurePolicy Fail fails the write (500)" \
  'Internal error occurred: failed calling webhook "slow-fail.kite.test": failed to call webhook: Post "https://127.0.0.1:[0-9]+/slow": context deadline exceeded' \
  15 -- k create secret generic s1 --from-literal=a=1
expect "under Ignore the write goes on" '^serviceaccount/sa1 created$' -- k create serviceaccount sa1
cat >"$M/pvc.yaml" <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: c1}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Mi}}}
YAML
expect_fail "an answer with another uid is refused" 'failed calling webhook "bad-uid.kite.test": received invalid webhook response: expected response.uid=' -- \
  k create -f "$M/pvc.yaml"

# --- a webhook that cannot be reached, on everything, never locks its configuration in
cat >"$M/block.yaml" <<YAML
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: block-all}
webhooks:
- name: block.kite.test
  clientConfig: {url: "https://127.0.0.1:$DEAD_PORT/", caBundle: $CA_BUNDLE}
  rules: [{apiGroups: ["*"], apiVersions: ["*"], resources: ["*"], operations: ["*"]}]
  sideEffects: None
  admissionReviewVersions: [v1]
YAML
k apply -f "$M/block.yaml" >/dev/null
eventually_fails "an unreachable webhook on everything blocks writes" 'failed calling webhook "block.kite.test": failed to call webhook: Post "https://127.0.0.1:[0-9]+/": dial tcp' \
  10 -- k create configmap blocked --from-literal=a=1
expect "its own configuration can still be deleted" 'validatingwebhookconfiguration.admissionregistration.k8s.io "block-all" deleted' -- \
  k delete validatingwebhookconfiguration block-all
expect "and writes go through again at once" '^configmap/unblocked created$' -- k create configmap unblocked --from-literal=a=1

# --- upstream's webhook metrics on the API server's /metrics
k get --raw /metrics >"$TEST_TMP/metrics.txt"
expect "a denial counted: apiserver_admission_webhook_request_total" \
  '^apiserver_admission_webhook_request_total\{code="403",name="deny.kite.test",operation="CREATE",rejected="true",type="validate"\} [1-9]' \
  -- cat "$TEST_TMP/metrics.txt"
expect "a call that failed under Fail: rejected, code 0" \
  '^apiserver_admission_webhook_request_total\{code="0",name="slow-fail.kite.test",operation="CREATE",rejected="true",type="validate"\} [1-9]' \
  -- cat "$TEST_TMP/metrics.txt"
expect "under Ignore: not rejected" \
  '^apiserver_admission_webhook_request_total\{code="0",name="slow-ignore.kite.test",operation="CREATE",rejected="false",type="validate"\} 1$' \
  -- cat "$TEST_TMP/metrics.txt"
if command -v "${PROMTOOL:-promtool}" >/dev/null; then
  grep '^# \(HELP\|TYPE\) apiserver_admission_webhook_\|^apiserver_admission_webhook_' "$TEST_TMP/metrics.txt" >"$TEST_TMP/webhook-metrics.txt"
  expect_exact "promtool check metrics on them reports nothing" "" -- "${PROMTOOL:-promtool}" check metrics <"$TEST_TMP/webhook-metrics.txt"
fi
expect "the mutating webhook's latency: apiserver_admission_webhook_admission_duration_seconds" \
  '^apiserver_admission_webhook_admission_duration_seconds_count\{name="label.kite.test",operation="CREATE",rejected="false",type="admit"\} [1-9]' \
  -- cat "$TEST_TMP/metrics.txt"
finish
