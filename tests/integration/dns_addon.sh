#!/usr/bin/env bash
# kite-server deploys the cluster DNS add-on at start (addons/manifests/kite-dns.yaml), the way
# upstream's kube-dns add-on looks: Service kube-dns in kube-system at --cluster-dns with
# k8s-app=kube-dns, a Deployment of kite's own image with its probes, and the RBAC it needs. A
# restart leaves the objects as they are; --disable=kite-dns (or coredns, k3s's name) deploys
# nothing; the Ingress controller add-on (kite-ingress.yaml) is deployed beside it, and
# --disable=traefik (k3s's name) or kite-ingress leaves it out; --disable takes k3s's other
# names too (servicelb, local-storage, metrics-server, runtimes), and k3s's
# --disable-cloud-controller, --disable-network-policy and --disable-helm-controller are taken;
# an unknown add-on name is refused at start.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"
source "$HERE/kubectl/lib_kubectl.sh"
require_tool "${CURL:-curl}"

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
expect_exact "the Ingress controller: IngressClass traefik, kite's, the default (as k3s's)" "kite.io/ingress true" -- \
  k get ingressclass traefik -o 'jsonpath={.spec.controller} {.metadata.annotations.ingressclass\.kubernetes\.io/is-default-class}'
expect_exact "its Deployment runs kite's image, probed on /ping" "kite.local/kite-ingress:0.1.0 /ping:9000 kite-ingress" -- \
  k get deploy -n kube-system kite-ingress -o 'jsonpath={.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].readinessProbe.httpGet.path}:{.spec.template.spec.containers[0].readinessProbe.httpGet.port} {.spec.template.spec.serviceAccountName}'
expect_exact "its LoadBalancer Service takes port 80 to the web port" "LoadBalancer web/80/web" -- \
  k get svc -n kube-system kite-ingress -o 'jsonpath={.spec.type} {.spec.ports[0].name}/{.spec.ports[0].port}/{.spec.ports[0].targetPort}'

# A user's edit survives a restart; nothing is created twice and no error is logged.
k scale deploy -n kube-system kite-dns --replicas=2 >/dev/null
stop_pid "$SERVER_PID" || true
start_kite_api
expect_exact "after a restart: the user's replicas kept" "2" -- k get deploy -n kube-system kite-dns -o 'jsonpath={.spec.replicas}'
expect_exact "after a restart: no add-on error" "0" -- sh -c "grep -c 'add-ons: add-on' $TEST_TMP/kite.log || true"

# The packaged parts that k3s's --disable names, running by default: ServiceLB (a Ready node's
# address on a LoadBalancer Service), the local-path StorageClass, metrics.k8s.io, RuntimeClasses.
# with_lb_node — a Ready node object (no agent here) and a LoadBalancer Service.
with_lb_node() {
  printf 'apiVersion: v1\nkind: Node\nmetadata: {name: lb-node}\n' >"$TEST_TMP/lb-node.yaml"
  k create -f "$TEST_TMP/lb-node.yaml" >/dev/null
  k patch node lb-node --subresource=status --type=merge -p \
    '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"test"}],"addresses":[{"type":"InternalIP","address":"192.0.2.9"}]}}' >/dev/null
  k create service loadbalancer lb --tcp=8080 >/dev/null
}
with_lb_node
eventually "by default: ServiceLB gives a LoadBalancer Service the node's address" '^192\.0\.2\.9$' 30 -- \
  k get svc lb -o jsonpath='{.status.loadBalancer.ingress[0].ip}'
eventually "kite-ingress's LoadBalancer Service too (ports 80 and 443)" '^192\.0\.2\.9$' 30 -- \
  k get svc -n kube-system kite-ingress -o jsonpath='{.status.loadBalancer.ingress[0].ip}'
