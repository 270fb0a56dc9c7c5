#!/usr/bin/env bash
# The pod network across nodes, with the backend given as the argument (vxlan | host-gw): three
# real nodes (kite-server's embedded agent and two kite-agents), each a network namespace with
# its own containerd, on one LAN (a bridge in a namespace of its own, which also stands for the
# world outside the cluster at 10.98.0.254). Shows: every node publishes flannel's annotations;
# a pod on one node fetches (busybox wget) from pods on the two others by IP; pod to pod keeps
# the source IP (a CGI in the target echoes REMOTE_ADDR), pod to an address outside the cluster
# CIDR leaves with the node's address; a node that joins late is reachable, and one that is
# deleted loses its routes (and for vxlan its ARP and FDB entries) on the others.
set -euo pipefail
BACKEND=${1:-vxlan}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
require_tool "$KITE_AGENT"
command -v busybox >/dev/null || skip "busybox is not installed (busybox-static)"
sweep_leftovers

lan_netns lan
LAN=$REPLY
new_netns srv 10.99.0.1
SNS=$REPLY
new_netns a1 10.99.1.1
A1NS=$REPLY
new_netns a2 10.99.2.1
A2NS=$REPLY
join_lan "$LAN" "$SNS" 10.98.0.1
join_lan "$LAN" "$A1NS" 10.98.0.2
join_lan "$LAN" "$A2NS" 10.98.0.3
new_node_dir srv
SD=$REPLY
new_node_dir a1
A1D=$REPLY
new_node_dir a2
A2D=$REPLY
KC=$TEST_TMP/kubeconfig
IMAGE=kite.local/busybox:1.35
k() { kubectl_in "$SNS" "$KC" "$@"; }
ready() { k get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'; }

_spawn "$TEST_TMP/server.log" nsenter --net="/run/netns/$SNS" -- "$KITE_SERVER" --data-dir "$SD" --write-kubeconfig "$KC" \
  --node-name e2e-srv --node-ip 10.98.0.1 --tls-san 10.98.0.1 --etcd-listen "" --metrics-listen 127.0.0.1:0 \
  --flannel-backend "$BACKEND"
eventually_eq "server node Ready" 90 True ready e2e-srv
TOKEN=$(cat "$SD/server/token")
start_agent() {  # start_agent NS DIR NAME IP
  _spawn "$TEST_TMP/$3.log" nsenter --net="/run/netns/$1" -- "$KITE_AGENT" --server https://10.98.0.1:6443 \
    --token "$TOKEN" --data-dir "$2" --node-name "$3" --node-ip "$4" --flannel-backend "$BACKEND"
}
start_agent "$A1NS" "$A1D" e2e-a1 10.98.0.2
eventually_eq "node a1 Ready" 120 True ready e2e-a1

# --- flannel's annotations on every node
vtep_mac() { ip -n "$1" -o link show flannel.1 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p'; }
ann() { k get node "$1" -o "jsonpath={.metadata.annotations.flannel\.alpha\.coreos\.com/$2}"; }
for n in e2e-srv e2e-a1; do
  eventually_eq "$n: backend-type $BACKEND" 30 "$BACKEND" ann "$n" backend-type
  expect_eq "$n: kube-subnet-manager" true ann "$n" kube-subnet-manager
done
expect_eq "a1: public-ip is its node IP" 10.98.0.2 ann e2e-a1 public-ip
if [[ $BACKEND == vxlan ]]; then
  DATA=$(ann e2e-a1 backend-data)
  MAC=$(vtep_mac "$A1NS")
  [[ $DATA == "{\"VNI\":1,\"VtepMAC\":\"$MAC\"}" ]] || fail "a1 backend-data '$DATA', flannel.1's MAC $MAC"
  echo "ok - a1 publishes {\"VNI\":1,\"VtepMAC\":\"$MAC\"}, flannel.1's MAC"
  ip -n "$A1NS" -d link show flannel.1 | grep "vxlan id 1 .*dstport 8472" >/dev/null || fail "flannel.1: $(ip -n "$A1NS" -d link show flannel.1)"
  echo "ok - flannel.1 is VXLAN id 1 on UDP 8472"
  expect_eq "flannel.1 MTU is the uplink's less 50" 1450 sh -c "ip -n '$A1NS' -o link show flannel.1 | sed -n 's/.* mtu \\([0-9]*\\) .*/\\1/p'"
else
  expect_eq "a1: host-gw backend-data" null ann e2e-a1 backend-data
fi

# The third node joins later: the others learn its way within moments.
start_agent "$A2NS" "$A2D" e2e-a2 10.98.0.3
A2_PID=$LAST_PID
eventually_eq "node a2 Ready" 120 True ready e2e-a2
CIDR2=$(k get node e2e-a2 -o 'jsonpath={.spec.podCIDR}')
CIDR1=$(k get node e2e-a1 -o 'jsonpath={.spec.podCIDR}')
route_to() { ip -n "$1" route show "$2" proto 75; }  # 75 = 0x4b, the pod network's routes
if [[ $BACKEND == vxlan ]]; then
  want2="$CIDR2 via ${CIDR2%/24} dev flannel.1 onlink "
else
  want2="$CIDR2 via 10.98.0.3 dev node1 "
fi
eventually_eq "srv: route to a2's $CIDR2" 10 "$want2" route_to "$SNS" "$CIDR2"
eventually_eq "a1: route to a2's $CIDR2" 10 "$want2" route_to "$A1NS" "$CIDR2"

# --- pods: a client on a1, an echoing httpd on a2 (REMOTE_ADDR from a CGI), the image's httpd on srv
pod() {  # pod NAME NODE COMMAND
  cat <<YAML | k apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  nodeName: $2
  containers:
  - name: c
    image: $IMAGE
    command: ["sh", "-c", "$3"]
YAML
}
CGI='mkdir -p /w/cgi-bin && echo kite test image >/w/index.html && printf \"#!/bin/sh\\necho Content-Type: text/plain\\necho\\necho \\$REMOTE_ADDR\\n\" >/w/cgi-bin/ip && chmod +x /w/cgi-bin/ip && exec httpd -f -p 0.0.0.0:80 -h /w'
pod client e2e-a1 "exec sleep 3600"
pod echo e2e-a2 "$CGI"
pod web e2e-srv "exec httpd -f -p 80 -h /var/www"
for p in client echo web; do eventually_eq "pod $p Running" 120 Running k get pod "$p" -o 'jsonpath={.status.phase}'; done
CLIENT_IP=$(k get pod client -o 'jsonpath={.status.podIP}')
ECHO_IP=$(k get pod echo -o 'jsonpath={.status.podIP}')
WEB_IP=$(k get pod web -o 'jsonpath={.status.podIP}')
CID=$(k get pod client -o 'jsonpath={.status.containerStatuses[0].containerID}')
CID=${CID#containerd://}
SOCK=$(sed -n 's/^ *address *= *"\(.*\.sock\)"$/\1/p' "$A1D/agent/etc/containerd/config.toml" | head -1)
EXEC_N=0
in_client() {  # runs a command inside the client pod's container (through its node's containerd)
  EXEC_N=$((EXEC_N + 1))
  ctr --address "$SOCK" -n k8s.io tasks exec --exec-id "e2e-$EXEC_N" "$CID" "$@"
}
# (busybox-static 1.35's wget -T crashes: a timeout applet bounds it instead)
fetch() { in_client timeout 5 wget -q -O - "$1"; }
eventually_eq "pod on a1 fetches from the pod on a2 ($ECHO_IP) by IP" 20 "kite test image" fetch "http://$ECHO_IP/"
eventually_eq "pod on a1 fetches from the pod on srv ($WEB_IP) by IP" 20 "kite test image" fetch "http://$WEB_IP/"
expect_eq "pod to pod keeps the source IP ($CLIENT_IP)" "$CLIENT_IP" fetch "http://$ECHO_IP/cgi-bin/ip"

# --- masquerade: outside the cluster CIDR a pod's traffic takes its node's address
mkdir -p "$TEST_TMP/outside/cgi-bin"
printf '#!/bin/sh\necho Content-Type: text/plain\necho\necho $REMOTE_ADDR\n' >"$TEST_TMP/outside/cgi-bin/ip"
chmod +x "$TEST_TMP/outside/cgi-bin/ip"
_spawn "$TEST_TMP/outside.log" nsenter --net="/run/netns/$LAN" -- busybox httpd -f -p 10.98.0.254:8080 -h "$TEST_TMP/outside"
eventually_eq "pod to outside the cluster is masqueraded to a1's 10.98.0.2" 20 10.98.0.2 fetch "http://10.98.0.254:8080/cgi-bin/ip"
in_ns "$A1NS" iptables -t nat -S FLANNEL-POSTRTG | grep -- "-s 10.42.0.0/16 -d 10.42.0.0/16 .* -j RETURN" >/dev/null ||
  fail "FLANNEL-POSTRTG: $(in_ns "$A1NS" iptables -t nat -S FLANNEL-POSTRTG)"
echo "ok - the masquerade rules are in their own chain FLANNEL-POSTRTG"

# --- a node leaves: its routes (and VXLAN entries) go from the others
if [[ $BACKEND == vxlan ]]; then
  MAC2=$(vtep_mac "$A2NS")
  expect_eq "srv: ARP entry for a2's VTEP" "${CIDR2%/24} lladdr $MAC2 PERMANENT " \
    ip -n "$SNS" neigh show "${CIDR2%/24}" dev flannel.1
  bridge -n "$SNS" fdb show dev flannel.1 | grep "^$MAC2 dst 10.98.0.3 self permanent" >/dev/null ||
    fail "srv: no FDB entry for a2: $(bridge -n "$SNS" fdb show dev flannel.1)"
  echo "ok - srv: FDB entry $MAC2 dst 10.98.0.3"
fi
kill -TERM "$A2_PID" 2>/dev/null || true
k delete node e2e-a2 --wait=false >/dev/null
eventually_eq "srv: a2's route gone" 10 "" route_to "$SNS" "$CIDR2"
eventually_eq "a1: a2's route gone" 10 "" route_to "$A1NS" "$CIDR2"
if [[ $BACKEND == vxlan ]]; then
  eventually_eq "srv: a2's ARP entry gone" 10 "" ip -n "$SNS" neigh show "${CIDR2%/24}" dev flannel.1 nud permanent
  eventually_eq "srv: a2's FDB entry gone" 10 "" sh -c "bridge -n '$SNS' fdb show dev flannel.1 | grep '^$MAC2' || true"
fi
expect_eq "srv: the route to a1 stays" 1 sh -c "ip -n '$SNS' route show '$CIDR1' proto 75 | wc -l"
expect_eq "and the pod on srv is still reached from a1" "kite test image" fetch "http://$WEB_IP/"
