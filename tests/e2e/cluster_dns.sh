#!/usr/bin/env bash
# The cluster's own DNS, end to end on a real node: kite-server deploys the kite-dns add-on (its
# image from the offline archives), the pod reaches the API through the `kubernetes` Service
# (the service proxy) with its projected service-account token (RBAC: its ClusterRole), and
# becomes Ready; then a client pod, with the resolv.conf the kubelet writes (nameserver
# 10.43.0.10, the cluster search path), resolves `kubernetes` and its full name, a Service by its short
# name and its full name, fetches from that Service by name, and gets NXDOMAIN for a missing name.
# No exec yet (issue 18): the client pod writes what it saw and `kubectl logs` reads it.
# busybox's `nslookup kubernetes.default` (asked as written, no search path: kite-dns answers
# `<svc>.<ns>.` of an existing Service, addons/dns/zone.h) is shown in e2e_services_cross_*.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
[[ -f $KITE_IMAGES/kite-dns.tar ]] || skip "no kite-dns image archive in $KITE_IMAGES"
sweep_leftovers

new_netns dns 10.99.0.1
NS=$REPLY
new_node_dir dns
D=$REPLY
NODE=kite-e2e-dns
IMAGE=kite.local/busybox:1.35
KC=$TEST_TMP/kubeconfig
k() { kubectl_in "$NS" "$KC" "$@"; }
start_node_server --node-ip 10.99.0.1
eventually_eq "node Ready" 90 True k get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
expect_eq "Service kube-dns at 10.43.0.10" 10.43.0.10 k get svc -n kube-system kube-dns -o 'jsonpath={.spec.clusterIP}'
dns_ready() { [[ $(k get deploy -n kube-system kite-dns -o 'jsonpath={.status.readyReplicas}') == 1 ]]; }
if ! wait_until 120 dns_ready; then
  k get pods -A -o wide || true
  k describe pod -n kube-system -l k8s-app=kube-dns | tail -30 || true
  k logs -n kube-system -l k8s-app=kube-dns --tail 30 || true
  fail "the kite-dns add-on is not Ready within 120 s"
fi
echo "ok - the kite-dns add-on is Ready (API through 10.43.0.1, its own token)"

cat >"$TEST_TMP/web.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - {name: httpd, image: $IMAGE, imagePullPolicy: Never}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
YAML
k create -f "$TEST_TMP/web.yaml" >/dev/null
eventually_eq "web Ready" 60 True k get pod web -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

cat >"$TEST_TMP/client.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  restartPolicy: Never
  containers:
  - name: c
    image: $IMAGE
    imagePullPolicy: Never
    command: [sh, -c]
    args:
    - |
      cat /etc/resolv.conf
      for n in kubernetes kubernetes.default.svc.cluster.local web web.default.svc.cluster.local no-such-name; do
        echo "== \$n"; timeout 10 nslookup \$n 2>&1
      done
      echo "== fetch"; timeout 10 wget -q -O- http://web/ 2>&1 | head -c 200; echo
      echo "== done"
YAML
k create -f "$TEST_TMP/client.yaml" >/dev/null
eventually_eq "the client pod ran" 90 Succeeded k get pod client -o 'jsonpath={.status.phase}'
OUT=$(k logs client)
section() { awk -v s="== $1" '$0 == s {on = 1; next} /^== / {on = 0} on' <<<"$OUT"; }
grep -q '^nameserver 10.43.0.10$' <<<"$OUT" || fail "resolv.conf: $OUT"
grep -q '^search default.svc.cluster.local svc.cluster.local cluster.local' <<<"$OUT" || fail "search path: $OUT"
echo "ok - the pod's resolv.conf: nameserver 10.43.0.10, the cluster search path"
WEB_IP=$(k get svc web -o 'jsonpath={.spec.clusterIP}')
section kubernetes | grep -q 'Address: 10.43.0.1$' || fail "kubernetes: $OUT"
echo "ok - nslookup kubernetes from a pod gives 10.43.0.1 (through the search path)"
section kubernetes.default.svc.cluster.local | grep -q 'Address: 10.43.0.1$' || fail "kubernetes FQDN: $OUT"
echo "ok - nslookup kubernetes.default.svc.cluster.local from a pod"
section web | grep -q "Address: $WEB_IP\$" || fail "web: $(section web)"
echo "ok - a Service by its short name ($WEB_IP)"
section web.default.svc.cluster.local | grep -q "Address: $WEB_IP\$" || fail "full name: $(section web.default.svc.cluster.local)"
echo "ok - a Service by its full name"
section no-such-name | grep -qi "NXDOMAIN\|can't find" || fail "missing name: $(section no-such-name)"
echo "ok - a missing name is NXDOMAIN"
section fetch | grep -q "kite test image" || fail "fetch by name: $(section fetch)"
echo "ok - a pod fetches from a Service by its name"
echo "PASS"
