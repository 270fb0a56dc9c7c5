#!/usr/bin/env bash
# The Node authorizer and NodeRestriction with the real kubectl: a kubelet identity
# (system:node:<name> in system:nodes, here a --token-auth-file token) reads the Secrets and
# ConfigMaps of pods bound to its node and gets 403 for any other (upstream's message and
# reason), cannot list them, writes its own Node, Lease and pods' status but not another node's,
# and creates only mirror pods of its own. The graph follows pods as they are bound, so the
# first read after a pod's creation polls (bounded).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
printf '%s\n' 'tok-n1,system:node:n1,11,system:nodes' 'tok-n2,system:node:n2,12,system:nodes' >"$TEST_TMP/tokens.csv"
KITE_ARGS=(--disable-scheduler --disable-controller-manager --token-auth-file "$TEST_TMP/tokens.csv")
start_kite_api
admin_cert_files
printf 'apiVersion: v1\nkind: Config\n' >"$TEST_TMP/empty-kubeconfig"

# kn NODE ARGS... — kubectl as the kubelet of NODE.
kn() {
  local node=$1
  shift
  timeout 60 "$KUBECTL_BIN" --kubeconfig "$TEST_TMP/empty-kubeconfig" --cache-dir "$TEST_TMP/kubectl-cache-$node" \
    --server "$BASE" --certificate-authority "$TEST_TMP/ca.crt" --token "tok-$node" "$@" </dev/null
}
eventually() {
  local name=$1
  shift 2
  local deadline=$((SECONDS + 10))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then
      _report ok "$name"
      return 0
    fi
    sleep 0.1
  done
  _report fail "$name" "$("$@" 2>&1)"
}

for n in n1 n2; do
  printf '{"apiVersion":"v1","kind":"Node","metadata":{"name":"%s"}}\n' "$n" >"$TEST_TMP/$n.json"
  k create -f "$TEST_TMP/$n.json" >/dev/null
done
k create secret generic mounted --from-literal=k=v >/dev/null
k create secret generic env-secret --from-literal=k=v >/dev/null
k create secret generic other --from-literal=k=v >/dev/null
k create configmap cm-mounted --from-literal=k=v >/dev/null
k create configmap cm-other --from-literal=k=v >/dev/null
cat >"$TEST_TMP/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: p1}
spec:
  nodeName: n1
  containers:
  - name: c
    image: busybox
    env:
    - name: S
      valueFrom: {secretKeyRef: {name: env-secret, key: k}}
  volumes:
  - {name: s, secret: {secretName: mounted}}
  - {name: c, configMap: {name: cm-mounted}}
YAML
k create -f "$TEST_TMP/pod.yaml" >/dev/null

# --- reads follow the pods bound to the node
eventually "n1 reads the secret its pod mounts" -- kn n1 get secret mounted
expect "n1 reads the secret its pod's env names" '^env-secret ' -- kn n1 get secret env-secret --no-headers
expect "n1 reads the configmap its pod mounts" '^cm-mounted ' -- kn n1 get configmap cm-mounted --no-headers
expect_fail "n1 gets 403 for another secret (upstream message and reason)" \
  "secrets \"other\" is forbidden: User \"system:node:n1\" cannot get resource \"secrets\" in API group \"\" in the namespace \"default\": no relationship found between node 'n1' and this object" \
  -- kn n1 get secret other
expect_fail "n1 gets 403 for another configmap" 'configmaps "cm-other" is forbidden' -- kn n1 get configmap cm-other
expect_fail "n1 cannot list secrets" 'cannot list resource "secrets"' -- kn n1 get secrets
expect_fail "n2 cannot read n1's pod's secret" "no relationship found between node 'n2' and this object" -- kn n2 get secret mounted
k delete pod p1 --grace-period=0 --force >/dev/null 2>&1
eventually "once the pod is gone, n1 loses the secret" -- bash -c "! timeout 10 $KUBECTL_BIN --kubeconfig $TEST_TMP/empty-kubeconfig --server $BASE --certificate-authority $TEST_TMP/ca.crt --token tok-n1 get secret mounted"
k create -f "$TEST_TMP/pod.yaml" >/dev/null
eventually "… and has it again when a pod mounts it" -- kn n1 get secret mounted

# --- writes: its own Node, Lease and pods
expect "n1 labels its own Node" 'node/n1 labeled' -- kn n1 label node n1 example.com/x=y
expect_fail "n1 cannot modify node n2" 'nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2"' \
  -- kn n1 label node n2 example.com/x=y
expect_fail "n1 cannot delete nodes (not in system:node's rules)" 'nodes "n2" is forbidden: User "system:node:n1" cannot delete resource "nodes"' \
  -- kn n1 delete node n2
expect "n1 reads nodes (system:node's rules)" '^n2 ' -- kn n1 get nodes --no-headers
printf '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"%s","namespace":"kube-node-lease"}}\n' n1 >"$TEST_TMP/l1.json"
printf '{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"%s","namespace":"kube-node-lease"}}\n' n2 >"$TEST_TMP/l2.json"
expect "n1 creates its Lease" 'lease.coordination.k8s.io/n1 created' -- kn n1 create -f "$TEST_TMP/l1.json"
expect_fail "n1 cannot create n2's Lease" 'can only access node lease with the same name as the requesting node' \
  -- kn n1 create -f "$TEST_TMP/l2.json"
expect_fail "n1 cannot read leases elsewhere" 'can only access leases in the kube-node-lease namespace' \
  -- kn n1 -n default get lease n1
# (kubectl patch --subresource=status reads pods/status first, which system:node does not
# grant; a kubelet patches it directly, as here.)
patch_status() {
  "${CURL:-curl}" -sS --max-time 10 --cacert "$TEST_TMP/ca.crt" -H "Authorization: Bearer tok-$1" -X PATCH \
    -H 'Content-Type: application/merge-patch+json' --data-binary '{"status":{"message":"hi"}}' \
    -w ' %{http_code}' "$BASE/api/v1/namespaces/default/pods/p1/status"
}
expect "n1 patches the status of its pod" '"message":"hi".* 200$' -- patch_status n1
expect "n2 cannot patch the status of n1's pod" 'node \\"n2\\" can only update pod status for pods with spec.nodeName set to itself.* 403$' \
  -- patch_status n2
expect_fail "n2 cannot delete n1's pod" 'node "n2" can only delete pods with spec.nodeName set to itself' -- kn n2 delete pod p1
expect_fail "a node creates only mirror pods" 'can only create mirror pods' -- kn n1 run x --image=busybox --restart=Never
cat >"$TEST_TMP/mirror.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: static-n1
  annotations: {kubernetes.io/config.mirror: "abc", kubernetes.io/config.source: file}
spec:
  nodeName: NODE
  containers: [{name: c, image: busybox}]
YAML
sed 's/NODE/n1/' "$TEST_TMP/mirror.yaml" >"$TEST_TMP/mirror-n1.yaml"
sed 's/NODE/n2/; s/static-n1/static-n2/' "$TEST_TMP/mirror.yaml" >"$TEST_TMP/mirror-n2.yaml"
expect "n1 creates its mirror pod" 'pod/static-n1 created' -- kn n1 create -f "$TEST_TMP/mirror-n1.yaml"
expect_fail "n1 cannot create a mirror pod for n2" 'node "n1" can only create pods with spec.nodeName set to itself' \
  -- kn n1 create -f "$TEST_TMP/mirror-n2.yaml"
expect_fail "nodes get no RBAC rights beyond system:node's" 'cannot create resource "namespaces"' -- kn n1 create namespace x

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
