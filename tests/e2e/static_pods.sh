#!/usr/bin/env bash
# Static pods without the API server: a kite-agent runs the manifests of its
# <data-dir>/agent/pod-manifests/ from its file pod source whether or not kite-server answers,
# and shows them as mirror pods when it does. Two real nodes' worth of namespaces: kite-server
# (no embedded agent) in one, a kite-agent with its own containerd in the other. What runs is
# read from the agent's own containerd (ctr on its private socket), not from the API. Shows:
# - with the server stopped, a manifest written into the directory runs at once;
# - the agent restarted while the server is still down (on the certificates of its earlier
#   join, its informers never synced) runs an edited manifest: the old container goes;
# - an edit while the server is down replaces the container again;
# - the server back: the mirror pod appears in `kubectl get pods -A`, Running, with the
#   container that runs (nothing restarted); a mirror pod deleted by hand comes back;
# - with the server down again, a removed manifest's container goes; the server back, so does
#   the mirror pod.
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
NODE=e2e-static
MIRROR=static-web-$NODE
MANIFEST=$AD/agent/pod-manifests/static-web.yaml
k() { kubectl_in "$SNS" "$KC" "$@"; }

start_server() {
  _spawn "$TEST_TMP/server.log" nsenter --net="/run/netns/$SNS" -- "$KITE_SERVER" --data-dir "$SD" --write-kubeconfig "$KC" \
    --disable-agent --tls-san 10.98.0.1 --etcd-listen "" --metrics-listen 127.0.0.1:0
  SERVER_PID=$LAST_PID
}
AGENT_RUNS=0
start_agent() {
  AGENT_RUNS=$((AGENT_RUNS + 1))
  _spawn "$TEST_TMP/agent$AGENT_RUNS.log" nsenter --net="/run/netns/$ANS" -- "$KITE_AGENT" --server https://10.98.0.1:6443 \
    --token "$TOKEN" --data-dir "$AD" --node-name "$NODE" --node-ip 10.98.0.2 --flannel-backend none
  AGENT_PID=$LAST_PID
}
stop() {  # stop PID: SIGTERM, then wait for it to end
  kill -TERM "$1"
  for _ in $(seq 1 600); do kill -0 "$1" 2>/dev/null || return 0; sleep 0.1; done
  fail "process $1 did not stop within 60 s of SIGTERM"
}
manifest() {  # manifest VERSION: the static pod, whose container says which version it is
  cat >"$MANIFEST.tmp" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: static-web, namespace: kube-system}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $IMAGE
    imagePullPolicy: Never
    command: [sh, -c, "echo marker-$1; exec sleep 3600"]
YAML
  mv "$MANIFEST.tmp" "$MANIFEST"  # whole, as an editor saves it
}

# The agent's containerd, as the node itself sees it.
SOCK=""
c_() { ctr -a "$SOCK" -n k8s.io "$@"; }
# The running containers of the static pod: "<marker> <container id>" per line.
static_running() {
  local id
  for id in $(c_ containers ls -q "labels.\"io.kubernetes.pod.name\"==$MIRROR,labels.\"io.kubernetes.container.name\"==c"); do
    c_ tasks ls | awk -v id="$id" '$1 == id && $3 == "RUNNING" {found = 1} END {exit !found}' || continue
    echo "$(c_ containers info "$id" | grep -o 'marker-v[0-9]*' | head -1) $id"
  done
}
markers() { static_running | awk '{print $1}' | sort | tr '\n' ' ' | sed 's/ $//'; }

start_server
eventually "the API server answers" 90 k get --raw /readyz
TOKEN=$(cat "$SD/server/token")
start_agent
eventually_eq "the agent's node Ready" 120 True k get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
SOCK=$(_run_dir "$AD")/containerd/containerd.sock
[[ -S $SOCK ]] || fail "the agent's containerd socket $SOCK is not there"

# --- the server stopped: a new manifest runs at once
stop "$SERVER_PID"
! in_ns "$ANS" curl -sk -m 3 https://10.98.0.1:6443/readyz >/dev/null 2>&1 || fail "the server still answers"
manifest v1
eventually_eq "with the server down, a new static pod runs" 60 "marker-v1" markers

# --- the agent restarted with the server still down runs an edited manifest
stop "$AGENT_PID"
manifest v2
start_agent
eventually_eq "an agent started with no server replaces the container with the edited one" 90 "marker-v2" markers
grep -q "starting with the certificates of the earlier join" "$TEST_TMP/agent$AGENT_RUNS.log" ||
  fail "the agent did not start on its saved certificates: $(tail -5 "$TEST_TMP/agent$AGENT_RUNS.log")"
echo "ok - the agent started on the certificates of its earlier join"
! grep -q "informers never synced\|mirror pod .* created" "$TEST_TMP/agent$AGENT_RUNS.log" || fail "the agent reached the API"

# --- an edit while the server is down replaces the container again
manifest v3
eventually_eq "an edit without the server replaces the container" 60 "marker-v3" markers
CID=$(static_running | awk '{print $2}')

# --- the server back: the mirror pod, Running, with the container that runs
start_server
eventually "the API server answers again" 90 k get --raw /readyz
mirror_state() {
  k get pods -A -o 'jsonpath={range .items[?(@.metadata.name=="'"$MIRROR"'")]}{.metadata.namespace} {.status.phase} {.metadata.annotations.kubernetes\.io/config\.source}{end}'
}
eventually_eq "the mirror pod appears in kubectl get pods -A, Running" 90 "kube-system Running file" mirror_state
eventually_eq "the mirror pod shows the running container" 60 "containerd://$CID" \
  k get pod -n kube-system "$MIRROR" -o 'jsonpath={.status.containerStatuses[0].containerID}'
expect_eq "nothing was restarted when the server came back" "marker-v3" markers

k delete pod -n kube-system "$MIRROR" --wait=false >/dev/null
mirror_back() { [[ $(k get pod -n kube-system "$MIRROR" -o 'jsonpath={.status.phase}/{.metadata.deletionTimestamp}') == Running/ ]]; }
eventually "a mirror pod deleted by hand comes back" 90 mirror_back
expect_eq "the static pod ran on meanwhile" "marker-v3 $CID" static_running

# --- the server down again: a removed manifest's container goes; back: so does its mirror pod
stop "$SERVER_PID"
rm "$MANIFEST"
eventually_eq "with the server down, a removed manifest's container goes" 60 "" markers
start_server
eventually "the API server answers once more" 90 k get --raw /readyz
mirror_gone() { ! k get pod -n kube-system "$MIRROR" >/dev/null 2>&1; }
eventually "the removed manifest's mirror pod goes" 90 mirror_gone
echo "PASS"
