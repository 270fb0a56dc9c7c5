#!/usr/bin/env bash
# The real Prometheus (Debian's 2.42) scrapes a running kite node with the configuration a user
# would write: docs/examples/prometheus.yml, with only its token and CA paths changed, and the
# service account of docs/examples/prometheus-rbac.yaml. Shows: every target is up (the API
# server on 6443, the kubelet's /metrics and /metrics/cadvisor on its own port with the
# service-account token, the datastore's metrics port, an annotated pod, Service endpoints and
# Service); PromQL finds apiserver_request_total, the test pod's container_cpu_usage_seconds_total
# and kubelet_running_pods. The kubelet refuses the token of an account without nodes/metrics.
#
# Debian builds Prometheus without its Kubernetes service discovery: kubernetes_sd.py stands in
# for that one part (kubernetes_sd_configs -> http_sd_configs with the same targets and
# __meta_kubernetes_* labels); the relabelling, credentials and TLS are Prometheus's own.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
command -v prometheus >/dev/null || skip "prometheus is not installed"
python3 -c 'import yaml' 2>/dev/null || skip "python3-yaml is not installed"
sweep_leftovers

one_node prom
# The server inside its namespace on the ports the example names: the API on 6443, the datastore's
# metrics on 127.0.0.1:2381, the kubelet on 10250.
start_node_server --default-metrics-listen
eventually_eq "node Ready" 90 True jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

# --- the service account, its token and the cluster CA, as the example's header says
k apply -f "$HERE/../../docs/examples/prometheus-rbac.yaml" >/dev/null
P=$TEST_TMP/prom
mkdir -p "$P/data"
k create token prometheus -n kube-system --duration=1h >"$P/token"
k get configmap kube-root-ca.crt -o 'jsonpath={.data.ca\.crt}' >"$P/ca.crt"
grep -q "BEGIN CERTIFICATE" "$P/ca.crt" || fail "no CA in kube-root-ca.crt"
sed "s|/etc/prometheus/kite/|$P/|g" "$HERE/../../docs/examples/prometheus.yml" >"$P/prometheus.yml"

# --- the kubelet's own checks: the token of an account without nodes/metrics is refused
IP=$(k get node "$NODE" -o 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}')
PORT=$(k get node "$NODE" -o 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}')
k create serviceaccount nobody >/dev/null
NOBODY=$(k create token nobody)
DENIED=$(in_ns "$NS" curl -s -m 10 --cacert "$P/ca.crt" -H "Authorization: Bearer $NOBODY" -w ' %{http_code}' "https://$IP:$PORT/metrics")
[[ $DENIED == *'Forbidden (user=system:serviceaccount:default:nobody, verb=get, resource=nodes, subresource=metrics)'*' 403' ]] ||
  fail "a token without nodes/metrics: $DENIED"
echo "ok - the kubelet refuses a token without nodes/metrics: 403"
BAD=$(in_ns "$NS" curl -s -m 10 --cacert "$P/ca.crt" -H "Authorization: Bearer not-a-token" -o /dev/null -w '%{http_code}' "https://$IP:$PORT/metrics")
[[ $BAD == 401 ]] || fail "a bad token: $BAD"
echo "ok - the kubelet answers a bad token with 401"

# --- something to discover: a pod and a Service asking to be scraped (busybox httpd serving a
# metrics file)
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: exporter
  labels: {app: exporter}
  annotations: {prometheus.io/scrape: "true", prometheus.io/path: /metrics}
spec:
  containers:
  - name: exporter
    image: $IMAGE
    command: [sh, -c, 'mkdir -p /www && printf "kite_test_exporter_up 1\n" > /www/metrics && exec httpd -f -p 8080 -h /www']
    ports: [{containerPort: 8080, name: http}]
---
apiVersion: v1
kind: Service
metadata:
  name: exporter
  annotations: {prometheus.io/scrape: "true"}
spec:
  selector: {app: exporter}
  ports: [{port: 8080, targetPort: 8080, name: http}]
YAML
eventually_eq "pod exporter Running" 90 Running jp pod exporter -o 'jsonpath={.status.phase}'

