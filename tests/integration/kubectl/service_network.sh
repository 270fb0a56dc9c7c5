#!/usr/bin/env bash
# The Service network as a k3s user configures it (issue 19): --service-cidr and
# --service-node-port-range, seen through the real kubectl and curl. The `kubernetes` Service has
# the range's first address (and the serving certificate names it), kube-dns the tenth (the
# default --cluster-dns); Services get cluster IPs and node ports from the ranges, above the
# band kept for addresses asked for by name; what is asked for outside a range, or taken, is
# refused with upstream's words (tools parse the range out of them); agents are told the
# settings at the join (GET /v1-kite/config); bad flag values stop kite-server at start. A
# LoadBalancer with externalTrafficPolicy Local gets a healthCheckNodePort from the range.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
require_tool "${CURL:-curl}"
require_tool openssl

KITE_ARGS=(--service-cidr 10.96.0.0/16 --service-node-port-range 20000-20099)
start_kite_api

expect_exact "the kubernetes Service has the range's first address" "10.96.0.1" -- \
  k get svc kubernetes -o jsonpath='{.spec.clusterIP}'
expect_exact "the cluster DNS defaults to its tenth" "10.96.0.10" -- \
  k get svc -n kube-system kube-dns -o jsonpath='{.spec.clusterIP}'
expect "the serving certificate names the kubernetes Service's address" 'IP Address:10\.96\.0\.1(,|$)' -- \
  openssl x509 -noout -ext subjectAltName -in "$TEST_TMP/kite-data/server/tls/serving-kube-apiserver.crt"

# Dynamic picks: inside the range, above the band of 256 addresses kept for requests by name
# (10.96.0.1 to 10.96.1.0).
k create service clusterip web --tcp=80 >/dev/null
expect "a Service gets a cluster IP of the range, above the static band" '^10\.96\.([1-9][0-9]*)\.[0-9]+$' -- \
  k get svc web -o jsonpath='{.spec.clusterIP}'
WEB_IP=$(k get svc web -o jsonpath='{.spec.clusterIP}')
expect_exact "clusterIPs says the same" "$WEB_IP" -- k get svc web -o jsonpath='{.spec.clusterIPs[0]}'
if [[ $WEB_IP == 10.96.1.0 ]]; then _report fail "the pick is above the band" "got the band's last address"; fi

expect_fail "an address outside the range: refused as upstream words it" \
  'Service "outside" is invalid: spec.clusterIPs: Invalid value: \[\]string\{"10\.43\.0\.50"\}: failed to allocate IP 10\.43\.0\.50: provided IP is not in the valid range\. The range of valid IPs is 10\.96\.0\.0/16' -- \
  k create service clusterip outside --tcp=80 --clusterip=10.43.0.50
expect_fail "the range's broadcast address: refused" 'provided IP is not in the valid range' -- \
  k create service clusterip bcast --tcp=80 --clusterip=10.96.255.255
expect_fail "not an address: refused" 'spec.clusterIPs\[0\]: Invalid value: "ten": must be a valid IP address' -- \
  k create service clusterip notip --tcp=80 --clusterip=ten
expect_fail "nothing was stored for them" 'NotFound' -- k get svc outside
k create service clusterip pinned --tcp=80 --clusterip=10.96.0.50 >/dev/null
expect_exact "an address of the band asked for by name" "10.96.0.50" -- k get svc pinned -o jsonpath='{.spec.clusterIP}'
expect_fail "an address taken: refused" 'spec.clusterIPs: Invalid value: \[\]string\{"10\.96\.0\.50"\}: failed to allocate IP 10\.96\.0\.50: provided IP is already allocated' -- \
  k create service clusterip pinned2 --tcp=80 --clusterip=10.96.0.50
cat >"$TEST_TMP/dual.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: dual}
spec: {ipFamilyPolicy: RequireDualStack, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: six}
spec: {ipFamilies: [IPv6], ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: prefer}
spec: {ipFamilyPolicy: PreferDualStack, ports: [{port: 80}]}
YAML
k create -f "$TEST_TMP/dual.yaml" >"$TEST_TMP/dual.out" 2>&1 || true
expect "RequireDualStack on a single-stack cluster: refused as upstream" \
  'Service "dual" is invalid: spec.ipFamilyPolicy: Invalid value: "RequireDualStack": this cluster is not configured for dual-stack services' -- \
  cat "$TEST_TMP/dual.out"
expect "an IPv6 family: refused" 'Service "six" is invalid: spec.ipFamilies\[0\]: Invalid value: "IPv6": not configured on this cluster' -- \
  cat "$TEST_TMP/dual.out"
