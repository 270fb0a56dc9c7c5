#!/usr/bin/env bash
# Pod-to-pod throughput across nodes (bench/RESULTS.md, "Pod network"; issue 19). Two real nodes
# (kite-server's embedded agent and a kite-agent), each a network namespace with its own
# containerd, linked by a veth pair like two machines on a LAN. For each backend (vxlan, host-gw):
# a pod on each node, then one TCP stream from the pod on the agent's node to the pod on the
# server's node; side by side in the same run, the same transfer between the two namespaces
# directly on their veth (no bridge, no VXLAN, no NAT): the ceiling. Reported as Gbit/s and as
# the ratio pod/veth. When the agent joins: the time from the watch event that carries its
# podCIDR and addresses until the server's node has a route to it. Then the agent's node is deleted: the time until the server's node has no
# route to its podCIDR any more.
# The transfer: iperf3 (Debian's) run inside the pods' network namespaces (nsenter into the
# pod's process), `-t SECS`; without iperf3, busybox nc carrying SIZE MiB from /dev/zero, timed.
# Usage: bench/run_pod_network.sh [--build DIR] [--seconds N] [--rounds N]     (needs root)
set -euo pipefail
BUILD=build
SECS=5
ROUNDS=3
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export KITE_SERVER=$BUILD/bin/kite-server KITE_AGENT=$BUILD/bin/kite-agent KITE_IMAGES=$BUILD/images
source "$HERE/../tests/integration/lib.sh"
source "$HERE/../tests/e2e/lib_node.sh"
require_node_tools
sweep_leftovers
IMAGE=kite.local/busybox:1.35
TOOL=iperf3
command -v iperf3 >/dev/null || TOOL=busybox
command -v busybox >/dev/null || [[ $TOOL == iperf3 ]] || skip "neither iperf3 nor busybox is installed"

# gbits NS_CLIENT NS_SERVER SERVER_IP: one transfer's throughput in Gbit/s. The namespaces are
# paths (/run/netns/… or /proc/PID/ns/net).
gbits() {
  local c=$1 s=$2 ip=$3 pid out
  if [[ $TOOL == iperf3 ]]; then
    nsenter --net="$s" -- iperf3 -s -1 -B "$ip" -p 5201 >/dev/null 2>&1 &
    pid=$!
    # The server may take seconds to listen on a loaded machine: retry for up to 30 s, and never
    # wait on a server no client reached.
    out=""
    for _ in $(seq 1 300); do
      out=$(nsenter --net="$c" -- iperf3 -c "$ip" -p 5201 -t "$SECS" -J 2>/dev/null) && break
      out=""
      sleep 0.1
    done
    [[ -n $out ]] || kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    [[ -n $out ]] || fail "iperf3 never reached $ip"
    python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))' <<<"$out"
  else
    local mib=$((SECS * 200)) t0 t1
    nsenter --net="$s" -- busybox nc -l -p 5201 >/dev/null &
    pid=$!
    sleep 0.5
    t0=$(date +%s.%N)
    nsenter --net="$c" -- sh -c "dd if=/dev/zero bs=1M count=$mib 2>/dev/null | busybox nc -w 5 $ip 5201" || true
    wait "$pid" 2>/dev/null || true
    t1=$(date +%s.%N)
    python3 -c "print('%.2f' % ($mib * 8 * 1048576 / 1e9 / ($t1 - $t0)))"
  fi
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

