#!/usr/bin/env bash
# kubectl top and the pod and Service proxies on a real node: kite-server with its embedded agent
# (its own containerd) in a network namespace. Shows: the built-in metrics server scrapes the real
# kubelet through the API server's kubelet client, so `kubectl top nodes`, `top pods` and
# `top pods --containers` print numbers; services/proxy and pods/proxy reach a busybox httpd in a
# pod with upstream's path semantics (the path and query after /proxy/, a 301 to add the trailing
# slash, a named port, 503 for a Service without endpoints, NotFound for an unknown pod).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
sweep_leftovers

one_node top
start_node_server --kubelet-port 0 --metric-resolution 2s
eventually_eq "node Ready" 90 True jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

# --- a web server in a pod: busybox httpd serving a page and a CGI-free file tree
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: web
  labels: {app: web}
spec:
  containers:
  - name: httpd
    image: $IMAGE
    command: [sh, -c, 'mkdir -p /www/sub && echo hello-root > /www/index.html && echo hello-sub > /www/sub/page.txt && exec httpd -f -p 8080 -h /www']
    ports: [{containerPort: 8080, name: http}]
  - name: burner
    image: $IMAGE
    command: [sh, -c, 'while true; do :; done']
---
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, name: http}]
---
apiVersion: v1
kind: Service
metadata:
  name: empty
spec:
  selector: {app: nothing}
  ports: [{port: 80}]
YAML
eventually_eq "pod web Running" 90 Running jp pod web -o 'jsonpath={.status.phase}'

# --- kubectl top
# "NAME CPU(cores) CPU% MEMORY(bytes) MEMORY%" with numbers, once two scrapes gave a rate.
top_nodes() { k top nodes --no-headers 2>/dev/null | grep -E "^$NODE +[0-9]+m +[0-9]+% +[0-9]+Mi +[0-9]+% *$"; }
wait_until 30 top_nodes || fail "kubectl top nodes: $(k top nodes 2>&1); $(k get --raw /apis/metrics.k8s.io/v1beta1/nodes 2>&1)"
echo "ok - kubectl top nodes prints numbers"
echo "  $(top_nodes)"
top_pods() { k top pods --no-headers 2>/dev/null | grep -E '^web +[1-9][0-9]*m +[0-9]+Mi *$'; }
eventually "kubectl top pods prints the pod's CPU and memory" 60 top_pods
echo "  $(top_pods)"
burner_busy() { k top pods web --containers --no-headers 2>/dev/null | grep -E '^web +burner +[1-9][0-9]{2,}m +[0-9]+Mi *$'; }
eventually "kubectl top pods --containers: the busy container uses at least 100m" 60 burner_busy
echo "  $(k top pods web --containers --no-headers)"

# --- services/proxy and pods/proxy
expect_eq "services/web:80/proxy/ serves the index" hello-root k get --raw /api/v1/namespaces/default/services/web:80/proxy/
expect_eq "services/web:http/proxy/sub/page.txt (a named port, a path)" hello-sub \
  k get --raw '/api/v1/namespaces/default/services/web:http/proxy/sub/page.txt'
expect_eq "services/http:web:80/proxy with a query" hello-sub \
  k get --raw '/api/v1/namespaces/default/services/http:web:80/proxy/sub/page.txt?x=1'
expect_eq "pods/web:8080/proxy/sub/page.txt" hello-sub k get --raw /api/v1/namespaces/default/pods/web:8080/proxy/sub/page.txt
expect_eq "pods/web/proxy/ (the first container port)" hello-root k get --raw /api/v1/namespaces/default/pods/web/proxy/
# curl as the admin: the kubeconfig's client certificate.
k config view --raw -o 'jsonpath={.users[0].user.client-certificate-data}' | base64 -d >"$TEST_TMP/admin.crt"
k config view --raw -o 'jsonpath={.users[0].user.client-key-data}' | base64 -d >"$TEST_TMP/admin.key"
CURL=(curl -sk -m 10 --cert "$TEST_TMP/admin.crt" --key "$TEST_TMP/admin.key")
API=$(k config view -o 'jsonpath={.clusters[0].cluster.server}')
REDIRECT=$(in_ns "$NS" "${CURL[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "$API/api/v1/namespaces/default/services/web:80/proxy")
[[ $REDIRECT == "301 $API/api/v1/namespaces/default/services/web:80/proxy/" ]] || fail "no trailing slash: $REDIRECT"
echo "ok - no trailing slash: 301 to the path with one"
NOEP=$(k get --raw /api/v1/namespaces/default/services/empty:80/proxy/ 2>&1 || true)
[[ $NOEP == *'no endpoints available for service \"empty\"'* || $NOEP == *'no endpoints available for service "empty"'* ]] ||
  fail "a Service without endpoints: $NOEP"
echo "ok - a Service without endpoints: 503 no endpoints available"
GONE=$(k get --raw /api/v1/namespaces/default/pods/nope:80/proxy/ 2>&1 || true)
[[ $GONE == *'pods "nope" not found'* ]] || fail "an unknown pod: $GONE"
echo "ok - an unknown pod: NotFound"
MISSING=$(in_ns "$NS" "${CURL[@]}" -o /dev/null -w '%{http_code}' "$API/api/v1/namespaces/default/pods/web:8080/proxy/missing.txt")
[[ $MISSING == 404 ]] || fail "a missing file through pods/proxy: $MISSING"
echo "ok - the pod's own 404 is relayed"
