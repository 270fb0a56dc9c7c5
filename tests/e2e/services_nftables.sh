#!/usr/bin/env bash
# Services through the proxy's nftables mode (--proxy-mode=nftables; agent/proxy/nftables_rules.h)
# on one real node: kite-server with its embedded agent, its own containerd, inside a network
# namespace whose nftables table `ip kube-proxy` is the only one written. Real traffic shows:
# the kubernetes Service, a ClusterIP Service of busybox httpd pods from the node and from a pod,
# NodePort, LoadBalancer (ServiceLB), the spread over both pods, scaling, a pod failing its
# readiness probe leaving the rotation, sessionAffinity ClientIP, loadBalancerSourceRanges
# (a source outside the ranges gets nothing, inside it gets an answer), rules and the whole table
# deleted by hand coming back, and nothing left once the Services are deleted.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
command -v curl >/dev/null || skip "curl is not installed"
command -v nft >/dev/null || skip "nft (Debian nftables) is not installed"
sweep_leftovers

new_netns svcnft 10.99.0.1
NS=$REPLY
new_node_dir svcnft
D=$REPLY
NODE=kite-e2e-svcnft
NODE_IP=10.99.0.1
IMAGE=kite.local/busybox:1.35
KC=$TEST_TMP/kubeconfig
k() { kubectl_in "$NS" "$KC" "$@"; }
jp() { k get "$@"; }
table() { in_ns "$NS" nft list table ip kube-proxy; }
start_node_server --node-ip "$NODE_IP" --iptables-sync-period 3s --proxy-full-sync-period 3s \
  --proxy-mode nftables --disable kite-dns,traefik
eventually_eq "node Ready" 90 True jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