RESULTS=()
run_backend() {
  local backend=$1 sns ans sd ad kc token
  new_netns "s-$backend" 10.99.0.1
  sns=$REPLY
  new_netns "a-$backend" 10.99.1.1
  ans=$REPLY
  link_netns "$sns" 10.98.0.1 "$ans" 10.98.0.2
  new_node_dir "s-$backend"
  sd=$REPLY
  new_node_dir "a-$backend"
  ad=$REPLY
  kc=$sd/kubeconfig
  k() { in_ns "$sns" "$KUBECTL_BIN" --kubeconfig "$kc" --cache-dir "$TEST_TMP/kc-$backend" "$@"; }
  _spawn "$TEST_TMP/server-$backend.log" nsenter --net="/run/netns/$sns" -- "$KITE_SERVER" --data-dir "$sd" \
    --write-kubeconfig "$kc" --node-name bench-srv --node-ip 10.98.0.1 --tls-san 10.98.0.1 --etcd-listen "" \
    --metrics-listen 127.0.0.1:0 --flannel-backend "$backend"
  local server_pid=$LAST_PID
  wait_until 120 sh -c "[ -s $sd/server/token ]" || fail "no token"
  token=$(cat "$sd/server/token")
  # A node joins: from the first watch event that carries what its route needs (podCIDR, public
  # IP, for vxlan the VTEP MAC) to that route on the other node, polled every 10 ms. kubectl's
  # watch is started first and stamps each event as it arrives.
  local wpid
  (k get nodes -w --output-watch-events \
    -o 'jsonpath={.object.metadata.name} {.object.spec.podCIDR} {.object.metadata.annotations.flannel\.alpha\.coreos\.com/public-ip} {.object.metadata.annotations.flannel\.alpha\.coreos\.com/backend-data}{"\n"}' |
    while IFS= read -r line; do echo "$(date +%s%N) $line"; done >"$TEST_TMP/join-$backend.watch") &
  wpid=$!
  track_bg "$wpid"
  sleep 1
  _spawn "$TEST_TMP/agent-$backend.log" nsenter --net="/run/netns/$ans" -- "$KITE_AGENT" --server https://10.98.0.1:6443 \
    --token "$token" --data-dir "$ad" --node-name bench-agt --node-ip 10.98.0.2 --flannel-backend "$backend"
  local agent_pid=$LAST_PID
  local i tj
  for i in $(seq 1 12000); do
    ip -n "$sns" route show proto 75 | grep -q . && break
    sleep 0.01
  done
  tj=$(date +%s%N)
  ip -n "$sns" route show proto 75 | grep -q . || fail "no route to the agent's podCIDR 120 s after its start ($backend)"
  pkill -P "$wpid" 2>/dev/null || true
  kill "$wpid" 2>/dev/null || true
  local tev
  tev=$(awk -v b="$backend" '$2 == "bench-agt" && $3 != "" && $4 != "" && (b != "vxlan" || $5 ~ /VtepMAC/) {print $1; exit}' "$TEST_TMP/join-$backend.watch")
  [[ -n $tev ]] || fail "no watch event carried the agent's podCIDR and addresses ($backend)"
  node_ready() { k get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep -q True; }
  wait_until 120 node_ready bench-srv || fail "server node not Ready ($backend)"
  wait_until 120 node_ready bench-agt || fail "agent node not Ready ($backend)"
  for p in srv agt; do
    cat <<YAML | k apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: bench-$p}
spec:
  nodeName: bench-$p
  containers: [{name: c, image: $IMAGE, command: ["sleep", "3600"]}]
