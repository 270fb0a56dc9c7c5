#!/usr/bin/env bash
# Disk-pressure eviction counts the containers' writable layers (CRI ListContainerStats), as
# upstream's does: kite-server with its embedded agent runs two BestEffort pods, "layer" that
# wrote 40 MiB into its container's own filesystem and "vol" that wrote 4 MiB into an emptyDir;
# restarted with a nodefs threshold no disk can satisfy, the node reports DiskPressure and evicts
# "layer" first (counting only logs and volumes, "vol" would look bigger and go first).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
sweep_leftovers

one_node evdisk

start() { start_node_server --disable kite-dns,traefik "$@"; }  # start ARGS...: kite-server on the node, with extra flags
start
eventually_eq "node Ready" 90 True k get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

cat >"$TEST_TMP/pods.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: layer}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 5
  containers:
  - name: c
    image: $IMAGE
    imagePullPolicy: Never
    command: [sh, -c, 'dd if=/dev/urandom of=/big bs=1048576 count=40 && touch /written && exec sleep 3600']
    readinessProbe: {exec: {command: [test, -e, /written]}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: vol}
spec:
  nodeName: $NODE
  terminationGracePeriodSeconds: 5
  volumes: [{name: v, emptyDir: {}}]
  containers:
  - name: c
    image: $IMAGE
    imagePullPolicy: Never
    volumeMounts: [{name: v, mountPath: /v}]
    command: [sh, -c, 'dd if=/dev/urandom of=/v/data bs=1048576 count=4 && touch /v/written && exec sleep 3600']
    readinessProbe: {exec: {command: [test, -e, /v/written]}, periodSeconds: 1}
YAML
k create -f "$TEST_TMP/pods.yaml" >/dev/null
eventually_eq "both pods wrote their data" 90 "True True" \
  k get pod layer vol -o 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}'

stop_pid "$SERVER_PID" || fail "kite-server did not stop cleanly"
start --eviction-hard 'nodefs.available<64Ti' --kubelet-arg eviction-pressure-transition-period=5m
eventually_eq "node reports DiskPressure" 90 True \
  k get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="DiskPressure")].status}'
eventually_eq "the pod with the big writable layer is evicted first" 60 "Failed/Evicted" \
  k get pod layer -o 'jsonpath={.status.phase}/{.status.reason}'
MSG=$(k get pod layer -o 'jsonpath={.status.message}')
[[ $MSG == "The node was low on resource: ephemeral-storage. "*"Container c was using "*"request is 0, has larger consumption of ephemeral-storage. " ]] ||
  fail "eviction message: $MSG"
echo "ok - upstream's message for ephemeral-storage ($MSG)"
eventually_eq "then the pod with the emptyDir" 60 "Failed/Evicted" k get pod vol -o 'jsonpath={.status.phase}/{.status.reason}'
# The order from the eviction manager's own log: one pod per pass (every 10 s), and "vol"'s pass
# can come before "layer"'s Failed status is visible, so the API alone cannot tell the order.
ORDER=$(grep -o 'evicting pod default/[a-z]*' "$TEST_TMP/kite.log" | sed 's|.*/||' | tr '\n' ' ')
[[ $ORDER == "layer vol " ]] || fail "eviction order: '$ORDER', wanted 'layer vol '"
echo "ok - evicted in that order: $ORDER"
echo "PASS"
