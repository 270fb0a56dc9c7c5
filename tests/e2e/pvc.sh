#!/usr/bin/env bash
# The built-in local-path provisioner on a real node: kite-server with its embedded agent in a
# network namespace. Shows: StorageClass local-path is there and is the default; a claim with no
# storageClassName gets it and stays Pending until a pod uses it (WaitForFirstConsumer); the pod
# runs with the claim at /data (a PV with hostPath under <data-dir>/storage, made by the kubelet),
# writes a file there, and the claim is Bound; after the pod is deleted, a new pod on the same
# claim serves that file over HTTP from its IP; deleting the claim removes the volume's directory
# on the node (a helper pod of kite's local-path-helper image) and then its PV.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
sweep_leftovers

one_node pvc

start_node_server
eventually_eq "node Ready" 90 True k get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'


# --- the class, default
sc_row() { k get storageclass --no-headers | awk '{print $1, $2, $3, $4, $5}'; }
eventually_eq "StorageClass local-path is there and the default" 30 \
  "local-path (default) rancher.io/local-path Delete WaitForFirstConsumer" sc_row

# --- a claim without a class gets the default, and waits for its first consumer
cat >"$TEST_TMP/pvc.yaml" <<YAML
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
YAML
k apply -f "$TEST_TMP/pvc.yaml" >/dev/null
expect_eq "claim without storageClassName gets local-path" local-path k get pvc data -o 'jsonpath={.spec.storageClassName}'
expect_eq "claim Pending without a consumer" Pending k get pvc data -o 'jsonpath={.status.phase}'

# pod_yaml NAME CMD: a pod of the test image with the claim at /data.
pod_yaml() {
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, '$2']
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - {name: data, persistentVolumeClaim: {claimName: data}}
YAML
}
pod_yaml writer 'echo kept-across-pods >/data/index.html; exec httpd -f -p 80 -h /data' | k apply -f - >/dev/null
eventually_eq "writer pod Running" 120 Running k get pod writer -o 'jsonpath={.status.phase}'
eventually_eq "claim Bound" 30 Bound k get pvc data -o 'jsonpath={.status.phase}'
PV=$(k get pvc data -o 'jsonpath={.spec.volumeName}')
UID_=$(k get pvc data -o 'jsonpath={.metadata.uid}')
[[ $PV == "pvc-$UID_" ]] || fail "volume '$PV' is not pvc-<claim uid>"
pvc_row() { k get pvc data --no-headers | awk '{print $1, $2, $3, $4, $5, $6}'; }
expect_eq "kubectl get pvc: Bound with local-path" "data Bound $PV 64Mi RWO local-path" pvc_row
expect_eq "PV hostPath under <data-dir>/storage" "$D/storage/${PV}_default_data DirectoryOrCreate" \
  k get pv "$PV" -o 'jsonpath={.spec.hostPath.path} {.spec.hostPath.type}'
expect_eq "PV bound to the claim, node affinity to the node" "Bound default/data $NODE Delete" \
  k get pv "$PV" -o 'jsonpath={.status.phase} {.spec.claimRef.namespace}/{.spec.claimRef.name} {.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]} {.spec.persistentVolumeReclaimPolicy}'
IP=$(k get pod writer -o 'jsonpath={.status.podIP}')
serves() { [[ $(in_ns "$NS" curl -s -m 5 "http://$1/index.html") == kept-across-pods ]]; }
wait_until 30 serves "$IP" || fail "writer pod does not serve the file it wrote"
echo "ok - writer pod wrote the file on the volume"
[[ $(cat "$D/storage/${PV}_default_data/index.html") == kept-across-pods ]] || fail "file not in the node's directory"
echo "ok - the file is in the node's directory"

# --- the pod goes, a new pod on the same claim reads the file
k delete pod writer --wait=true --timeout=60s >/dev/null
pod_yaml reader 'exec httpd -f -p 80 -h /data' | k apply -f - >/dev/null
eventually_eq "reader pod Running" 120 Running k get pod reader -o 'jsonpath={.status.phase}'
IP=$(k get pod reader -o 'jsonpath={.status.podIP}')
wait_until 30 serves "$IP" || fail "reader pod does not serve the file the writer left"
echo "ok - a new pod on the same claim reads the file"

# --- deleting the claim removes its directory on the node (a helper pod), then its volume
k delete pod reader --wait=true --timeout=60s >/dev/null
k delete pvc data --wait=true --timeout=60s >/dev/null
pv_gone() { ! k get pv "$PV" >/dev/null 2>&1; }
eventually "claim deleted: its PV deleted" 60 pv_gone
[[ ! -e "$D/storage/${PV}_default_data" ]] || fail "the volume's directory is still on the node"
echo "ok - the volume's directory is gone from the node"
[[ -d "$D/storage" ]] || fail "the storage directory itself went"
helper_gone() { ! k get pod -n kube-system "helper-pod-delete-$PV" >/dev/null 2>&1; }
eventually "the helper pod is deleted with the volume" 30 helper_gone
echo "PASS"
