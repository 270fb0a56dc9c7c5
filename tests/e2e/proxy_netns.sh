#!/usr/bin/env bash
# The service proxy's rules with real traffic and no cluster: kite-proxy-sync-once (one full sync
# from a file of Services and EndpointSlices, configured as kite-agent configures its proxy) in
# network namespaces made here, each with its own, empty tables; a python3 http.server as the
# endpoint. Shows:
# - dual-stack (--cluster-cidr 10.42.0.0/16,fd00:42::/56, nftables mode): a dual-stack Service
#   answers on its IPv6 cluster IP through table ip6 kube-proxy, and on its IPv4 one; with an
#   IPv4-only --cluster-cidr there is no ip6 table and the IPv6 cluster IP does not answer;
# - hairpin: a pod reaching its own Service and sent to itself gets an answer when it is this
#   node's endpoint (masqueraded), in iptables mode on both backends and in nftables mode; the
#   same endpoint named on another node gets no hairpin rule (and, here, no answer).
# Every namespace is deleted at the end, even on failure; the host's tables are never touched.
set -euo pipefail
skip() { echo "SKIP: $*" >&2; exit 77; }
fail() { echo "FAIL: $*" >&2; exit 1; }
[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, iptables, nft)"
SYNC=${KITE_PROXY_SYNC_ONCE:-./bin/kite-proxy-sync-once}
[[ -x $SYNC ]] || fail "kite-proxy-sync-once not found ($SYNC)"
for t in ip nft iptables-legacy-restore iptables-nft-restore python3 curl; do
  command -v "$t" >/dev/null || skip "$t is not installed"
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kite-proxy-h.XXXXXX")
NSS=() PIDS=()
cleanup() {
  local rc=$? p ns
  set +e
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  for ns in "${NSS[@]}"; do ip netns delete "$ns" 2>/dev/null; done
  rm -rf "$TMP"
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
echo hello >"$TMP/ok.txt"
in_ns() { local ns=$1; shift; nsenter --net="/run/netns/$ns" -- "$@"; }
new_ns() {  # new_ns NAME: its full name in REPLY
  REPLY=kite-proxy-h-$1-$$
  ip netns add "$REPLY"
  NSS+=("$REPLY")
  ip -n "$REPLY" link set lo up
}
serve() {  # serve NS: an HTTP server on port 8080 (IPv4 and IPv6) serving $TMP
  # nsenter itself (it execs python3), not through a function: $! is then the server's pid.
  nsenter --net="/run/netns/$1" -- python3 -m http.server 8080 --bind :: --directory "$TMP" >/dev/null 2>&1 &
  PIDS+=($!)
  local i
  for i in $(seq 1 50); do
    in_ns "$1" curl -s -m 1 -o /dev/null http://127.0.0.1:8080/ok.txt && return 0
    sleep 0.1
  done
  fail "the http server in $1 did not start"
}
get() {  # get NS URL: the body, or "" when nothing answered
  in_ns "$1" curl -s -g -m 3 "$2" || true
}
# objects FILE SERVICE-JSON SLICE-JSON...: the JSON array kite-proxy-sync-once reads.
objects() {
  local f=$1
  shift
  local IFS=,
  echo "[$*]" >"$f"
}
service() {  # service NAME CLUSTER-IPS (comma separated, first is spec.clusterIP)
  local ips=$2 first=${2%%,*} list fams=""
  list=$(echo "$ips" | sed 's/[^,]*/"&"/g')
  for ip in ${ips//,/ }; do
    [[ $ip == *:* ]] && fams+="${fams:+,}\"IPv6\"" || fams+="${fams:+,}\"IPv4\""
  done
  printf '{"apiVersion":"v1","kind":"Service","metadata":{"name":"%s","namespace":"default"},"spec":{"type":"ClusterIP","clusterIP":"%s","clusterIPs":[%s],"ipFamilies":[%s],"ports":[{"name":"http","port":80,"targetPort":8080,"protocol":"TCP"}]}}' \
    "$1" "$first" "$list" "$fams"
}
slice() {  # slice SERVICE FAMILY ADDRESS NODE
  printf '{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","addressType":"%s","metadata":{"name":"%s-%s","namespace":"default","labels":{"kubernetes.io/service-name":"%s"}},"ports":[{"name":"http","port":8080,"protocol":"TCP"}],"endpoints":[{"addresses":["%s"],"conditions":{"ready":true},"nodeName":"%s"}]}' \
    "$2" "$1" "${2,,}" "$1" "$3" "$4"
}

# --- dual-stack: one node, the endpoint on the node itself (fd00:42::5 and 10.42.0.5)
dual_node() {
  new_ns "$1"
  local ns=$REPLY
  ip -n "$ns" link add node0 type veth peer name node0-peer
  ip -n "$ns" link set node0 up
  ip -n "$ns" link set node0-peer up
  ip -n "$ns" addr add 10.42.0.5/24 dev node0
  ip -n "$ns" -6 addr add fd00:42::5/64 dev node0 nodad
  ip -n "$ns" route add default dev node0
  ip -n "$ns" -6 route add default dev node0
  serve "$ns"
  REPLY=$ns
}
objects "$TMP/dual.json" "$(service web 10.43.0.10,fd00:43::10)" "$(slice web IPv4 10.42.0.5 proxy-node)" \
  "$(slice web IPv6 fd00:42::5 proxy-node)"

dual_node v4only
NS=$REPLY
in_ns "$NS" "$SYNC" --objects "$TMP/dual.json" --mode nftables --cluster-cidr 10.42.0.0/16 --node-name proxy-node >/dev/null
[[ $(get "$NS" http://10.43.0.10/ok.txt) == hello ]] || fail "IPv4-only: the IPv4 cluster IP does not answer"
in_ns "$NS" nft list table ip6 kube-proxy >/dev/null 2>&1 && fail "IPv4-only --cluster-cidr wrote table ip6 kube-proxy"
[[ -z $(get "$NS" 'http://[fd00:43::10]/ok.txt') ]] || fail "IPv4-only: the IPv6 cluster IP answered"
echo "ok - an IPv4-only --cluster-cidr: no ip6 table, the IPv6 cluster IP does not answer"

dual_node dual
NS=$REPLY
in_ns "$NS" "$SYNC" --objects "$TMP/dual.json" --mode nftables --cluster-cidr 10.42.0.0/16,fd00:42::/56 \
  --node-name proxy-node >/dev/null
in_ns "$NS" nft list table ip6 kube-proxy | grep -- 'fd00:43::10 . tcp . 80' >/dev/null ||
  fail "table ip6 kube-proxy has no element for fd00:43::10"
body=$(get "$NS" 'http://[fd00:43::10]/ok.txt')
[[ $body == hello ]] || fail "dual-stack: http://[fd00:43::10]/ gave '$body'"
echo "ok - dual-stack --cluster-cidr: the IPv6 cluster IP answers through table ip6 kube-proxy"
[[ $(get "$NS" http://10.43.0.10/ok.txt) == hello ]] || fail "dual-stack: the IPv4 cluster IP does not answer"
echo "ok - dual-stack: the IPv4 cluster IP answers too"

# --- hairpin: a pod (its own namespace, 10.42.0.5 behind a veth) reaching its own Service
hairpin() {  # hairpin NAME MODE BACKEND ENDPOINT-NODE: the body the pod gets ("" for none)
  local name=$1 mode=$2 backend=$3 epnode=$4
  new_ns "hp-$name-node"
  local node=$REPLY
  new_ns "hp-$name-pod"
  local pod=$REPLY
  ip -n "$node" link add pod-h type veth peer name eth0 netns "$pod"
  ip -n "$node" addr add 10.42.0.1/24 dev pod-h
  ip -n "$node" link set pod-h up
  ip -n "$pod" addr add 10.42.0.5/24 dev eth0
  ip -n "$pod" link set eth0 up
  ip -n "$pod" route add default via 10.42.0.1
  in_ns "$node" sysctl -qw net.ipv4.ip_forward=1
  serve "$pod"
  objects "$TMP/hp.json" "$(service self 10.43.0.20)" "$(slice self IPv4 10.42.0.5 "$epnode")"
  in_ns "$node" "$SYNC" --objects "$TMP/hp.json" --mode "$mode" ${backend:+--backend "$backend"} \
    --node-name proxy-node >/dev/null
  REPLY=$(get "$pod" http://10.43.0.20/ok.txt)
}
for m in iptables/legacy iptables/nft nftables; do
  mode=${m%%/*} b=""
  [[ $m == */* ]] && b=${m#*/}
  hairpin "${m//\//-}-l" "$mode" "$b" proxy-node
  [[ $REPLY == hello ]] || fail "$m: a pod reaching its own Service (a local endpoint) got '$REPLY'"
  echo "ok - $m: hairpin to a local endpoint is masqueraded and answers"
  hairpin "${m//\//-}-r" "$mode" "$b" other-node
  [[ -z $REPLY ]] || fail "$m: the endpoint named on another node was masqueraded for hairpin ('$REPLY')"
  echo "ok - $m: no hairpin masquerade for an endpoint of another node"
done
