#!/usr/bin/env bash
# Joining nodes by token (issue 17), checked as a user would, with kite-agent, curl and kubectl:
# kite-server writes <data-dir>/server/token (0600, K10<sha256 of /cacerts>::server:<secret>);
# its embedded agent registers the server's own node (control-plane, NotReady with the runtime's
# reason in the Ready condition: here a CRI socket that does not exist, so nothing runs on the
# host's network; tests/e2e runs real nodes in namespaces) and --disable-agent does not;
# a kite-agent on kite-hollow's fake runtime (KITE_AGENT_RUNTIME=hollow) joins with the token and
# its Node goes Ready with this machine's capacity, nodeInfo and labels, acting as
# system:node:<name> in system:nodes; a wrong secret is refused (401, the agent exits saying so);
# the node gets a /24 of --cluster-cidr and runs a pod bound to it;
# a token pinning another CA is refused before any credential is sent; another host (data dir)
# with the same node name is refused (403, node password); the same agent restarts and re-joins,
# with its saved certificates and, once they are gone, with its node password; the agent takes
# the server's cluster settings (GET /v1-kite/config: --service-cidr's DNS address, the cluster
# domain and CIDR, the flannel backend) for what its own flags leave unset.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"
source "$HERE/kubectl/lib_kubectl.sh"
KITE_AGENT=${KITE_AGENT:-./bin/kite-agent}
require_tool "$KITE_AGENT"
require_tool "${CURL:-curl}"

SERVER_NODE=kite-srv-$RANDOM
KITE_EMBEDDED_AGENT=1
KITE_ARGS=(--node-name "$SERVER_NODE" --disable-scheduler --container-runtime-endpoint "unix://$TEST_TMP/no-such-cri.sock"
  --disable-kube-proxy --kubelet-port 0 --service-cidr 10.96.0.0/16 --cluster-domain example.internal)  # the host's network: its iptables and port 10250 are not the test's
start_kite_api
DATA=$TEST_TMP/kite-data
TOKEN_FILE=$DATA/server/token
URL=https://127.0.0.1:$API_PORT

