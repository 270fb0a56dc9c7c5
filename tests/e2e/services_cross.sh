#!/usr/bin/env bash
# Services and cluster DNS across two real nodes, with the pod network's backend given as the
# argument (vxlan | host-gw). Node A is kite-server with its embedded agent, node B a kite-agent;
# each a network namespace with its own containerd, both on one LAN (a bridge in a namespace of
# its own at 10.98.0.254, which also stands for the world outside the cluster and runs a dnsmasq:
# the nodes' upstream resolver, given to their kubelets with --resolv-conf, so kite-dns forwards
# there). Shows, with the web pods on node B and the client pod on node A:
# - busybox wget from the client to the Service by ClusterIP, by web.default.svc.cluster.local
#   and by the short name web;
# - a headless Service resolves (nslookup through kite-dns) to every ready pod IP;
# - scaling changes the endpoints, the rules on node A and the headless answer (the time from
#   the new pod's Ready to its rule on node A is measured, not asserted);
# - a pod whose readiness probe fails leaves the rules, the headless answer and the rotation;
# - through kite-dns: an external name answered by the dnsmasq upstream, a missing one NXDOMAIN,
#   `nslookup kubernetes` and `nslookup kubernetes.default` (see below) give 10.43.0.1;
# - the seed flow `kubectl expose deployment grafana --type=NodePort --port=80
#   --target-port=3000` (a busybox httpd on 3000) reached on both nodes' addresses from the LAN,
#   and a LoadBalancer Service's ingress IPs (ServiceLB: the node addresses) answering there;
# - externalTrafficPolicy Local: the healthCheckNodePort answers 200 on the pods' node, 503 on
#   the other (kube-proxy's service health check);
# - a NetworkPolicy on web's pods (node B) drops the client on node A until it has the label the
#   policy admits;
# - deleted Services leave no rule behind on either node.
# (A node leaving loses its routes on the others: e2e_pod_network_*.)
#
# busybox 1.35's nslookup never applies the search path to a name with a dot: `nslookup
# kubernetes.default` asks exactly `kubernetes.default.` (A and AAAA), a name outside the cluster
# domain. kite-dns answers `<svc>.<ns>.` itself when that Service exists (a CNAME to its cluster
# name; addons/dns/zone.h says why and what it costs); other such names still go upstream.
set -euo pipefail
BACKEND=${1:-vxlan}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
require_tool "$KITE_AGENT"
command -v curl >/dev/null || skip "curl is not installed"
command -v dnsmasq >/dev/null || skip "dnsmasq is not installed (dnsmasq-base)"
[[ -f $KITE_IMAGES/kite-dns.tar ]] || skip "no kite-dns image archive in $KITE_IMAGES"
sweep_leftovers