YAML
  done
  for p in srv agt; do
    wait_until 180 pod_running "bench-$p" || fail "pod bench-$p not Running ($backend)"
  done
  local srv_ip srv_pid agt_pid
  srv_ip=$(k get pod bench-srv -o 'jsonpath={.status.podIP}')
  # The pods' own processes (sleep), found by their containerd's shim: their network namespaces.
  srv_pid=$(pod_pid "$sd" bench-srv)
  agt_pid=$(pod_pid "$ad" bench-agt)
  local r pod veth
  for r in $(seq 1 "$ROUNDS"); do
    veth=$(gbits "/run/netns/$ans" "/run/netns/$sns" 10.98.0.1)
    pod=$(gbits "/proc/$agt_pid/ns/net" "/proc/$srv_pid/ns/net" "$srv_ip")
    echo "$backend round $r: veth $veth Gbit/s, pod to pod $pod Gbit/s"
    echo "$veth $pod" >>"$TEST_TMP/$backend.rounds"
  done
  local mv mp
  mv=$(awk '{print $1}' "$TEST_TMP/$backend.rounds" | median)
  mp=$(awk '{print $2}' "$TEST_TMP/$backend.rounds" | median)
  # A node leaves: from `kubectl delete node` (its own start-up included) until the other node
  # has no route to its podCIDR, polled every 10 ms.
  local cidr t0 tr t1
  cidr=$(k get node bench-agt -o 'jsonpath={.spec.podCIDR}')
  kill -TERM "$agent_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$agent_pid" 2>/dev/null || break; sleep 0.1; done
  ip -n "$sns" route show "$cidr" proto 75 | grep -q . || fail "no route to $cidr before the delete ($backend)"
  t0=$(date +%s%N)
  k delete node bench-agt --wait=false >/dev/null
  tr=$(date +%s%N)
  for i in $(seq 1 3000); do
    ip -n "$sns" route show "$cidr" proto 75 | grep -q . || break
    sleep 0.01
  done
  t1=$(date +%s%N)
  ip -n "$sns" route show "$cidr" proto 75 | grep -q . && fail "route to $cidr still there 30 s after the delete ($backend)"
  RESULTS+=("$backend $mv $mp $(((t1 - t0) / 1000000)) $(((tr - t0) / 1000000)) $(((tj - tev) / 1000000))")
  kill -TERM "$server_pid" 2>/dev/null || true
  for _ in $(seq 1 100); do kill -0 "$agent_pid" 2>/dev/null || kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
}

pod_running() { k get pod "$1" -o 'jsonpath={.status.phase}' | grep -q Running; }

# pod_pid DATA_DIR POD: the PID of the pod's container process (ctr on the node's containerd).
pod_pid() {
  local sock cid
  sock=$(sed -n 's/^ *address *= *"\(.*\.sock\)"$/\1/p' "$1/agent/etc/containerd/config.toml" | head -1)
  cid=$(ctr --address "$sock" -n k8s.io containers ls -q "labels.\"io.kubernetes.pod.name\"==$2" |
    while read -r c; do
      ctr --address "$sock" -n k8s.io containers info "$c" | grep -q '"io.kubernetes.container.name": "c"' && echo "$c"
    done | head -1)
  ctr --address "$sock" -n k8s.io tasks ls | awk -v c="$cid" '$1 == c {print $2}'
}

for b in vxlan host-gw; do run_backend "$b"; done

# The rows of bench/RESULTS.md's table: figure, kite, plain veth, ratio, target, command, commit.
COMMIT=$(git -C "$HERE" rev-parse --short HEAD 2>/dev/null || echo unknown)
CMD="bash bench/run_pod_network.sh --seconds $SECS --rounds $ROUNDS"
echo
echo "pod-to-pod throughput across two nodes, one TCP stream, $TOOL, ${SECS}s, median of $ROUNDS rounds"
echo "| figure | kite | plain veth | kite/veth | target | command | commit |"
echo "|---|---:|---:|---:|---|---|---|"
for r in "${RESULTS[@]}"; do
  read -r b v p ms kms jms <<<"$r"
  echo "| pod to pod across nodes, $b (Gbit/s) | $p | $v | $(python3 -c "print('%.2f' % ($p / $v))") | none set (the ratio is the figure) | \`$CMD\` | $COMMIT |"
  if ((jms < 0)); then jms="$jms ms (the route was there before kubectl's watch printed the event)"; else jms="$jms ms"; fi
  echo "| $b: node joined (the watch event with its podCIDR and addresses) → its route on the other node | $jms | | | within a second (issue 19) | \`$CMD\` | $COMMIT |"
  echo "| $b: node deleted → its route gone on the other node | $ms ms (kubectl's own run $kms ms) | | | within a second (issue 19) | \`$CMD\` | $COMMIT |"
done
