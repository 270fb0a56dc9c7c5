# Shared helpers for the end-to-end scripts (sourced after ../integration/lib.sh): real nodes on
# this machine, each a network namespace with its own kite-server or kite-agent, data dir and
# containerd. Everything a node makes (bridge, veths, iptables rules, pod network namespaces)
# stays inside its namespace; the processes, mounts and /run/kite/<id> state it leaves on the
# host are swept when the test ends, even when it fails, and at the next start if a run was
# killed. Nothing touches the host's own interfaces, routes or rules.
#
# Needs root, containerd, runc, the CNI plugins and the image archives (build/images/); a
# machine without them skips (exit 77) with the reason.

KITE_AGENT=${KITE_AGENT:-./bin/kite-agent}
KITE_IMAGES=${KITE_IMAGES:-../../images}
KUBECTL_BIN=${KUBECTL:-kubectl}
E2E_PREFIX=kite-e2e
_NETNS=()
_NODE_DIRS=()

skip() {
  echo "SKIP: $*" >&2
  exit 77
}

require_node_tools() {
  [[ $(id -u) -eq 0 ]] || skip "needs root (containerd, runc, network namespaces)"
  local t
  for t in containerd runc ctr ip iptables; do command -v "$t" >/dev/null || skip "$t is not installed"; done
  [[ -x /usr/lib/cni/bridge && -x /usr/lib/cni/host-local && -x /usr/lib/cni/portmap ]] ||
    skip "the CNI plugins (containernetworking-plugins) are not in /usr/lib/cni"
  [[ -f $KITE_IMAGES/pause.tar && -f $KITE_IMAGES/busybox.tar ]] ||
    skip "image archives missing in $KITE_IMAGES (the kite-images target; busybox needs busybox-static)"
}

# /run/kite/<id> of a data dir: the state dir its containerd config names.
_run_dir() {
  local cfg=$1/agent/etc/containerd/config.toml
  [[ -f $cfg ]] || return 0
  sed -n 's/^state *= *"\(.*\)\/containerd"$/\1/p' "$cfg" | head -1
}

# sweep_node_dir DIR: kills what a node of DIR left running (its kite, containerd, the shims
# and their containers), unmounts what it mounted, removes DIR and its /run/kite state.
sweep_node_dir() {
  local d=$1 run pid child
  run=$(_run_dir "$d")
  for pid in $(pgrep -f -- "$d/" || true) ${run:+$(pgrep -f -- "$run/" || true)}; do
    # A shim's children are the containers: they go first, or they would be orphaned.
    for child in $(pgrep -P "$pid" || true); do kill -KILL "$child" 2>/dev/null || true; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  local m
  for m in $(awk '{print $5}' /proc/self/mountinfo | grep -E "^($d|${run:-/nonexistent})(/|$)" | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  # The pods' log directories (the kubelet's /var/log/pods/<ns>_<name>_<uid>) of the pods this
  # node still had: their uids are the kubelet's pod dirs.
  local p
  for p in "$d"/agent/kubelet/pods/*/; do
    [[ -d $p ]] || continue
    p=${p%/}
    rm -rf /var/log/pods/*_"${p##*/}"
  done
  rm -rf "$d" ${run:+"$run"}
}

