#!/usr/bin/env bash
# Runtime handlers and RuntimeClasses on a real node (kite-server with its embedded agent in a
# network namespace): the server serves node.k8s.io/v1 and ships the RuntimeClasses crun and
# runc; a pod without runtimeClassName runs under the node's default (runc), one with
# runtimeClassName runc under runc, one with crun under crun where crun works; a pod naming a missing RuntimeClass is
# refused at admission, a class's overhead and scheduling are merged into the pod, and a class
# deleted before its pod starts fails the sandbox with FailedCreatePodSandBox; after a restart
# with --default-runtime runc (the default, said explicitly) a new pod runs under runc and the
# running ones are left alone. Which OCI runtime ran a container is read from its state dir:
# <containerd state>/<handler>/k8s.io/<container id>.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
sweep_leftovers

one_node rtclass

# The default is runc (k3s's). crun runs pods only where it is installed (where k3s looks) and
# cgroups are not hybrid with a controller in v2, which crun 1.8.1 refuses.
DEFAULT=runc
CRUN=0
for dir in /usr/sbin /usr/bin /usr/local/bin /usr/local/sbin; do
  if [[ -x $dir/crun && ! -d $dir/crun ]]; then CRUN=1; break; fi
done
if ((CRUN)) && [[ -n $(cat /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null) ]]; then
  echo "# crun installed but unusable here: hybrid cgroups with v2 controllers ($(cat /sys/fs/cgroup/unified/cgroup.controllers))"
  CRUN=0
fi

start_node_server
eventually_eq "node Ready" 90 True jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
STATE=$(sed -n 's/^state = "\(.*\)"$/\1/p' "$D/agent/etc/containerd/config.toml")
[[ -n $STATE ]] || fail "no state dir in the generated config.toml"
expect_eq "default_runtime_name in config.toml" "$DEFAULT" \
  sed -n 's/^ *default_runtime_name = "\(.*\)"$/\1/p' "$D/agent/etc/containerd/config.toml"

# --- the API serves RuntimeClasses and the server ships crun and runc
k api-resources --api-group=node.k8s.io -o name | grep -x "runtimeclasses.node.k8s.io" >/dev/null ||
  fail "node.k8s.io/v1 runtimeclasses not served: $(k api-resources --api-group=node.k8s.io 2>&1)"
eventually_eq "RuntimeClasses crun and runc shipped" 60 "crun=crun runc=runc " \
  jp runtimeclasses -o 'jsonpath={range .items[*]}{.metadata.name}={.handler} {end}'
k get runtimeclass runc | grep -E "^runc +runc +" >/dev/null || fail "kubectl get runtimeclass: $(k get runtimeclass runc)"
echo "ok - kubectl get runtimeclass shows the handlers"
out=$(k apply -f - 2>&1 <<'EOF' || true
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: bad}
handler: Not_A_Label
EOF
)
[[ $out == *'handler: Invalid value: "Not_A_Label"'* ]] || fail "a bad handler was not refused: $out"
out=$(k patch runtimeclass runc --type=merge -p '{"handler":"crun"}' 2>&1 || true)
[[ $out == *"field is immutable"* ]] || fail "a handler changed: $out"
echo "ok - a handler is a DNS label and immutable"

# runtime_of POD: the handler whose state dir holds the pod's first container.
runtime_of() {
  local cid
  cid=$(k get pod "$1" -o 'jsonpath={.status.containerStatuses[0].containerID}')
  cid=${cid#containerd://}
  [[ -n $cid ]] || return 1
  for h in runc crun; do
    if [[ -d $STATE/$h/k8s.io/$cid ]]; then echo "$h"; return 0; fi
  done
  echo "none"
}
pod_with_class() {  # pod_with_class NAME [CLASS]
  k apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  ${2:+runtimeClassName: $2}
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: $IMAGE, command: [sleep, "3600"]}
EOF
}

# --- no runtimeClassName: the node's default; runtimeClassName runc: runc
pod_with_class plain
pod_with_class on-runc runc
pod_with_class on-crun crun
eventually_eq "pod plain Running" 90 Running jp pod plain -o 'jsonpath={.status.phase}'
eventually_eq "pod on-runc Running" 90 Running jp pod on-runc -o 'jsonpath={.status.phase}'
expect_eq "pod without runtimeClassName runs under the default" "$DEFAULT" runtime_of plain
expect_eq "pod with runtimeClassName runc runs under runc" runc runtime_of on-runc
if ((CRUN)); then
  eventually_eq "pod on-crun Running" 90 Running jp pod on-crun -o 'jsonpath={.status.phase}'
  expect_eq "pod with runtimeClassName crun runs under crun" crun runtime_of on-crun
