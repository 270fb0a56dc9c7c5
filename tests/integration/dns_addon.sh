#!/usr/bin/env bash
# kite-server deploys the cluster DNS add-on at start (addons/manifests/kite-dns.yaml), the way
# upstream's kube-dns add-on looks: Service kube-dns in kube-system at --cluster-dns with
# k8s-app=kube-dns, a Deployment of kite's own image with its probes, and the RBAC it needs. A
# restart leaves the objects as they are; --disable=kite-dns (or coredns, k3s's name) deploys
# nothing; an unknown add-on name is refused at start.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"
source "$HERE/kubectl/lib_kubectl.sh"

KITE_ARGS=(--cluster-dns 10.43.0.53 --cluster-domain example.internal)
start_kite_api
expect_exact "Service kube-dns at --cluster-dns" "10.43.0.53 k8s-app=kube-dns dns/UDP/53 dns-tcp/TCP/53 metrics/TCP/9153" -- \
  k get svc -n kube-system kube-dns -o go-template \
  --template='{{.spec.clusterIP}} k8s-app={{index .spec.selector "k8s-app"}} {{range .spec.ports}}{{.name}}/{{.protocol}}/{{.port}} {{end}}'
expect_exact "the Deployment runs kite's image with the cluster domain" \
  "kite.local/kite-dns:0.1.0 --cluster-domain=example.internal /health:8080 /ready:8181 kite-dns" -- \
  k get deploy -n kube-system kite-dns -o 'jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].args[0]} {.spec.template.spec.containers[0].livenessProbe.httpGet.path}:{.spec.template.spec.containers[0].livenessProbe.httpGet.port} {.spec.template.spec.containers[0].readinessProbe.httpGet.path}:{.spec.template.spec.containers[0].readinessProbe.httpGet.port} {.spec.template.spec.serviceAccountName}'
expect_exact "its pods are labelled k8s-app=kube-dns" "kube-dns" -- \
  k get deploy -n kube-system kite-dns -o 'jsonpath={.spec.template.metadata.labels.k8s-app}'
expect_exact "RBAC: list and watch what it answers from" "list watch" -- \
  k get clusterrole kite-dns -o 'jsonpath={.rules[0].verbs[*]}'
expect_exact "bound to its service account" "kube-system/kite-dns" -- \
  k get clusterrolebinding kite-dns -o 'jsonpath={.subjects[0].namespace}/{.subjects[0].name}'

# A user's edit survives a restart; nothing is created twice and no error is logged.
k scale deploy -n kube-system kite-dns --replicas=2 >/dev/null
stop_pid "$SERVER_PID" || true
start_kite_api
expect_exact "after a restart: the user's replicas kept" "2" -- k get deploy -n kube-system kite-dns -o 'jsonpath={.spec.replicas}'
expect_exact "after a restart: no add-on error" "0" -- sh -c "grep -c 'add-ons: add-on' $TEST_TMP/kite.log || true"

# --disable=coredns (k3s's name) deploys nothing.
stop_pid "$SERVER_PID" || true
KITE_ARGS=(--disable=coredns)
start_kite_api kite2
expect_fail "--disable: no Service kube-dns" 'NotFound' -- k get svc -n kube-system kube-dns
expect_fail "--disable: no Deployment" 'NotFound' -- k get deploy -n kube-system kite-dns
stop_pid "$SERVER_PID" || true

rc=0
"$KITE_SERVER" --config "$TEST_TMP/empty-config.yaml" --data-dir "$TEST_TMP/bad" --disable=nonsense \
  >"$TEST_TMP/bad.log" 2>&1 </dev/null || rc=$?
if [[ $rc -eq 2 ]] && grep -q 'unknown add-on nonsense' "$TEST_TMP/bad.log"; then
  _report ok "--disable with an unknown add-on is refused"
else
  _report fail "--disable with an unknown add-on is refused" "exit $rc: $(cat "$TEST_TMP/bad.log")"
fi

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