# At start: what killed runs of this suite left behind (owner process gone).
sweep_leftovers() {
  local d owner ns
  for d in "${TMPDIR:-/tmp}"/$E2E_PREFIX.*; do
    [[ -d $d ]] || continue
    owner=$(cat "$d/owner.pid" 2>/dev/null || echo 0)
    if [[ $owner -gt 0 ]] && kill -0 "$owner" 2>/dev/null; then continue; fi
    sweep_node_dir "$d"
  done
  for ns in $(ip netns list | awk '{print $1}' | grep "^$E2E_PREFIX-" || true); do
    owner=${ns##*-}
    kill -0 "$owner" 2>/dev/null || ip netns delete "$ns" 2>/dev/null || true
  done
}

_node_cleanup() {
  local d ns
  for d in "${_NODE_DIRS[@]}"; do sweep_node_dir "$d"; done
  for ns in "${_NETNS[@]}"; do ip netns delete "$ns" 2>/dev/null || true; done
}

# new_netns NAME [ADDRESS]: a network namespace with its loopback up and, as the node's own
# address, an interface node0 with ADDRESS/24 (default 10.99.0.1) and the default route on it;
# its name in REPLY. (Not through $(...): the clean-up list must be this shell's.)
new_netns() {
  local ns=$E2E_PREFIX-$1-$$ addr=${2:-10.99.0.1}
  ip netns add "$ns"
  _NETNS+=("$ns")
  ip -n "$ns" link set lo up
  # A veth pair with both ends inside (the dummy driver is not always there).
  ip -n "$ns" link add node0 type veth peer name node0-peer
  ip -n "$ns" addr add "$addr/24" dev node0
  ip -n "$ns" link set node0 up
  ip -n "$ns" link set node0-peer up
  ip -n "$ns" route add default dev node0
  REPLY=$ns
}

# link_netns NS1 ADDR1 NS2 ADDR2: a veth pair between two namespaces (node1 in each), ADDRn/24
# on each end: the two nodes' own link, as two machines on one LAN.
link_netns() {
  local a=$1 addr_a=$2 b=$3 addr_b=$4
  ip -n "$a" link add node1 type veth peer name node1 netns "$b"
  ip -n "$a" addr add "$addr_a/24" dev node1
  ip -n "$b" addr add "$addr_b/24" dev node1
  ip -n "$a" link set node1 up
  ip -n "$b" link set node1 up
}

# one_node NAME: the set-up of a test on one node (kite-server with its embedded agent): its
# namespace NS (node address 10.99.0.1) and data dir D, NODE=kite-e2e-NAME, IMAGE (the busybox
# test image), KC (the kubeconfig start_node_server writes), k (kubectl in NS) and jp (k get).
# The server is the caller's to start (start_node_server, with its flags).
one_node() {
  new_netns "$1"
  NS=$REPLY
  new_node_dir "$1"
  D=$REPLY
  NODE=kite-e2e-$1
  IMAGE=kite.local/busybox:1.35
  KC=$TEST_TMP/kubeconfig
  k() { kubectl_in "$NS" "$KC" "$@"; }
  jp() { k get "$@"; }
}

# new_node_dir NAME: a data dir swept at the end, in REPLY; the image archives are placed in its
# agent/images/ so the node runs pods with no registry.
new_node_dir() {
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/$E2E_PREFIX.$1.XXXXXX")
  echo $$ >"$d/owner.pid"
  mkdir -p "$d/agent/images"
  cp "$KITE_IMAGES/pause.tar" "$KITE_IMAGES/busybox.tar" "$d/agent/images/"
  # The add-ons' images, when this build made them (kite-server deploys kite-dns, kite-ingress).
  [[ -f $KITE_IMAGES/kite-dns.tar ]] && cp "$KITE_IMAGES/kite-dns.tar" "$d/agent/images/"
  [[ -f $KITE_IMAGES/kite-ingress.tar ]] && cp "$KITE_IMAGES/kite-ingress.tar" "$d/agent/images/"
  [[ -f $KITE_IMAGES/local-path-helper.tar ]] && cp "$KITE_IMAGES/local-path-helper.tar" "$d/agent/images/"
  _NODE_DIRS+=("$d")
  REPLY=$d
}

# in_ns NS CMD...: runs CMD inside the network namespace. nsenter, not `ip netns exec`: that
# one also remounts /sys, which hides the cgroup filesystems containerd needs.
in_ns() {
  local ns=$1
  shift
  nsenter --net="/run/netns/$ns" -- "$@"
}

# wait_until SECONDS CMD...: until CMD succeeds (quietly); false after SECONDS.
wait_until() {
  local secs=$1
  shift
  local deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.3
  done
  return 1
}

# kubectl_in NS KUBECONFIG ARGS...: the real kubectl inside a node's namespace, with this run's own cache.
kubectl_in() {
  local ns=$1 kubeconfig=$2
  shift 2
  in_ns "$ns" "$KUBECTL_BIN" --kubeconfig "$kubeconfig" --cache-dir "$TEST_TMP/kcache" --request-timeout 20s "$@"
}

# Assertions that print "ok - WHAT" or fail with what was seen.
expect_eq() {  # expect_eq WHAT WANT CMD...
  local what=$1 want=$2 got
  shift 2
  got=$("$@" 2>&1) || true
  [[ $got == "$want" ]] || fail "$what: wanted '$want', got '$got'"
  echo "ok - $what"
}
eventually_eq() {  # eventually_eq WHAT SECONDS WANT CMD...
  local what=$1 secs=$2 want=$3 got="" deadline
  shift 3
  deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    got=$("$@" 2>&1) || true
    if [[ $got == "$want" ]]; then
      echo "ok - $what"
      return 0
    fi
    sleep 0.5
  done
  fail "$what: wanted '$want' within ${secs}s, last got '$got'"
}
eventually() {  # eventually WHAT SECONDS CMD...: until CMD succeeds
  local what=$1 secs=$2
  shift 2
  wait_until "$secs" "$@" || fail "$what: not within ${secs}s"
  echo "ok - $what"
}

# The EXIT trap: stop the servers and agents gracefully first (lib.sh's _cleanup sends SIGTERM),
# then sweep the nodes' leftovers and namespaces, then lib.sh's own clean-up and exit code.
_e2e_cleanup() {
  local rc=$? pid
  set +e
  for pid in "${_SERVER_PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
  for pid in "${_SERVER_PIDS[@]}"; do
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  done
  if [[ $rc -ne 0 ]]; then
    local d
    for d in "${_NODE_DIRS[@]}"; do
      [[ -f $d/agent/containerd/containerd.log ]] || continue
      echo "----- last lines of $d/agent/containerd/containerd.log -----" >&2
      tail -n 20 "$d/agent/containerd/containerd.log" >&2
    done
  fi
  _node_cleanup
  (exit $rc)
  _cleanup
}
trap _e2e_cleanup EXIT

# lan_netns NAME: a namespace holding a bridge lan0 (10.98.0.254/24): the LAN several nodes share
# (join_lan), which also stands for the world outside the cluster; its name in REPLY.
lan_netns() {
  local ns=$E2E_PREFIX-$1-$$
  ip netns add "$ns"
  _NETNS+=("$ns")
  ip -n "$ns" link set lo up
  ip -n "$ns" link add lan0 type bridge
  ip -n "$ns" addr add 10.98.0.254/24 dev lan0
  ip -n "$ns" link set lan0 up
  REPLY=$ns
}

# join_lan LAN NS ADDR: NS's interface node1 (ADDR/24) on LAN's bridge, as a machine's cable.
join_lan() {
  local lan=$1 ns=$2 addr=$3 port
  _LAN_PORTS=$((${_LAN_PORTS:-0} + 1))
  port=p$$-$_LAN_PORTS
  ip -n "$ns" link add node1 type veth peer name "$port" netns "$lan"
  ip -n "$lan" link set "$port" master lan0
  ip -n "$lan" link set "$port" up
  ip -n "$ns" addr add "$addr/24" dev node1
  ip -n "$ns" link set node1 up
}

# web_deployment IMAGE [NODE]: the Deployment "web" of the Service tests, printed as YAML: two
# busybox httpd pods that serve their hostname, with a readiness probe on /ready.html that
# /cgi-bin/unready makes fail; pinned to NODE's hostname when given.
web_deployment() {
  local pin=""
  [[ -n ${2:-} ]] && pin="      nodeSelector: {kubernetes.io/hostname: $2}"
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
$pin
      containers:
      - name: httpd
        image: $1
        command:
        - sh
        - -c
        - |
          mkdir -p /var/www/cgi-bin
          hostname > /var/www/index.html
          echo ok > /var/www/ready.html
          printf '#!/bin/sh\nrm -f /var/www/ready.html\necho Content-Type: text/plain\necho\necho unready\n' > /var/www/cgi-bin/unready
          chmod +x /var/www/cgi-bin/unready
          exec httpd -f -p 80 -h /var/www
        readinessProbe: {httpGet: {path: /ready.html, port: 80}, periodSeconds: 1, failureThreshold: 1}
YAML
}

# start_node_server [OPTIONS] ARGS... — kite-server (with its embedded agent) in network namespace
# $NS on data dir $D as node $NODE, its admin kubeconfig at $KC, logging to $TEST_TMP/kite.log;
# extra flags (ARGS) after the defaults. Sets SERVER_PID (and LAST_PID).
# OPTIONS, before ARGS: --log FILE (log there instead), --env NAME=VALUE (in the server's
# environment; repeatable), --default-metrics-listen (no --metrics-listen 127.0.0.1:0: the
# server's default address, for a test that scrapes it).
start_node_server() {
  local log="$TEST_TMP/kite.log" metrics=(--metrics-listen 127.0.0.1:0) env=()
  while (($#)); do
    case $1 in
      --log) log=$2; shift 2 ;;
      --env) env+=("$2"); shift 2 ;;
      --default-metrics-listen) metrics=(); shift ;;
      *) break ;;
    esac
  done
  local prefix=()
  ((${#env[@]})) && prefix=(env "${env[@]}")
  _spawn "$log" "${prefix[@]}" nsenter --net="/run/netns/$NS" -- "$KITE_SERVER" --data-dir "$D" --write-kubeconfig "$KC" \
    --node-name "$NODE" --etcd-listen "" "${metrics[@]}" "$@"
  SERVER_PID=$LAST_PID
}

# new_server_and_agent_in_one_ns NAME: one network namespace NAME (its name in NS) holding
# kite-server without its embedded agent (--disable-agent) on data dir SD, its admin kubeconfig
# at KC, logging to $TEST_TMP/server.log, and a data dir AD for kite-agents joined to it
# (start_ns_agent). Waits for the join token (TOKEN). Sets SERVER_PID. The benchmarks' node:
# the agent apart from the server, so each is measured alone.
new_server_and_agent_in_one_ns() {
  new_netns "$1"
  NS=$REPLY
  new_node_dir server
  SD=$REPLY
  new_node_dir agent
  AD=$REPLY
  KC=$SD/kubeconfig
  _spawn "$TEST_TMP/server.log" nsenter --net="/run/netns/$NS" -- "$KITE_SERVER" --data-dir "$SD" \
    --write-kubeconfig "$KC" --disable-agent --etcd-listen "" --metrics-listen 127.0.0.1:0
  SERVER_PID=$LAST_PID
  wait_until 60 test -s "$SD/server/token" || fail "no join token from kite-server (see $TEST_TMP/server.log)"
  TOKEN=$(cat "$SD/server/token")
}

# start_ns_agent [--log FILE] [--env NAME=VALUE]... BINARY NODE ARGS...: kite-agent BINARY in $NS
# on $AD as node NODE, joined by $TOKEN to the server of new_server_and_agent_in_one_ns, logging
# to $TEST_TMP/agent.log (or FILE); extra flags (ARGS) after. Sets AGENT_PID: the agent itself
# (nsenter and env exec it).
start_ns_agent() {
  local log="$TEST_TMP/agent.log" env=()
  while (($#)); do
    case $1 in
      --log) log=$2; shift 2 ;;
      --env) env+=("$2"); shift 2 ;;
      *) break ;;
    esac
  done
  local bin=$1 node=$2
  shift 2
  _spawn "$log" nsenter --net="/run/netns/$NS" -- env "${env[@]}" "$bin" --server https://127.0.0.1:6443 \
    --token "$TOKEN" --data-dir "$AD" --node-name "$node" "$@"
  AGENT_PID=$LAST_PID
}

# Two nodes as two machines on a LAN: a server's namespace (node address 10.99.0.1) and an
# agent's (10.99.1.1), linked 10.98.0.1 <-> 10.98.0.2, each with its own node dir.
# Sets SNS/ANS (the namespaces) and SD/AD (their data dirs).
new_server_and_agent_nodes() {
  new_netns srv 10.99.0.1
  SNS=$REPLY
  new_netns agt 10.99.1.1
  ANS=$REPLY
  link_netns "$SNS" 10.98.0.1 "$ANS" 10.98.0.2
  new_node_dir srv
  SD=$REPLY
  new_node_dir agt
  AD=$REPLY
}