else
  # No usable crun on this node: its sandbox cannot start, and the event says why.
  has_no_handler() { [[ -n $(k get events --field-selector involvedObject.name=on-crun,reason=FailedCreatePodSandBox -o name) ]]; }
  eventually "pod on-crun fails its sandbox on a node without crun" 60 has_no_handler
fi
expect_eq "exec under the default runtime" hello k exec plain -- echo hello

# --- a RuntimeClass that does not exist: refused at admission, as upstream's RuntimeClass plugin
out=$(pod_with_class lost no-such-class 2>&1 || true)
[[ $out == *'pods "lost" is forbidden: pod rejected: RuntimeClass "no-such-class" not found'* ]] ||
  fail "a pod naming a missing RuntimeClass was not refused: $out"
echo "ok - a pod naming a missing RuntimeClass is refused"
# A class with overhead and scheduling: merged into the pod at admission.
k apply -f - >/dev/null <<'EOF'
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: runc-small}
handler: runc
overhead: {podFixed: {memory: 16Mi}}
scheduling:
  nodeSelector: {kubernetes.io/os: linux}
  tolerations: [{key: kite.test/rtclass, operator: Exists, effect: NoSchedule}]
EOF
pod_with_class small runc-small
expect_eq "the class's overhead on the pod" '{"memory":"16Mi"}' jp pod small -o 'jsonpath={.spec.overhead}'
expect_eq "the class's nodeSelector on the pod" linux jp pod small -o 'jsonpath={.spec.nodeSelector.kubernetes\.io/os}'
expect_eq "the class's toleration on the pod" Exists \
  jp pod small -o 'jsonpath={.spec.tolerations[?(@.key=="kite.test/rtclass")].operator}'
eventually_eq "pod small Running" 90 Running jp pod small -o 'jsonpath={.status.phase}'
expect_eq "and runs under its handler" runc runtime_of small
# The class deleted under a pod not yet started (it waits for a node label): its sandbox fails,
# and says why.
k apply -f - >/dev/null <<'EOF'
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: fleeting}
handler: runc
EOF
k apply -f - >/dev/null <<'EOF'
apiVersion: v1
kind: Pod
metadata: {name: lost}
spec:
  runtimeClassName: fleeting
  nodeSelector: {kite.test/later: "yes"}
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: kite.local/busybox:1.35, command: [sleep, "3600"]}
EOF
k delete runtimeclass fleeting >/dev/null
k label node "$NODE" kite.test/later=yes >/dev/null
lost_event() {
  k get events --field-selector involvedObject.name=lost,reason=FailedCreatePodSandBox -o 'jsonpath={.items[*].message}' |
    grep 'runtimeclasses.node.k8s.io "fleeting" not found' >/dev/null
}
eventually "a deleted RuntimeClass fails the sandbox (FailedCreatePodSandBox)" 60 lost_event
expect_eq "its pod stays Pending" Pending jp pod lost -o 'jsonpath={.status.phase}'

# --- --default-runtime runc (k3s's default): new pods under runc, running ones left alone
BEFORE=$(jp pod plain -o 'jsonpath={.status.containerStatuses[0].containerID}')
kill -TERM "$SERVER_PID"
for _ in $(seq 1 600); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
! kill -0 "$SERVER_PID" 2>/dev/null || fail "kite-server did not stop within 60 s of SIGTERM"
start_node_server --default-runtime runc
eventually_eq "node Ready after the restart" 90 True jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
expect_eq "default_runtime_name after --default-runtime runc" runc \
  sed -n 's/^ *default_runtime_name = "\(.*\)"$/\1/p' "$D/agent/etc/containerd/config.toml"
pod_with_class after
eventually_eq "pod after Running" 90 Running jp pod after -o 'jsonpath={.status.phase}'
expect_eq "a new pod without runtimeClassName runs under runc" runc runtime_of after
expect_eq "the running pod kept its container" "$BEFORE" jp pod plain -o 'jsonpath={.status.containerStatuses[0].containerID}'
expect_eq "and its runtime" "$DEFAULT" runtime_of plain
echo "ok - --default-runtime runc"