# --- the kubernetes Service, through the service-ips verdict map to the shared picking chain of
# TCP ports with one endpoint (a plain cluster-IP port has no chain of its own)
has_kubernetes() { table | grep -- '10.43.0.1 . tcp . 443 : goto pick-tcp-1' >/dev/null; }
eventually "service-ips sends 10.43.0.1:443 to the kubernetes Service's chain" 30 has_kubernetes
api_answers() { [[ $(in_ns "$NS" curl -sk -m 3 -o /dev/null -w '%{http_code}' https://10.43.0.1/readyz) != 000 ]]; }
eventually "the API server answers on https://10.43.0.1" 30 api_answers
in_ns "$NS" iptables-save -t nat 2>/dev/null | grep -q KUBE-SVC- && fail "iptables rules written in nftables mode"
echo "ok - no iptables rules in nftables mode"

web_deployment "$IMAGE" >"$TEST_TMP/web.yaml"
k apply -f "$TEST_TMP/web.yaml" >/dev/null
eventually_eq "deployment web 2/2 ready" 120 2 jp deployment web -o 'jsonpath={.status.readyReplicas}'
k expose deployment web --port=80 >/dev/null
k expose deployment web --name=web-np --type=NodePort --port=80 >/dev/null
k expose deployment web --name=web-lb --type=LoadBalancer --port=8080 --target-port=80 >/dev/null
CIP=$(k get svc web -o 'jsonpath={.spec.clusterIP}')
NP=$(k get svc web-np -o 'jsonpath={.spec.ports[0].nodePort}')
PODS=$(k get pods -l app=web -o 'jsonpath={.items[*].metadata.name}')
is_pod_name() { local got; got=$(in_ns "$NS" curl -s -m 3 "$1") && [[ " $PODS " == *" $got "* ]]; }
eventually "ClusterIP $CIP:80 answers from the node (a web pod's name)" 30 is_pod_name "http://$CIP/"
eventually "NodePort $NODE_IP:$NP answers" 30 is_pod_name "http://$NODE_IP:$NP/"
eventually_eq "LoadBalancer ingress is the node's InternalIP (ServiceLB)" 30 "$NODE_IP" \
  jp svc web-lb -o 'jsonpath={.status.loadBalancer.ingress[*].ip}'
eventually "LoadBalancer $NODE_IP:8080 answers" 30 is_pod_name "http://$NODE_IP:8080/"
seen_both() {
  local names="" i p
  for i in $(seq 1 40); do names+=" $(in_ns "$NS" curl -s -m 3 "http://$CIP/")"; done
  for p in $PODS; do [[ $names == *"$p"* ]] || return 1; done
}
eventually "ClusterIP spreads over both pods (numgen over the endpoints map)" 30 seen_both

get_in_pod() { echo "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $1 $2 | grep -q '^web-'"; }
k run client --image="$IMAGE" --restart=Never -- sh -c "$(get_in_pod "$CIP" 80) && $(get_in_pod "$NODE_IP" "$NP")" >/dev/null
eventually_eq "a pod reaches the ClusterIP and the NodePort (busybox nc)" 90 Succeeded jp pod client -o 'jsonpath={.status.phase}'

# --- web's endpoints: its elements (cluster IP . port . slot) in the endpoints map of the
# picking chain for its count, which service-ips sends it to
svc_eps() {
  local n
  n=$(table | grep -o -- "$CIP . tcp . 80 : goto pick-tcp-[0-9]*" | sed 's/.*-//')
  [[ -n $n ]] || { echo 0; return; }
  table | grep -o -- "$CIP . 80 . [0-9]* : [0-9.]* . 80" | wc -l | awk -v n="$n" '$1 == n {print n} $1 != n {print "map " n " elements " $1}'
}
expect_eq "two endpoints for web" 2 svc_eps
k scale deployment web --replicas=3 >/dev/null
eventually_eq "scaled to 3: three endpoints in the rules" 90 3 svc_eps
k scale deployment web --replicas=2 >/dev/null
eventually_eq "scaled to 2: two endpoints in the rules" 90 2 svc_eps
web_pods() { k get pods -l app=web -o name | wc -l; }
eventually_eq "the third pod is gone" 60 2 web_pods

# --- a failing readiness probe takes a pod out of rotation
OUT=$(k get pods -l app=web -o 'jsonpath={.items[0].metadata.name} {.items[0].status.podIP}')
OUT_NAME=${OUT% *} OUT_IP=${OUT#* }
in_ns "$NS" curl -s -m 3 "http://$OUT_IP/cgi-bin/unready" | grep unready >/dev/null || fail "cgi-bin/unready did not run"
eventually_eq "the unready pod leaves the rules" 30 1 svc_eps
never_out() {
  local i
  for i in $(seq 1 20); do [[ $(in_ns "$NS" curl -s -m 3 "http://$CIP/") != "$OUT_NAME" ]] || return 1; done
}
never_out || fail "the unready pod still gets traffic"
echo "ok - the unready pod gets no traffic"
k delete pod "$OUT_NAME" >/dev/null
eventually_eq "two ready pods again" 90 2 jp deployment web -o 'jsonpath={.status.readyReplicas}'
eventually_eq "two endpoints again" 30 2 svc_eps
PODS=$(k get pods -l app=web -o 'jsonpath={.items[*].metadata.name}')  # the replacement has a new name

# --- sessionAffinity ClientIP: one client keeps its pod (endpoint chains + dynamic sets)
k patch svc web -p '{"spec":{"sessionAffinity":"ClientIP"}}' >/dev/null
has_affinity() { table | grep -q 'set affinity-'; }
eventually "affinity sets in the table" 30 has_affinity
sticky() {
  local first i got
  first=$(in_ns "$NS" curl -s -m 3 "http://$CIP/") || return 1
  for i in $(seq 1 15); do got=$(in_ns "$NS" curl -s -m 3 "http://$CIP/"); [[ $got == "$first" ]] || return 1; done
}
eventually "sessionAffinity ClientIP: 16 requests, one pod" 30 sticky

# --- loadBalancerSourceRanges: the node's own address is outside the first range, inside the second
k patch svc web-lb -p '{"spec":{"loadBalancerSourceRanges":["192.0.2.0/24"]}}' >/dev/null
lb_blocked() { ! in_ns "$NS" curl -s -m 2 "http://$NODE_IP:8080/" >/dev/null; }
eventually "LoadBalancer refuses a source outside loadBalancerSourceRanges" 30 lb_blocked
is_pod_name "http://$CIP/" || fail "the ClusterIP must not be affected by the LB's source ranges"
k patch svc web-lb -p "{\"spec\":{\"loadBalancerSourceRanges\":[\"192.0.2.0/24\",\"$NODE_IP/32\"]}}" >/dev/null
eventually "LoadBalancer answers a source inside loadBalancerSourceRanges" 30 is_pod_name "http://$NODE_IP:8080/"

# --- rules deleted by hand come back at the next (full) sync
# (Rules and chains come back at every full sync; map elements are written by difference, so a
# single element deleted by hand comes back when the table is made anew — see nftables_rules.h.)
in_ns "$NS" nft flush chain ip kube-proxy services
in_ns "$NS" nft flush chain ip kube-proxy pick-tcp-1
eventually "the flushed dispatch rule and the flushed picking chain come back" 30 api_answers
in_ns "$NS" nft delete table ip kube-proxy
eventually "the whole table comes back" 30 has_kubernetes
eventually "ClusterIP answers again" 30 is_pod_name "http://$CIP/"

# --- deleted Services leave nothing behind
k delete svc web web-np web-lb >/dev/null
no_web() { ! table | grep -q 'default/web'; }
eventually "nothing in the table mentions default/web" 30 no_web
echo "PASS"