expect "PreferDualStack: created with the one family there is" '^PreferDualStack IPv4 10\.96\.' -- \
  k get svc prefer -o jsonpath='{.spec.ipFamilyPolicy} {.spec.ipFamilies[*]} {.spec.clusterIP}'
k create service clusterip headless --tcp=80 --clusterip=None >/dev/null
expect_exact "headless stays None" "None" -- k get svc headless -o jsonpath='{.spec.clusterIP}'

# Node ports.
k create service nodeport np --tcp=80 >/dev/null
expect "a NodePort Service gets a port of --service-node-port-range (outside the default range)" '^200[0-9][0-9]$' -- \
  k get svc np -o jsonpath='{.spec.ports[0].nodePort}'
expect_fail "a node port outside the range: refused as upstream words it" \
  'Service "np2" is invalid: spec.ports\[0\].nodePort: Invalid value: 30080: provided port is not in the valid range\. The range of valid ports is 20000-20099' -- \
  k create service nodeport np2 --tcp=80 --node-port=30080
k create service nodeport np3 --tcp=80 --node-port=20005 >/dev/null
expect_exact "a node port of the range asked for by name" "20005" -- k get svc np3 -o jsonpath='{.spec.ports[0].nodePort}'
expect_fail "a node port taken: refused" 'spec.ports\[0\].nodePort: Invalid value: 20005: provided port is already allocated' -- \
  k create service nodeport np4 --tcp=80 --node-port=20005
k label svc np3 touched=yes >/dev/null
expect_exact "an update keeps the Service's addresses" "20005 $(k get svc np3 -o jsonpath='{.spec.clusterIP}')" -- \
  k get svc np3 -o jsonpath='{.spec.ports[0].nodePort} {.spec.clusterIP}'

# A change of type drops what the old type needed (upstream's dropTypeDependentFields).
expect "kubectl patch to type ClusterIP works on a NodePort Service" 'patched' -- \
  k patch svc np3 -p '{"spec":{"type":"ClusterIP"}}'
expect_exact "…its node port and externalTrafficPolicy are gone, its cluster IP kept" "ClusterIP [] $(k get svc np3 -o jsonpath='{.spec.clusterIP}')" -- \
  k get svc np3 -o jsonpath='{.spec.type} [{.spec.ports[0].nodePort}{.spec.externalTrafficPolicy}] {.spec.clusterIP}'
k create service nodeport np20005 --tcp=80 --node-port=20005 >/dev/null
expect_exact "…and the port is free for another Service" "20005" -- k get svc np20005 -o jsonpath='{.spec.ports[0].nodePort}'
k patch svc np3 -p '{"spec":{"type":"NodePort"}}' >/dev/null
expect "back to NodePort: a new node port" '^200[0-9][0-9]$' -- k get svc np3 -o jsonpath='{.spec.ports[0].nodePort}'
k get svc np -o json | sed 's/"type": "NodePort"/"type": "ClusterIP"/' >"$TEST_TMP/np-clusterip.json"
expect "kubectl replace (PUT) to type ClusterIP works too" 'replaced' -- k replace -f "$TEST_TMP/np-clusterip.json"
expect_exact "…without the node port" "ClusterIP []" -- k get svc np -o jsonpath='{.spec.type} [{.spec.ports[0].nodePort}]'
cat >"$TEST_TMP/forbidden.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: forbidden}
spec: {type: ClusterIP, ports: [{port: 80, nodePort: 20010}]}
YAML
expect_fail "a node port asked for on a ClusterIP Service: refused" \
  "spec.ports\[0\].nodePort: Forbidden: may not be used when .type. is 'ClusterIP'" -- k create -f "$TEST_TMP/forbidden.yaml"
cat >"$TEST_TMP/lb-no-ports.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: lb-no-ports}
spec: {type: LoadBalancer, allocateLoadBalancerNodePorts: false, ports: [{port: 80}]}
YAML
k create -f "$TEST_TMP/lb-no-ports.yaml" >/dev/null
expect_exact "a LoadBalancer with allocateLoadBalancerNodePorts false gets no node port" "[]" -- \
  k get svc lb-no-ports -o jsonpath='[{.spec.ports[0].nodePort}]'
k create service loadbalancer lb --tcp=80 >/dev/null
expect "a LoadBalancer defaults allocateLoadBalancerNodePorts to true and gets one" '^true 200[0-9][0-9]$' -- \
  k get svc lb -o jsonpath='{.spec.allocateLoadBalancerNodePorts} {.spec.ports[0].nodePort}'