# --- the token --------------------------------------------------------------------------------
expect_exact "token file is 0600" "600" -- stat -c %a "$TOKEN_FILE"
expect "token is K10<sha256>::server:<secret>" '^K10[0-9a-f]{64}::server:[0-9a-f]{32}$' -- cat "$TOKEN_FILE"
expect_exact "node-token beside it, the same (k3s's name for the agents' token)" "" -- diff "$TOKEN_FILE" "$DATA/server/node-token"
TOKEN=$(cat "$TOKEN_FILE")
HASH=${TOKEN:3:64}
SECRET=${TOKEN##*:}
expect_exact "GET /cacerts (anonymous) hashes to the token's hash" "$HASH" -- \
  bash -c "'${CURL:-curl}' -sSk --max-time 10 '$URL/cacerts' | sha256sum | cut -d' ' -f1"
expect "a certificate request without the token is 401" '^401$' -- \
  "${CURL:-curl}" -sSk --max-time 10 -o /dev/null -w '%{http_code}' -H "Kite-Node-Name: x" -H "Kite-Node-Password: y" \
  "$URL/v1-kite/client-kubelet.crt"

# --- the server's own node ----------------------------------------------------------------------
eventually "embedded agent registers the server's node as control-plane" "^$SERVER_NODE .*control-plane" 30 -- \
  k get nodes --no-headers
expect "the server's node says why it is NotReady" 'False KubeletNotReady container runtime not ready: .*does not answer' -- \
  k get node "$SERVER_NODE" -o jsonpath='{range .status.conditions[?(@.type=="Ready")]}{.status} {.reason} {.message}{end}'
expect_exact "the server's node has k3s's role labels" "true true" -- \
  k get node "$SERVER_NODE" -o jsonpath='{.metadata.labels.node-role\.kubernetes\.io/control-plane} {.metadata.labels.node-role\.kubernetes\.io/master}'
expect "kite-server still serves the API" '^ok$' -- k get --raw /readyz

# start_agent NAME DATA_DIR NODE_NAME TOKEN [FLAGS...] — kite-agent on the fake runtime, in the background.
start_agent() {
  local name=$1 dir=$2 node=$3 token=$4
  shift 4
  KITE_AGENT_RUNTIME=hollow _spawn "$TEST_TMP/$name.log" "$KITE_AGENT" --server "$URL" --token "$token" \
    --data-dir "$dir" --node-name "$node" --node-ip 127.0.0.1 --port 0 "$@"
  AGENT_PID=$LAST_PID
}
# run_agent DATA_DIR NODE_NAME TOKEN — kite-agent expected to end by itself; prints its exit code and log.
run_agent() {
  local rc=0
  KITE_AGENT_RUNTIME=hollow timeout 60 "$KITE_AGENT" --server "$URL" --token "$3" --data-dir "$1" --node-name "$2" \
    --node-ip 127.0.0.1 --port 0 </dev/null >"$TEST_TMP/run-agent.log" 2>&1 || rc=$?
  echo "exit $rc: $(tr '\n' ' ' <"$TEST_TMP/run-agent.log")"
}

# --- refusals -----------------------------------------------------------------------------------
NODE=kite-agent-$RANDOM
expect "a wrong secret: refused (401), the agent exits saying so" 'exit 1: .*refused the join token: Unauthorized' -- \
  run_agent "$TEST_TMP/wrong-secret" "$NODE" "K10$HASH::server:not-the-secret"
expect_fail "a wrong secret: no certificate" 'No such file' -- ls "$TEST_TMP/wrong-secret/agent/client-kubelet.crt"
OTHER_HASH=$(printf 'another cluster' | sha256sum | cut -d' ' -f1)
expect "a token pinning another CA: refused, naming both hashes" \
  "exit 1: .*hashes to ${HASH:0:12}… but the join token pins ${OTHER_HASH:0:12}…" -- \
  run_agent "$TEST_TMP/wrong-ca" "$NODE" "K10$OTHER_HASH::server:$SECRET"
# The node password is made only after the CA check, and is the first credential the agent sends.
expect_fail "a token pinning another CA: nothing was sent (no node password made)" 'No such file' -- \
  ls "$TEST_TMP/wrong-ca/agent/node-password"
expect_fail "a token pinning another CA: the server never heard of the node" 'NotFound' -- \
  k get secret -n kube-system "$NODE.node-password.kite"

# --- a node joins ---------------------------------------------------------------------------------
start_agent agent1 "$TEST_TMP/agent1" "$NODE" "$TOKEN" --node-label tier=edge --node-taint dedicated=edge:NoSchedule \
  --kube-reserved cpu=100m,memory=256Mi --cluster-dns 10.96.0.53
eventually "the agent's node becomes Ready" "^$NODE +Ready " 60 -- k get nodes --no-headers
expect "the agent takes the server's settings its flags leave unset (not --cluster-dns, which it was given)" \
  'from the server.s settings: --cluster-cidr=10\.42\.0\.0/16, --cluster-domain=example\.internal, --flannel-backend=vxlan$' -- \
  grep -o 'from the server.s settings: .*' "$TEST_TMP/agent1.log"
expect "and saves them for a start while the server is down" '"clusterDNS": "10\.96\.0\.10"' -- cat "$TEST_TMP/agent1/agent/cluster-settings.json"
AGENT_KC=$TEST_TMP/agent1/agent/kubelet.kubeconfig
expect "the agent acts as system:node:<name> in system:nodes" "system:node:$NODE system:nodes" -- \
  timeout 60 "$KUBECTL_BIN" --kubeconfig "$AGENT_KC" --cache-dir "$TEST_TMP/kubectl-cache-agent" auth whoami \
  -o jsonpath='{.status.userInfo.username} {.status.userInfo.groups[0]}' 
expect_exact "its keys, kubeconfig and node password are 0600" "600 600 600 600" -- bash -c \
  "cd '$TEST_TMP/agent1/agent' && stat -c %a client-kubelet.key serving-kubelet.key kubelet.kubeconfig node-password | paste -sd' '"
expect "the node password is stored hashed" 'pbkdf2-sha256' -- \
  bash -c "timeout 60 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' --cache-dir '$TEST_TMP/kubectl-cache' get secret -n kube-system '$NODE.node-password.kite' -o jsonpath='{.data.hash}' | base64 -d"
# kib QUANTITY — a memory quantity in KiB (the canonical form may use Ki, Mi or Gi).
kib() {
  local q=$1
  case $q in
    *Ki) echo "${q%Ki}" ;;
    *Mi) echo "$((${q%Mi} * 1024))" ;;
    *Gi) echo "$((${q%Gi} * 1024 * 1024))" ;;
    *) echo "$((q / 1024))" ;;
  esac
}
node_field() { k get node "$NODE" -o jsonpath="$1"; }
CPUS=$(nproc)
MEM_KI=$(awk '/^MemTotal:/ {print $2}' /proc/meminfo)
expect_exact "capacity: this machine's CPUs and --max-pods" "$CPUS 110" -- \
  k get node "$NODE" -o jsonpath='{.status.capacity.cpu} {.status.capacity.pods}'