lan_netns lan
LAN=$REPLY
new_netns a 10.99.0.1
ANS=$REPLY
new_netns b 10.99.1.1
BNS=$REPLY
join_lan "$LAN" "$ANS" 10.98.0.1
join_lan "$LAN" "$BNS" 10.98.0.2
new_node_dir a
AD=$REPLY
new_node_dir b
BD=$REPLY
KC=$TEST_TMP/kubeconfig
IMAGE=kite.local/busybox:1.35
k() { kubectl_in "$ANS" "$KC" "$@"; }
ready() { k get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'; }

# The upstream resolver outside the cluster: one name of its own, NXDOMAIN for the rest of its
# domain, no upstream of its own (REFUSED for everything else).
_spawn "$TEST_TMP/dnsmasq.log" nsenter --net="/run/netns/$LAN" -- dnsmasq --keep-in-foreground --log-facility=- \
  --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces --listen-address=10.98.0.254 --port=53 \
  --user=root --pid-file="$TEST_TMP/dnsmasq.pid" --host-record=ext.example.test,192.0.2.10 --local=/example.test/
echo "nameserver 10.98.0.254" >"$TEST_TMP/resolv.conf"

_spawn "$TEST_TMP/server.log" nsenter --net="/run/netns/$ANS" -- "$KITE_SERVER" --data-dir "$AD" --write-kubeconfig "$KC" \
  --node-name e2e-a --node-ip 10.98.0.1 --tls-san 10.98.0.1 --etcd-listen "" --metrics-listen 127.0.0.1:0 \
  --flannel-backend "$BACKEND" --resolv-conf "$TEST_TMP/resolv.conf"
eventually_eq "node A Ready" 90 True ready e2e-a
_spawn "$TEST_TMP/agent.log" nsenter --net="/run/netns/$BNS" -- "$KITE_AGENT" --server https://10.98.0.1:6443 \
  --token "$(cat "$AD/server/token")" --data-dir "$BD" --node-name e2e-b --node-ip 10.98.0.2 \
  --flannel-backend "$BACKEND" --resolv-conf "$TEST_TMP/resolv.conf"
eventually_eq "node B Ready" 120 True ready e2e-b

# --- web: httpd pods on node B that say their name; /cgi-bin/unready fails the readiness probe
{
  web_deployment "$IMAGE" e2e-b
  cat <<YAML
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web-headless}
spec:
  clusterIP: None
  selector: {app: web}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  nodeName: e2e-a
  containers: [{name: c, image: $IMAGE, command: [sleep, "3600"]}]
YAML
} >"$TEST_TMP/web.yaml"
k apply -f "$TEST_TMP/web.yaml" >/dev/null
eventually_eq "deployment web 2/2 ready on node B" 150 2 k get deployment web -o 'jsonpath={.status.readyReplicas}'
expect_eq "the web pods run on node B" "e2e-b e2e-b" k get pods -l app=web -o 'jsonpath={.items[*].spec.nodeName}'
eventually_eq "client pod Running on node A" 90 Running k get pod client -o 'jsonpath={.status.phase}'
dns_ready() { [[ $(k get deploy -n kube-system kite-dns -o 'jsonpath={.status.readyReplicas}') == 1 ]]; }
eventually "the kite-dns add-on Ready" 120 dns_ready

