#!/usr/bin/env bash
# The kubelet's start and stop on a real node (kite-server with its embedded agent):
# - Sandboxes wait for the first import of the images dir: with that import held back (a `ctr`
#   that waits on a file before `images import`), a pod stays Pending with a SandboxWaiting event
#   and containerd is never asked for a sandbox (which would make it pull the pause image from
#   kite.local); once the import is let go, the pod runs.
# - Stop does not wait out a grace period: with a pod terminating under a 600 s grace period
#   (its process traps SIGTERM and exits only when the test says so), kite-server exits on its
#   own within stop_pid's 10 s; the container runs on; the next start adopts the pod and finishes
#   its termination when the process exits.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
sweep_leftovers

one_node life

# A ctr in front of the real one that holds `images import` while $HOLD exists.
HOLD=$TEST_TMP/hold-import
REAL_CTR=$(command -v ctr)
mkdir -p "$TEST_TMP/bin" "$TEST_TMP/release"
cat >"$TEST_TMP/bin/ctr" <<EOF
#!/bin/sh
case " \$* " in *" images import "*) while [ -e "$HOLD" ]; do sleep 0.2; done ;; esac
exec "$REAL_CTR" "\$@"
EOF
chmod +x "$TEST_TMP/bin/ctr"
touch "$HOLD"

start() {
  start_node_server --env PATH="$TEST_TMP/bin:$PATH" --disable kite-dns,traefik
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

# A pod whose process takes SIGTERM and exits only once $TEST_TMP/release/go exists.
MARK=kite-e2e-slow-$$
cat >"$TEST_TMP/slow.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: slow}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 600
  volumes: [{name: r, hostPath: {path: $TEST_TMP/release, type: Directory}}]
  containers:
  - name: c
    image: $IMAGE
    imagePullPolicy: Never
    volumeMounts: [{name: r, mountPath: /release}]
    command:
    - sh
    - -c
    - |
      trap 'touch /release/got-term; while [ ! -e /release/go ]; do sleep 0.2; done; exit 0' TERM
      while true; do sleep 0.2; done # $MARK
YAML
k create -f "$TEST_TMP/slow.yaml" >/dev/null
eventually_eq "the slow pod runs" 60 Running k get pod slow -o 'jsonpath={.status.phase}'
k delete pod slow --wait=false >/dev/null
eventually "its process got SIGTERM" 60 test -e "$TEST_TMP/release/got-term"

stop_pid "$SERVER_PID" || fail "kite-server did not exit on its own within 10 s of SIGTERM (the pod's grace is 600 s)"
echo "ok - kite-server stops without waiting out the grace period"
pgrep -f "$MARK" >/dev/null || fail "the terminating pod's container did not run on"
echo "ok - the terminating container runs on"

start
eventually_eq "node Ready again" 90 True k get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
expect_eq "the pod is still terminating" slow k get pod slow -o 'jsonpath={.metadata.name}'
touch "$TEST_TMP/release/go"
gone() { ! k get pod slow >/dev/null 2>&1; }
eventually "after the restart the pod finishes terminating (deleted)" 60 gone
expect_eq "its container is gone" "" pgrep -f "$MARK"
expect_eq "the other pod was adopted (no restart)" "Running 0" \
  k get pod early -o 'jsonpath={.status.phase} {.status.containerStatuses[0].restartCount}'
echo "PASS"