k create service loadbalancer web80 --tcp=80 >/dev/null
sleep 3  # what ServiceLB would have written by now
expect_exact "a later LoadBalancer Service on port 80 stays Pending: kite-ingress holds it (as in k3s)" "" -- \
  k get svc web80 -o jsonpath='{.status.loadBalancer.ingress}'
eventually "by default: the local-path StorageClass" '^rancher.io/local-path$' 30 -- \
  k get storageclass local-path -o jsonpath='{.provisioner}'
expect "by default: metrics.k8s.io is served" '^metrics.k8s.io/v1beta1$' -- bash -c \
  "timeout 60 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' --cache-dir '$TEST_TMP/kubectl-cache' api-versions | grep metrics"
expect_exact "by default: the RuntimeClasses" "crun runc" -- k get runtimeclass -o jsonpath='{.items[*].metadata.name}'

# --disable with k3s's names for those parts.
stop_pid "$SERVER_PID" || true
KITE_ARGS=(--disable=servicelb,local-storage --disable metrics-server --disable traefik --disable runtimes)
start_kite_api kite-k3s-names
expect_fail "--disable=traefik: no Ingress controller Deployment" 'NotFound' -- k get deploy -n kube-system kite-ingress
expect_fail "--disable=traefik: no IngressClass" 'NotFound' -- k get ingressclass traefik
with_lb_node
sleep 3  # what ServiceLB would have written by now (it did within a second above)
expect_exact "--disable=servicelb: the LoadBalancer Service keeps no ingress" "" -- \
  k get svc lb -o jsonpath='{.status.loadBalancer.ingress}'
expect_fail "--disable=local-storage: no local-path StorageClass" 'NotFound' -- k get storageclass local-path
expect_exact "--disable=metrics-server: metrics.k8s.io is not served" "" -- bash -c \
  "timeout 60 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' --cache-dir '$TEST_TMP/kubectl-cache' api-versions | grep metrics || true"
expect_exact "--disable=runtimes: no RuntimeClasses" "" -- k get runtimeclass -o jsonpath='{.items[*].metadata.name}'
expect_exact "the cluster DNS is still deployed" "kube-dns" -- k get svc -n kube-system kube-dns -o jsonpath='{.metadata.name}'
expect_fail "--disable=metrics-server: no APIService for it" 'NotFound' -- k get apiservice v1beta1.metrics.k8s.io
# k3s's other switches: --disable-cloud-controller takes ServiceLB (k3s runs it there);
# --disable-network-policy is told to the agents (the nodes' enforcement: e2e_network_policy);
# the Helm controller kite has not is accepted and said so.
stop_pid "$SERVER_PID" || true
KITE_ARGS=(--disable-cloud-controller --disable-network-policy --disable-helm-controller)
start_kite_api kite-k3s-switches
SECRET=$(sed 's/.*://' "$TEST_TMP/kite-k3s-switches-data/server/token")
expect "--disable-network-policy: the agents that join are told" '"networkPolicy": "disabled"' -- \
  "${CURL:-curl}" -sSk --max-time 10 -u "node:$SECRET" "https://127.0.0.1:$API_PORT/v1-kite/config"
expect "--disable-helm-controller: accepted, and said" 'kite has no Helm controller' -- cat "$TEST_TMP/kite-k3s-switches.log"
with_lb_node
sleep 3
expect_exact "--disable-cloud-controller: no ServiceLB" "" -- k get svc lb -o jsonpath='{.status.loadBalancer.ingress}'
# A cluster that had the metrics server: its Local APIService goes with it at the next start.
stop_pid "$SERVER_PID" || true
KITE_ARGS=(--cluster-dns 10.43.0.53 --cluster-domain example.internal --disable metrics-server)
start_kite_api
expect_fail "--disable=metrics-server on a cluster that had it: its APIService is gone" 'NotFound' -- \
  k get apiservice v1beta1.metrics.k8s.io
expect_fail "and metrics.k8s.io answers 404" 'NotFound|could not find' -- k get --raw /apis/metrics.k8s.io/v1beta1

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