# --- Prometheus, with the Kubernetes discovery stand-in
SD_PORT=19093
python3 "$HERE/kubernetes_sd.py" rewrite "$P/prometheus.yml" "$P/prometheus-http-sd.yml" "$SD_PORT"
promtool check config "$P/prometheus-http-sd.yml" >/dev/null ||
  fail "promtool check config: $(promtool check config "$P/prometheus-http-sd.yml" 2>&1)"
_spawn "$TEST_TMP/sd.log" nsenter --net="/run/netns/$NS" -- python3 "$HERE/kubernetes_sd.py" serve "$SD_PORT" "$P/prometheus.yml"
_spawn "$TEST_TMP/prometheus.log" nsenter --net="/run/netns/$NS" -- prometheus --config.file "$P/prometheus-http-sd.yml" \
  --storage.tsdb.path "$P/data" --web.listen-address 127.0.0.1:19090
api() { in_ns "$NS" curl -sf -m 10 "http://127.0.0.1:19090/api/v1/$1" "${@:2}"; }

# Every target as "job health url lastError": all up, every job there, the exporter pod found by
# the three annotation jobs and kite-dns's metrics port (its Service's prometheus.io/port).
JOBS="kite-datastore kubernetes-apiservers kubernetes-cadvisor kubernetes-nodes kubernetes-pods kubernetes-service-endpoints kubernetes-services"
targets() {
  api targets | python3 -c '
import json, sys
for t in json.load(sys.stdin)["data"]["activeTargets"]:
    print(t["labels"]["job"], t["health"], t["scrapeUrl"], t["lastError"])' | sort
}
all_up() {
  local t job
  t=$(targets) || return 1
  for job in $JOBS; do grep -q "^$job up " <<<"$t" || return 1; done
  grep -q "^kubernetes-pods up http://$EXPORTER_IP:8080/metrics" <<<"$t" &&
    grep -q "^kubernetes-service-endpoints up http://$EXPORTER_IP:8080/metrics" <<<"$t" &&
    grep -q "^kubernetes-services up http://$EXPORTER_SVC:8080/metrics" <<<"$t" &&
    grep -q "^kubernetes-service-endpoints up http://[0-9.]*:9153/metrics" <<<"$t" &&
    ! grep -qv ' up ' <<<"$t"
}
EXPORTER_IP=$(k get pod exporter -o 'jsonpath={.status.podIP}')
EXPORTER_SVC=$(k get service exporter -o 'jsonpath={.spec.clusterIP}')
if ! wait_until 120 all_up; then
  fail "targets not all up within 120s: $(targets)"
fi
targets | sed 's/^/  /'
echo "ok - every target up: the API server, the kubelet (/metrics, /metrics/cadvisor), the datastore, pods and Services"

query() {  # query PROMQL: "metric labels... value" lines
  api query --data-urlencode "query=$1" -G | python3 -c '
import json, sys
for r in json.load(sys.stdin)["data"]["result"]:
    print(json.dumps(r["metric"], sort_keys=True), r["value"][1])'
}
has_series() { [[ -n $(query "$1") ]]; }
eventually "apiserver_request_total from the API server" 60 has_series 'apiserver_request_total{job="kubernetes-apiservers",verb="LIST",resource="pods",scope="cluster"}'
eventually "container_cpu_usage_seconds_total of the exporter pod" 60 has_series \
  'container_cpu_usage_seconds_total{job="kubernetes-cadvisor",namespace="default",pod="exporter",container="exporter"} > 0'
eventually "kubelet_running_pods of the node" 60 has_series "kubelet_running_pods{job=\"kubernetes-nodes\",instance=\"$NODE\"} >= 1"
eventually "the datastore's metrics" 60 has_series 'up{job="kite-datastore"} == 1'
eventually "the annotated pod's own metric" 60 has_series 'kite_test_exporter_up{job="kubernetes-pods",pod="exporter"}'
query "kubelet_running_pods" | sed 's/^/  /'
query 'sum by (pod) (container_cpu_usage_seconds_total{pod="exporter"})' | sed 's/^/  /'
