#!/usr/bin/env bash
# The kubelet's start and stop on a real node (kite-server with its embedded agent):
# - Sandboxes wait for the first import of the images dir: with that import held back (a `ctr`
#   that waits on a file before `images import`), a pod stays Pending with a SandboxWaiting event
#   and containerd is never asked for a sandbox (which would make it pull the pause image from
#   kite.local); once the import is let go, the pod runs.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
sweep_leftovers

new_netns life
NS=$REPLY
new_node_dir life
D=$REPLY
NODE=kite-e2e-life
IMAGE=kite.local/busybox:1.35
KC=$TEST_TMP/kubeconfig
k() { kubectl_in "$NS" "$KC" "$@"; }

# A ctr in front of the real one that holds `images import` while $HOLD exists.
HOLD=$TEST_TMP/hold-import
REAL_CTR=$(command -v ctr)
mkdir -p "$TEST_TMP/bin"
cat >"$TEST_TMP/bin/ctr" <<EOF
#!/bin/sh
case " \$* " in *" images import "*) while [ -e "$HOLD" ]; do sleep 0.2; done ;; esac
exec "$REAL_CTR" "\$@"
EOF
chmod +x "$TEST_TMP/bin/ctr"
touch "$HOLD"

start() {
  _spawn "$TEST_TMP/kite.log" env PATH="$TEST_TMP/bin:$PATH" nsenter --net="/run/netns/$NS" -- "$KITE_SERVER" \
    --data-dir "$D" --write-kubeconfig "$KC" --node-name "$NODE" --etcd-listen "" --metrics-listen 127.0.0.1:0 \
    --disable kite-dns
  SERVER_PID=$LAST_PID
}
start
eventually_eq "node Ready while the images are held back" 90 True \
  k get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

cat >"$TEST_TMP/early.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: early}
spec:
  nodeName: $NODE
  containers: [{name: c, image: $IMAGE, imagePullPolicy: Never}]
YAML
k create -f "$TEST_TMP/early.yaml" >/dev/null
waiting_event() {
  [[ $(k get events --field-selector involvedObject.name=early,reason=SandboxWaiting -o 'jsonpath={.items[0].message}') == \
     "Pod sandbox waits: waiting for the first import of the image archives in "*" (the pause image may be among them)" ]]
}
eventually "the pod says why its sandbox waits (SandboxWaiting event)" 60 waiting_event
expect_eq "it is Pending" Pending k get pod early -o 'jsonpath={.status.phase}'
CLOG=$D/agent/containerd/containerd.log
! grep -q "RunPodSandbox for" "$CLOG" || fail "containerd was asked for a sandbox during the import"
echo "ok - containerd was not asked for a sandbox during the import"
rm -f "$HOLD"
eventually_eq "the pod runs once the import is done" 60 Running k get pod early -o 'jsonpath={.status.phase}'
grep -q "RunPodSandbox for" "$CLOG" || fail "containerd's log does not show RunPodSandbox calls (the check above means nothing)"
! grep -q "failed to get sandbox image\|kite.local/pause.*failed to resolve\|lookup kite.local" "$CLOG" ||
  fail "containerd tried to pull the pause image: $(grep -m1 'kite.local' "$CLOG")"
echo "ok - containerd never tried to pull the pause image"

echo "PASS"
