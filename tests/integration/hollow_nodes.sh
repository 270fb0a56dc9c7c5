#!/usr/bin/env bash
# kite-hollow against a real kite-server, checked the way a user would, with the real kubectl:
# three simulated nodes register Ready with their labels, taints, capacity and addresses; their
# leases in kube-node-lease are owned by the nodes and renewed (and stop being renewed while the
# process is frozen with SIGSTOP); pods bound with spec.nodeName run with an IP from the node's
# pod CIDR, a restartPolicy Never pod completes, a graceful delete finishes; SIGTERM stops
# kite-hollow and leaves the nodes registered. Nothing here relies on a scheduler or controllers.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"
source "$HERE/kubectl/lib_kubectl.sh"
KITE_HOLLOW=${KITE_HOLLOW:-./bin/kite-hollow}
require_tool "$KITE_HOLLOW"
# Hollow nodes serve no kubelet API: no metrics server scraping their made-up addresses
# (10.200.0.x, off this machine).
KITE_ARGS=(--disable-metrics-server)
start_kite_api

_spawn "$TEST_TMP/hollow.log" "$KITE_HOLLOW" --kubeconfig "$TEST_TMP/kubeconfig" --nodes 3 --heartbeat-interval 1s \
  --node-labels tier=edge,zone=z1 --node-taints example.com/hollow=true:NoSchedule --job-pod-duration 1s
HOLLOW_PID=$LAST_PID

# wait_until SECONDS CMD...: until CMD succeeds (quietly); false after SECONDS.
wait_until() {
  local secs=$1
  shift
  local deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  return 1
}
three_ready() { [[ $(k get nodes --no-headers 2>/dev/null | grep -c ' Ready ') -eq 3 ]]; }
renew_time() { k get lease -n kube-node-lease "$1" -o 'jsonpath={.spec.renewTime}'; }

# --- nodes
wait_until 30 three_ready || fail "three Ready nodes did not appear: $(k get nodes 2>&1)"
expect "get nodes: header" '^NAME +STATUS +ROLES +AGE +VERSION$' -- k get nodes
for i in 0 1 2; do
  expect "get nodes: hollow-node-$i Ready" "^hollow-node-$i +Ready +<none> +[0-9smh]+ +v1\.32\.4-hollow\$" -- k get nodes
  expect "get nodes -o wide: hollow-node-$i addresses and runtime" \
    "^hollow-node-$i +Ready +<none> +[0-9smh]+ +v1\.32\.4-hollow +10\.200\.0\.$((i + 1)) +<none> +kite-hollow \(simulated node\) +hollow +hollow://1\.0\$" \
    -- k get nodes -o wide
done
expect_exact "node labels from --node-labels and the kubelet's own" "hollow-node-0 hollow-node-1 hollow-node-2" -- \
  k get nodes -l 'tier=edge,zone=z1,kubernetes.io/os=linux,node.kubernetes.io/instance-type=hollow' \
  -o 'jsonpath={.items[*].metadata.name}'
expect_exact "hostname label" "hollow-node-2" -- k get node hollow-node-2 -o 'jsonpath={.metadata.labels.kubernetes\.io/hostname}'
expect "taints from --node-taints" '^Taints: +example.com/hollow=true:NoSchedule$' -- k describe node hollow-node-0
expect_exact "capacity" "4 16Gi 110 100Gi" -- \
  k get node hollow-node-1 -o 'jsonpath={.status.capacity.cpu} {.status.capacity.memory} {.status.capacity.pods} {.status.capacity.ephemeral-storage}'
expect_exact "allocatable" "4 16Gi 110" -- \
  k get node hollow-node-1 -o 'jsonpath={.status.allocatable.cpu} {.status.allocatable.memory} {.status.allocatable.pods}'
expect_exact "conditions" \
  "MemoryPressure=False/KubeletHasSufficientMemory DiskPressure=False/KubeletHasNoDiskPressure PIDPressure=False/KubeletHasSufficientPID Ready=True/KubeletReady" -- \
  k get node hollow-node-1 -o 'jsonpath={range .status.conditions[*]}{.type}={.status}/{.reason} {end}'
expect_exact "pod CIDR" "10.64.1.0/24" -- k get node hollow-node-1 -o 'jsonpath={.spec.podCIDR}'
expect_exact "nodeInfo" "hollow://1.0 v1.32.4-hollow linux" -- \
  k get node hollow-node-1 -o 'jsonpath={.status.nodeInfo.containerRuntimeVersion} {.status.nodeInfo.kubeletVersion} {.status.nodeInfo.operatingSystem}'

# --- leases
expect "leases in kube-node-lease" '^hollow-node-1 +hollow-node-1 +[0-9smh]+$' -- k get leases -n kube-node-lease
expect_exact "lease duration" "40" -- k get lease -n kube-node-lease hollow-node-0 -o 'jsonpath={.spec.leaseDurationSeconds}'
expect_exact "lease owned by its node" "Node/hollow-node-0/$(k get node hollow-node-0 -o 'jsonpath={.metadata.uid}')" -- \
  k get lease -n kube-node-lease hollow-node-0 -o 'jsonpath={.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}/{.metadata.ownerReferences[0].uid}'