expect_exact "capacity: this machine's MemTotal" "$MEM_KI" -- bash -c "$(declare -f kib); kib \$1" _ \
  "$(node_field '{.status.capacity.memory}')"
expect_exact "allocatable cpu: minus --kube-reserved" "$((CPUS * 1000 - 100))m" -- node_field '{.status.allocatable.cpu}'
expect_exact "allocatable memory: minus --kube-reserved and the 100Mi eviction threshold" \
  "$((MEM_KI - 100 * 1024 - 256 * 1024))" -- bash -c "$(declare -f kib); kib \$1" _ "$(node_field '{.status.allocatable.memory}')"
PRETTY=$(. /etc/os-release && echo "$PRETTY_NAME")
expect_exact "nodeInfo: kernel, OS image, OS, kubelet and runtime versions, boot id" \
  "$(uname -r)|$PRETTY|linux|v1.32.4+kite|hollow://1.0|$(cat /proc/sys/kernel/random/boot_id)" -- \
  node_field '{.status.nodeInfo.kernelVersion}|{.status.nodeInfo.osImage}|{.status.nodeInfo.operatingSystem}|{.status.nodeInfo.kubeletVersion}|{.status.nodeInfo.containerRuntimeVersion}|{.status.nodeInfo.bootID}'
if [[ -s /etc/machine-id ]]; then
  expect_exact "nodeInfo: machineID from /etc/machine-id" "$(cat /etc/machine-id)" -- node_field '{.status.nodeInfo.machineID}'
fi
expect_exact "addresses: --node-ip and the hostname" "InternalIP=127.0.0.1 Hostname=$NODE" -- \
  k get node "$NODE" -o jsonpath='{range .status.addresses[*]}{.type}={.address} {end}'
expect_exact "standard labels and --node-label" "$NODE linux kite edge" -- \
  k get node "$NODE" -o jsonpath='{.metadata.labels.kubernetes\.io/hostname} {.metadata.labels.kubernetes\.io/os} {.metadata.labels.node\.kubernetes\.io/instance-type} {.metadata.labels.tier}'
expect "--node-taint" 'dedicated=edge:NoSchedule' -- \
  k get node "$NODE" -o jsonpath='{range .spec.taints[*]}{.key}={.value}:{.effect} {end}'