# The health check node port of a LoadBalancer with externalTrafficPolicy Local (the node's proxy
# serves it: e2e_services), from the node port range, as upstream allocates it.
k patch svc lb -p '{"spec":{"externalTrafficPolicy":"Local"}}' >/dev/null
expect "externalTrafficPolicy Local: a healthCheckNodePort from the range" '^200[0-9][0-9]$' -- \
  k get svc lb -o jsonpath='{.spec.healthCheckNodePort}'
LB_HC=$(k get svc lb -o jsonpath='{.spec.healthCheckNodePort}')
if [[ $LB_HC == "$(k get svc lb -o jsonpath='{.spec.ports[0].nodePort}')" ]]; then
  _report fail "the health check port is not the Service's node port" "both $LB_HC"
fi
k label svc lb touched=yes >/dev/null
expect_exact "an update keeps it" "$LB_HC" -- k get svc lb -o jsonpath='{.spec.healthCheckNodePort}'
expect_fail "a different one on update: refused as upstream" \
  "spec.healthCheckNodePort: Invalid value: 20014: cannot change healthCheckNodePort on loadBalancer service with externalTraffic=Local during update" -- \
  k patch svc lb -p '{"spec":{"healthCheckNodePort":20014}}'
hc_service() {  # hc_service NAME TYPE POLICY PORT: a Service file asking for a health check port
  printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec: {type: %s, externalTrafficPolicy: %s, healthCheckNodePort: %s, ports: [{port: 80}]}\n' \
    "$1" "$2" "$3" "$4" >"$TEST_TMP/$1.yaml"
  echo "$TEST_TMP/$1.yaml"
}
# Ports asked for by name come from the static band (20000-20015 here), which dynamic picks avoid.
k create -f "$(hc_service hc-named LoadBalancer Local 20012)" >/dev/null
expect_exact "one asked for by name" "20012" -- k get svc hc-named -o jsonpath='{.spec.healthCheckNodePort}'
expect_fail "…taken: refused with upstream's internal error" \
  "Internal error occurred: failed to allocate requested HealthCheck NodePort 20012: provided port is already allocated" -- \
  k create -f "$(hc_service hc-taken LoadBalancer Local 20012)"
expect_fail "…a node port of another Service: refused too" "failed to allocate requested HealthCheck NodePort 20005: provided port is already allocated" -- \
  k create -f "$(hc_service hc-np LoadBalancer Local 20005)"
expect_fail "…outside the range: refused" \
  "failed to allocate requested HealthCheck NodePort 30001: provided port is not in the valid range. The range of valid ports is 20000-20099" -- \
  k create -f "$(hc_service hc-outside LoadBalancer Local 30001)"
expect_fail "on a Service with externalTrafficPolicy Cluster: refused" \
  "spec.healthCheckNodePort: Invalid value: 20013: may only be set when .type. is 'LoadBalancer' and .externalTrafficPolicy. is 'Local'" -- \
  k create -f "$(hc_service hc-cluster LoadBalancer Cluster 20013)"
expect_fail "nothing was stored for them" 'NotFound' -- k get svc hc-taken
k patch svc hc-named -p '{"spec":{"externalTrafficPolicy":"Cluster"}}' >/dev/null
expect_exact "back to Cluster: the health check port is gone" "[]" -- k get svc hc-named -o jsonpath='[{.spec.healthCheckNodePort}]'
k create -f "$(hc_service hc-again LoadBalancer Local 20012)" >/dev/null
expect_exact "…and free for another Service" "20012" -- k get svc hc-again -o jsonpath='{.spec.healthCheckNodePort}'

# Creates racing for one address: each of 8 rounds, 8 Services asking for the same cluster IP and
# node port sent at once (8 connections); exactly one gets it, the others upstream's 422, and no
# two stored Services share an address (AddressHolds: what an allocation handed out is held until
# its write is stored or failed).
admin_cert_files
RACE_PORTS=(20001 20002 20003 20004 20006 20007 20008 20009)  # free ones of the static band
race_round() {  # race_round N — prints the HTTP codes of the round's creates
  local n=$1 i
  for i in 1 2 3 4 5 6 7 8; do
    printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"race-%s-%s"},"spec":{"type":"NodePort","clusterIP":"10.96.0.%s","ports":[{"port":80,"nodePort":%s}]}}' \
      "$n" "$i" "$((100 + n))" "${RACE_PORTS[n - 1]}" >"$TEST_TMP/race-$n-$i.json"
  done
  for i in 1 2 3 4 5 6 7 8; do
    "${CURL:-curl}" -sS --max-time 20 --cacert "$TEST_TMP/ca.crt" --cert "$TEST_TMP/client.crt" --key "$TEST_TMP/client.key" \
      -H "Content-Type: application/json" --data-binary "@$TEST_TMP/race-$n-$i.json" -o /dev/null -w '%{http_code}\n' \
      "$BASE/api/v1/namespaces/default/services" &
  done
  wait
}
RACES=()
for n in $(seq 1 8); do RACES+=("$(race_round "$n" | sort | uniq -c | awk '{printf "%s%s×%s", (NR > 1 ? " " : ""), $1, $2}')"); done
expect_exact "8 rounds of 8 creates asking for one address and node port at once: one 201 each" \
  "$(printf '1×201 7×422;%.0s' $(seq 1 8))" -- printf '%s;' "${RACES[@]}"