expect "renewTime is a MicroTime" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z$' -- renew_time hollow-node-1
first=$(renew_time hollow-node-1)
sleep 2.5
second=$(renew_time hollow-node-1)
if [[ -n $first && $second > $first ]]; then _report ok "renewTime advances"; else _report fail "renewTime advances" "$first then $second"; fi

# A frozen process renews nothing; thawed, it carries on.
kill -STOP "$HOLLOW_PID"
sleep 0.5
frozen=$(renew_time hollow-node-2)
sleep 2.5
still=$(renew_time hollow-node-2)
kill -CONT "$HOLLOW_PID"
if [[ $frozen == "$still" ]]; then _report ok "no renewals while SIGSTOPped"; else _report fail "no renewals while SIGSTOPped" "$frozen then $still"; fi
thawed_advances() { [[ $(renew_time hollow-node-2) > $still ]]; }
if wait_until 10 thawed_advances; then _report ok "renewals resume after SIGCONT"; else _report fail "renewals resume after SIGCONT"; fi

# --- pods
M=$TEST_TMP/manifests
mkdir -p "$M"
pod_yaml() {  # NAME NODE RESTART_POLICY
  cat <<YAML
apiVersion: v1
kind: Pod
metadata:
  name: $1
spec:
  nodeName: $2
  restartPolicy: $3
  tolerations: [{key: example.com/hollow, operator: Exists}]
  containers:
  - name: main
    image: registry.k8s.io/pause:3.9
YAML
}
pod_yaml web hollow-node-1 Always >"$M/web.yaml"
pod_yaml web2 hollow-node-1 Always >"$M/web2.yaml"
pod_yaml job hollow-node-2 Never >"$M/job.yaml"
expect "create a pod bound to hollow-node-1" '^pod/web created$' -- k create -f "$M/web.yaml"
expect "kubectl wait --for=condition=Ready" '^pod/web condition met$' -- k wait --for=condition=Ready pod/web --timeout=30s
expect "get pod -o wide: Running with an IP of the node's pod CIDR" \
  '^web +1/1 +Running +0 +[0-9smh]+ +10\.64\.1\.[0-9]+ +hollow-node-1 +<none> +<none>$' -- k get pod web -o wide
expect_exact "hostIP is the node's InternalIP" "10.200.0.2" -- k get pod web -o 'jsonpath={.status.hostIP}'
expect "container status" '^main true true 0 hollow://[-0-9a-f]+-main [0-9T:Z-]+$' -- \
  k get pod web -o 'jsonpath={.status.containerStatuses[0].name} {.status.containerStatuses[0].ready} {.status.containerStatuses[0].started} {.status.containerStatuses[0].restartCount} {.status.containerStatuses[0].containerID} {.status.containerStatuses[0].state.running.startedAt}'
k create -f "$M/web2.yaml" >/dev/null
k wait --for=condition=Ready pod/web2 --timeout=30s >/dev/null || true
ip1=$(k get pod web -o 'jsonpath={.status.podIP}')
ip2=$(k get pod web2 -o 'jsonpath={.status.podIP}')
if [[ -n $ip2 && $ip1 != "$ip2" ]]; then _report ok "pod IPs are unique"; else _report fail "pod IPs are unique" "$ip1 and $ip2"; fi

expect "create a restartPolicy Never pod" '^pod/job created$' -- k create -f "$M/job.yaml"
expect "it succeeds" '^pod/job condition met$' -- k wait --for=jsonpath='{.status.phase}'=Succeeded pod/job --timeout=30s
expect "get pod: Completed" '^job +0/1 +Completed +0 +[0-9smh]+$' -- k get pod job
expect_exact "terminated with exit code 0" "0 Completed" -- \
  k get pod job -o 'jsonpath={.status.containerStatuses[0].state.terminated.exitCode} {.status.containerStatuses[0].state.terminated.reason}'

expect "graceful delete completes" '^pod "web" deleted$' -- k delete pod web --timeout=30s
expect_fail "the pod is gone" 'pods "web" not found' -- k get pod web

# --- SIGTERM: a clean stop; the nodes stay registered, as with a stopped kubelet
rc=0
stop_pid "$HOLLOW_PID" || rc=$?
if [[ $rc -eq 0 ]]; then _report ok "SIGTERM stops kite-hollow (exit 0)"; else _report fail "SIGTERM stops kite-hollow (exit 0)" "exit $rc"; fi
expect_exact "nodes stay registered" "hollow-node-0 hollow-node-1 hollow-node-2" -- k get nodes -o 'jsonpath={.items[*].metadata.name}'
finish