# The client's container, through node A's containerd (no exec through the API needed).
CID=$(k get pod client -o 'jsonpath={.status.containerStatuses[0].containerID}')
CID=${CID#containerd://}
SOCK=$(sed -n 's/^ *address *= *"\(.*\.sock\)"$/\1/p' "$AD/agent/etc/containerd/config.toml" | head -1)
EXEC_N=0
in_client() {
  EXEC_N=$((EXEC_N + 1))
  ctr --address "$SOCK" -n k8s.io tasks exec --exec-id "e2e-$EXEC_N" "$CID" "$@"
}
# (busybox-static 1.35's wget -T crashes: a timeout applet bounds it instead)
fetch() { in_client timeout 5 wget -q -O - "$1"; }
# The addresses nslookup gives for NAME ("Address: " lines; the server's own is "Address:\t").
lookup() { in_client timeout 10 nslookup "$1" 2>&1 | awk '/^Address: / {print $2}' | sort | xargs; }
nat_a() { in_ns "$ANS" iptables-save -t nat; }
web_eps_a() { nat_a | grep -c -- '-A KUBE-SVC-[A-Z0-9]* -m comment --comment "\?default/web -> ' || true; }
pod_ips() { k get pods -l app=web -o 'jsonpath={range .items[?(@.status.podIP)]}{.status.podIP}{"\n"}{end}' | sort | xargs; }
ready_ips() {
  k get pods -l app=web -o 'jsonpath={range .items[*]}{.status.podIP} {.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' |
    awk '$2 == "True" {print $1}' | sort | xargs
}

# --- the Service from node A's pod, by ClusterIP and by name
CIP=$(k get svc web -o 'jsonpath={.spec.clusterIP}')
PODS=$(k get pods -l app=web -o 'jsonpath={.items[*].metadata.name}')
is_web() { local got; got=$(fetch "$1") && [[ " $PODS " == *" $got "* ]]; }
eventually "pod on A fetches from web's pods on B by ClusterIP $CIP" 30 is_web "http://$CIP/"
eventually "... by web.default.svc.cluster.local" 30 is_web "http://web.default.svc.cluster.local/"
eventually "... by the short name web" 30 is_web "http://web/"
eventually_eq "nslookup web gives the ClusterIP" 20 "$CIP" lookup web

# --- headless: every ready pod IP
eventually_eq "headless web-headless resolves to both pod IPs ($(ready_ips))" 20 "$(ready_ips)" lookup web-headless.default.svc.cluster.local

# --- scaling: endpoints, node A's rules and the headless answer follow. Measured, not asserted:
# from the new pod's Ready (its lastTransitionTime, whole seconds) to its rule on node A, and
# from `kubectl scale` back to two to the rule gone (kubectl's own run included).
expect_eq "two endpoints in web's chain on node A" 2 web_eps_a
# when_rules N: polls node A's rules until web has N endpoints; the time in T_RULE (ns).
when_rules() {
  local deadline=$((SECONDS + 150))
  until [[ $(web_eps_a) == "$1" ]]; do
    ((SECONDS < deadline)) || fail "not $1 endpoints in node A's rules: $(web_eps_a)"
    sleep 0.05
  done
  T_RULE=$(date +%s%N)
}
k scale deployment web --replicas=3 >/dev/null
when_rules 3
echo "ok - scaled to 3: three endpoints in node A's rules"
ready_at=$(k get pods -l app=web -o 'jsonpath={range .items[*]}{.status.conditions[?(@.type=="Ready")].lastTransitionTime}{"\n"}{end}' | sort | tail -1)
echo "measured: the new pod Ready at $ready_at -> its rule on node A at $(date -u -d "@$((T_RULE / 1000000000))" +%H:%M:%S).$(printf %03d $((T_RULE / 1000000 % 1000)))"
eventually_eq "headless answer follows: three pod IPs" 20 "$(ready_ips)" lookup web-headless.default.svc.cluster.local
t0=$(date +%s%N)
k scale deployment web --replicas=2 >/dev/null
t1=$(date +%s%N)
when_rules 2
echo "ok - scaled to 2: two endpoints in node A's rules"
echo "measured: kubectl scale --replicas=2 started -> two endpoints in node A's rules: $(((T_RULE - t0) / 1000000)) ms (of it kubectl's own run: $(((t1 - t0) / 1000000)) ms)"
web_pods() { k get pods -l app=web -o name | wc -l; }
eventually_eq "the third pod is gone" 60 2 web_pods
eventually_eq "headless answer follows: two pod IPs" 20 "$(pod_ips)" lookup web-headless.default.svc.cluster.local

# --- a failing readiness probe takes a pod out of rotation
OUT=$(k get pods -l app=web -o 'jsonpath={.items[0].metadata.name} {.items[0].status.podIP}')
OUT_NAME=${OUT% *} OUT_IP=${OUT#* }
in_ns "$ANS" curl -s -m 5 "http://$OUT_IP/cgi-bin/unready" | grep unready >/dev/null || fail "cgi-bin/unready did not run"
eventually_eq "pod $OUT_NAME not Ready" 30 False k get pod "$OUT_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
eventually_eq "the unready pod leaves node A's rules" 30 1 web_eps_a
eventually_eq "and the headless answer" 20 "$(ready_ips)" lookup web-headless.default.svc.cluster.local
never_out() {
  local i
  for i in $(seq 1 10); do [[ $(fetch "http://$CIP/") != "$OUT_NAME" ]] || return 1; done
}
never_out || fail "the unready pod still gets traffic"
echo "ok - the unready pod gets no traffic"

# --- names outside the cluster: through the upstream (dnsmasq on the LAN)
eventually_eq "an external name resolves through the upstream" 20 192.0.2.10 lookup ext.example.test
missing=$(in_client timeout 10 nslookup missing.example.test 2>&1 || true)
grep -q "NXDOMAIN" <<<"$missing" || fail "missing.example.test: $missing"
echo "ok - a missing name gets NXDOMAIN"
expect_eq "nslookup kubernetes gives 10.43.0.1" 10.43.0.1 lookup kubernetes
out=$(in_client timeout 10 nslookup kubernetes.default 2>&1) || fail "nslookup kubernetes.default failed: $out"
grep -q "canonical name = kubernetes.default.svc.cluster.local" <<<"$out" || fail "nslookup kubernetes.default: $out"
expect_eq "nslookup kubernetes.default gives 10.43.0.1" 10.43.0.1 lookup kubernetes.default
expect_eq "nslookup web.default gives web's ClusterIP" "$CIP" lookup web.default
nothere=$(in_client timeout 10 nslookup web.kube-system 2>&1 || true)
grep -q "NXDOMAIN\|SERVFAIL" <<<"$nothere" || fail "web.kube-system (no such Service) must go upstream: $nothere"
echo "ok - <svc>.<ns> names only existing Services; others go upstream"

# --- the seed flow: NodePort on both nodes' addresses, then a LoadBalancer
k create deployment grafana --image="$IMAGE" -- httpd -f -p 3000 -h /var/www >/dev/null
k expose deployment grafana --type=NodePort --port=80 --target-port=3000 >/dev/null
k expose deployment grafana --name=grafana-lb --type=LoadBalancer --port=8080 --target-port=3000 >/dev/null
eventually_eq "deployment grafana ready" 120 1 k get deployment grafana -o 'jsonpath={.status.readyReplicas}'
NP=$(k get svc grafana -o 'jsonpath={.spec.ports[0].nodePort}')
from_lan() { in_ns "$LAN" curl -s -m 5 "$1"; }
for ip in 10.98.0.1 10.98.0.2; do
  eventually_eq "NodePort $ip:$NP answers from the LAN" 30 "kite test image" from_lan "http://$ip:$NP/"
done
lb_ips() { k get svc grafana-lb -o 'jsonpath={.status.loadBalancer.ingress[*].ip}' | xargs -n1 | sort | xargs; }
eventually_eq "LoadBalancer ingress: both node addresses (ServiceLB)" 30 "10.98.0.1 10.98.0.2" lb_ips
for ip in 10.98.0.1 10.98.0.2; do
  eventually_eq "LoadBalancer $ip:8080 answers" 30 "kite test image" from_lan "http://$ip:8080/"
done

# --- a NetworkPolicy across nodes (agent/netpol/ on both): web's pods on node B admit only pods
# labelled role=frontend, so the client on node A, through the ClusterIP, is dropped until it
# has the label
cat >"$TEST_TMP/netpol.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-frontend}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress: [{from: [{podSelector: {matchLabels: {role: frontend}}}]}]
YAML
k apply -f "$TEST_TMP/netpol.yaml" >/dev/null
web_answers() { fetch "http://$CIP/" 2>/dev/null | grep -q '^web-'; }
web_silent() { ! web_answers; }
eventually "NetworkPolicy: the client on node A is dropped by web's pods on node B" 30 web_silent
k label pod client role=frontend >/dev/null
eventually "…and let in once labelled role=frontend" 30 web_answers
k delete networkpolicy web-from-frontend >/dev/null

# --- externalTrafficPolicy Local: the health check node port answers 200 on node B (the web
# pods' node) and 503 on node A, with upstream's body and weight header, for a load balancer
# outside to pick nodes by
k expose deployment web --name=web-local --type=LoadBalancer --port=8081 --target-port=80 >/dev/null
k patch svc web-local -p '{"spec":{"externalTrafficPolicy":"Local"}}' >/dev/null
HC=$(k get svc web-local -o 'jsonpath={.spec.healthCheckNodePort}')
[[ $HC -ge 30000 && $HC -le 32767 ]] || fail "healthCheckNodePort '$HC' outside 30000-32767"
health() { in_ns "$LAN" curl -s -m 5 -i "http://$1:$HC/" | tr -d '\r\t\n'; }
hc_serving() {
  health 10.98.0.2 | grep -qE '^HTTP/1.1 200 .*X-Load-Balancing-Endpoint-Weight: [12].*\{"service": \{"namespace": "default","name": "web-local"\},"localEndpoints": [12],"serviceProxyHealthy": true\}$'
}
hc_not_here() { health 10.98.0.1 | grep -qE '^HTTP/1.1 503 .*X-Load-Balancing-Endpoint-Weight: 0.*"localEndpoints": 0,'; }
eventually "health check on node B ($HC): 200, its ready pods counted" 30 hc_serving
eventually "health check on node A: 503, no local endpoint" 30 hc_not_here
k patch svc web-local -p '{"spec":{"externalTrafficPolicy":"Cluster"}}' >/dev/null
hc_closed() { ! in_ns "$LAN" curl -s -m 3 -o /dev/null "http://10.98.0.2:$HC/"; }
eventually "back to Cluster: the health check port closes" 30 hc_closed

# --- deleted Services leave no rule behind, on either node
k delete svc web web-headless grafana grafana-lb web-local >/dev/null
for ns in "$ANS" "$BNS"; do
  no_rules() { ! in_ns "$1" iptables-save | grep 'default/\(web\|grafana\)' >/dev/null; }
  eventually "no rule mentions the deleted Services on ${ns%-*}" 30 no_rules "$ns"
done
echo "PASS"