shared_addresses() {  # every cluster IP and node port held by two stored Services
  k get svc -A -o json | python3 -c 'import collections, json, sys
seen = collections.Counter()
for s in json.load(sys.stdin)["items"]:
    spec = s["spec"]
    seen.update(ip for ip in spec.get("clusterIPs", []) if ip != "None")
    seen.update(p["nodePort"] for p in spec.get("ports", []) if p.get("nodePort"))
    if spec.get("healthCheckNodePort"):
        seen[spec["healthCheckNodePort"]] += 1
print(" ".join(str(a) for a, n in seen.items() if n > 1))'
}
expect_exact "no two Services share a cluster IP or a node port" "" -- shared_addresses

# What agents are told at the join.
SECRET=$(sed 's/.*://' "$TEST_TMP/kite-data/server/token")
expect "GET /v1-kite/config with the token: the server's settings" \
  '^\{"clusterCIDR": "10\.42\.0\.0/16", "serviceCIDR": "10\.96\.0\.0/16", "clusterDNS": "10\.96\.0\.10", "clusterDomain": "cluster\.local", "flannelBackend": "vxlan", "networkPolicy": "enforced"\}$' -- \
  "${CURL:-curl}" -sSk --max-time 10 -u "node:$SECRET" "https://127.0.0.1:$API_PORT/v1-kite/config"
expect "GET /v1-kite/config without it: 401" '^401$' -- \
  "${CURL:-curl}" -sSk --max-time 10 -o /dev/null -w '%{http_code}' -u "node:wrong" "https://127.0.0.1:$API_PORT/v1-kite/config"

# The same through k3s's pass-through flag, with kube-apiserver's names.
stop_pid "$SERVER_PID" || true
KITE_ARGS=(--kube-apiserver-arg=service-cluster-ip-range=10.97.0.0/16 --kube-apiserver-arg service-node-port-range=32000-32099)
start_kite_api fwd
expect_exact "--kube-apiserver-arg=service-cluster-ip-range: the kubernetes Service's address" "10.97.0.1" -- \
  k get svc kubernetes -o jsonpath='{.spec.clusterIP}'
k create service nodeport np --tcp=80 >/dev/null
expect "--kube-apiserver-arg=service-node-port-range: node ports from it" '^320[0-9][0-9]$' -- \
  k get svc np -o jsonpath='{.spec.ports[0].nodePort}'

# Bad flag values stop the start with a message.
stop_pid "$SERVER_PID" || true
bad_start() {
  local rc=0
  "$KITE_SERVER" --config "$TEST_TMP/empty-config.yaml" --data-dir "$TEST_TMP/bad" "$@" >"$TEST_TMP/bad.log" 2>&1 </dev/null || rc=$?
  echo "exit $rc: $(cat "$TEST_TMP/bad.log")"
}
expect "--service-cidr larger than /12: refused" "exit 2: kite-server: --service-cidr: 10.0.0.0/8 must be /12" -- \
  bad_start --service-cidr 10.0.0.0/8
expect "--service-cidr with host bits: refused" "exit 2: kite-server: --service-cidr: 10.96.0.1/16 has host bits set" -- \
  bad_start --service-cidr 10.96.0.1/16
expect "--service-node-port-range backwards: refused" \
  'exit 2: kite-server: --service-node-port-range: "32767-30000" is not a port range: it ends before it starts' -- \
  bad_start --service-node-port-range 32767-30000
expect "--kube-apiserver-arg with a flag kite does not take: refused, listing what it takes" \
  'exit 2: kite-server: --kube-apiserver-arg: "feature-gates" is not a flag kite takes \(it takes .*service-cluster-ip-range' -- \
  bad_start --kube-apiserver-arg feature-gates=Foo=true
finish