# What this machine measures against upstream's hard eviction thresholds (memory.available <
# 100Mi, nodefs.available < 10%, free PIDs < 10% of pid_max), as the agent measures it.
tf() { if (($1)); then echo True; else echo False; fi; }
MEM_AVAIL_KI=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo)
read -r FS_SIZE FS_AVAIL < <(stat -f -c '%b %a' "$TEST_TMP/agent1/agent")
PID_MAX=$(cat /proc/sys/kernel/pid_max)
TASKS=$(cut -d' ' -f4 /proc/loadavg | cut -d/ -f2)
WANT_PRESSURE="$(tf "MEM_AVAIL_KI < 100 * 1024") $(tf "FS_AVAIL * 10 < FS_SIZE") $(tf "(PID_MAX - TASKS) * 10 < PID_MAX")"
expect_exact "pressure conditions from measurements (memory, disk, PIDs)" "$WANT_PRESSURE" -- \
  k get node "$NODE" -o jsonpath='{range .status.conditions[?(@.type!="Ready")]}{.status} {end}'
expect "its Lease is renewed in kube-node-lease" "$NODE" -- k get lease -n kube-node-lease "$NODE" -o name
eventually "the server gives it a /24 of --cluster-cidr (nodeipam)" '^10\.42\.[0-9]+\.0/24$' 30 -- \
  k get node "$NODE" -o jsonpath='{.spec.podCIDR}'
NODE_CIDR=$(k get node "$NODE" -o jsonpath='{.spec.podCIDR}')
k run on-agent --image=busybox --restart=Never --overrides="{\"spec\":{\"nodeName\":\"$NODE\"}}" >/dev/null
eventually "a pod bound to it runs, with an IP of its pod CIDR (kubelet writes as the node)" \
  "^Running ${NODE_CIDR%.0/24}\.[0-9]+$" 60 -- k get pod on-agent -o jsonpath='{.status.phase} {.status.podIP}'

# --- another host, the same name ----------------------------------------------------------------------
expect "another host with the same node name: refused (403, node password)" \
  "exit 1: .*refused node $NODE: node \"$NODE\" is registered with another node password" -- \
  run_agent "$TEST_TMP/impostor" "$NODE" "$TOKEN"

expect "an agent cannot take the server's own node name" \
  "exit 1: .*refused node $SERVER_NODE: node \"$SERVER_NODE\" is registered with another node password" -- \
  run_agent "$TEST_TMP/impostor2" "$SERVER_NODE" "$TOKEN"

# --- the same agent restarts --------------------------------------------------------------------------
kill -TERM "$AGENT_PID"
expect "the agent stops on SIGTERM" 'stopped' -- bash -c "for i in \$(seq 1 100); do kill -0 $AGENT_PID 2>/dev/null || { echo stopped; exit 0; }; sleep 0.1; done; echo running"
start_agent agent1b "$TEST_TMP/agent1" "$NODE" "$TOKEN"
eventually "a restart re-joins with the saved certificates" 'certificates from an earlier join' 30 -- cat "$TEST_TMP/agent1b.log"
kill -TERM "$AGENT_PID"
for i in $(seq 1 100); do kill -0 "$AGENT_PID" 2>/dev/null || break; sleep 0.1; done
rm "$TEST_TMP/agent1/agent/client-kubelet.crt"
start_agent agent1c "$TEST_TMP/agent1" "$NODE" "$TOKEN"
eventually "without its certificates the same host joins again (same node password)" 'has its certificates from' 30 -- \
  cat "$TEST_TMP/agent1c.log"
eventually "and its node is Ready" "^$NODE +Ready " 60 -- k get nodes --no-headers

# --- --disable-agent ------------------------------------------------------------------------------------
KITE_EMBEDDED_AGENT=
KITE_ARGS=(--disable-scheduler)
start_kite_api second
expect_exact "with --disable-agent the server registers no node" "" -- k get nodes -o jsonpath='{.items[*].metadata.name}' 
finish
