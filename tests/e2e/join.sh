#!/usr/bin/env bash
# Two real nodes: kite-server (its embedded agent) in one network namespace and a kite-agent in
# another, linked like two machines on a LAN, each with its own data dir and containerd. Shows:
# the agent joins with the server's token and its node becomes Ready with its own podCIDR; a pod
# bound to it runs there with an IP from that podCIDR, and exec and logs reach it; a token pinning another CA is refused
# before anything is sent; `kubectl drain` of the agent's node moves a Deployment's pods to the
# server's node; restarting the agent leaves its running containers alone; with the server down the
# joined node's pods keep running, and the agent catches up when it is back.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
require_tool "$KITE_AGENT"
sweep_leftovers

new_server_and_agent_nodes
KC=$TEST_TMP/kubeconfig
IMAGE=kite.local/busybox:1.35
k() { kubectl_in "$SNS" "$KC" "$@"; }
ready() { k get node "$1" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'; }

start_server() {
  _spawn "$TEST_TMP/server.log" nsenter --net="/run/netns/$SNS" -- "$KITE_SERVER" --data-dir "$SD" --write-kubeconfig "$KC" \
    --node-name e2e-server --node-ip 10.98.0.1 --tls-san 10.98.0.1 --etcd-listen "" --metrics-listen 127.0.0.1:0
  SERVER_PID=$LAST_PID
}
start_server
eventually_eq "server node Ready" 90 True ready e2e-server
TOKEN=$(cat "$SD/server/token")

# A token that pins another CA: refused before any credential is sent.
BAD="K10$(printf '%064d' 0)::server:${TOKEN##*:}"
rc=0
out=$(in_ns "$ANS" timeout 60 "$KITE_AGENT" --server https://10.98.0.1:6443 --token "$BAD" --data-dir "$TEST_TMP/bad-agent" \
  --node-name e2e-bad 2>&1) || rc=$?
[[ $rc -ne 0 && $out == *"CA"* ]] || fail "a token with another CA hash was not refused: rc $rc, $out"
echo "ok - a token pinning another CA is refused"

_spawn "$TEST_TMP/agent.log" nsenter --net="/run/netns/$ANS" -- "$KITE_AGENT" --server https://10.98.0.1:6443 \
  --token "$TOKEN" --data-dir "$AD" --node-name e2e-agent --node-ip 10.98.0.2
AGENT_PID=$LAST_PID
eventually_eq "joined node Ready" 120 True ready e2e-agent
CIDR=$(k get node e2e-agent -o 'jsonpath={.spec.podCIDR}')
[[ $CIDR == 10.42.*.0/24 && $CIDR != "$(k get node e2e-server -o 'jsonpath={.spec.podCIDR}')" ]] ||
  fail "joined node's podCIDR $CIDR"
echo "ok - joined node has its own podCIDR $CIDR"

# A pod bound to the joined node runs there, with an IP from its podCIDR, answering on it.
cat >"$TEST_TMP/on-agent.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: on-agent}
spec:
  nodeName: e2e-agent
  containers: [{name: c, image: $IMAGE}]
YAML
k apply -f "$TEST_TMP/on-agent.yaml" >/dev/null
eventually_eq "pod on the joined node Running" 90 Running k get pod on-agent -o 'jsonpath={.status.phase}'
IP=$(k get pod on-agent -o 'jsonpath={.status.podIP}')
[[ $IP == "${CIDR%.0/24}".* ]] || fail "pod IP $IP not in $CIDR"
in_ns "$ANS" curl -s -m 5 "http://$IP/" | grep "kite test image" >/dev/null || fail "the pod on the joined node does not answer"
echo "ok - pod on the joined node has IP $IP and answers"

# exec and logs of a pod on the joined node go over HTTPS to its kubelet (the server's own node
# is reached in process, so this is where that hop is shown): the WebSocket translated to SPDY,
# SPDY relayed, and a log read.
[[ $(k exec on-agent -- echo remote-exec) == remote-exec ]] || fail "exec (WebSocket) on the joined node"
[[ $(KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false k exec on-agent -- echo remote-spdy) == remote-spdy ]] ||
  fail "exec (SPDY) on the joined node"
k logs on-agent >/dev/null || fail "logs of the pod on the joined node"
echo "ok - exec (WebSocket and SPDY) and logs reach the joined node's kubelet over HTTPS"

# Restarting the agent leaves its running containers alone.
CID=$(k get pod on-agent -o 'jsonpath={.status.containerStatuses[0].containerID}')
kill -TERM "$AGENT_PID"
for _ in $(seq 1 100); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
_spawn "$TEST_TMP/agent2.log" nsenter --net="/run/netns/$ANS" -- "$KITE_AGENT" --server https://10.98.0.1:6443 \
  --token "$TOKEN" --data-dir "$AD" --node-name e2e-agent --node-ip 10.98.0.2
eventually_eq "joined node Ready after an agent restart" 90 True ready e2e-agent
eventually_eq "the pod still Running" 30 Running k get pod on-agent -o 'jsonpath={.status.phase}'
[[ $(k get pod on-agent -o 'jsonpath={.status.containerStatuses[0].containerID}') == "$CID" &&
   $(k get pod on-agent -o 'jsonpath={.status.containerStatuses[0].restartCount}') == 0 ]] ||
  fail "the agent's restart changed the container"
echo "ok - restarting the agent left its container alone"

# The server goes away: the joined node's pods keep running; when it is back, the agent catches up.
kill -TERM "$SERVER_PID"
for _ in $(seq 1 600); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done  # a pod in its grace period holds the stop
sleep 5
in_ns "$ANS" curl -s -m 5 "http://$IP/" | grep "kite test image" >/dev/null || fail "the pod stopped answering without the server"
echo "ok - with the server down, the pod on the joined node still answers"
start_server
eventually_eq "server back: joined node Ready" 120 True ready e2e-agent
eventually_eq "server back: the pod still Running, same container" 60 "Running $CID" \
  k get pod on-agent -o 'jsonpath={.status.phase} {.status.containerStatuses[0].containerID}'

# Drain: a Deployment's pods on the joined node move to the server's node.
k create deployment spread --image="$IMAGE" --replicas=4 >/dev/null
eventually_eq "deployment 4/4 ready" 120 4 k get deployment spread -o 'jsonpath={.status.readyReplicas}'
k drain e2e-agent --ignore-daemonsets --delete-emptydir-data --force --timeout=120s >/dev/null
eventually_eq "after drain: 4/4 ready again" 120 4 k get deployment spread -o 'jsonpath={.status.readyReplicas}'
eventually_eq "after drain: no pod left on the joined node" 60 "" \
  k get pods --field-selector spec.nodeName=e2e-agent -o 'jsonpath={.items[*].metadata.name}'
expect_unsched=$(k get node e2e-agent -o 'jsonpath={.spec.unschedulable}')
[[ $expect_unsched == true ]] || fail "drained node not cordoned"
echo "ok - kubectl drain moved the pods off the joined node"
