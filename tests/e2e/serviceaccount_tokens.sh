#!/usr/bin/env bash
# A pod's projected service-account token on a real node (kite-server's embedded agent on its
# own containerd, in a network namespace): the ServiceAccount admission plugin gives the pod its
# kube-api-access volume, the kubelet fills it through TokenRequest (token bound to the pod,
# 3607 s, the API server's audiences), ca.crt and namespace; the token read from inside the pod
# authenticates to the API server as the pod's service account, and stops working once the pod
# is deleted.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
sweep_leftovers

one_node satok
start_node_server
eventually_eq "node Ready" 90 True jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

# kt TOKEN ARGS...: kubectl in the node's namespace with the bearer token only.
SERVER=$(sed -n 's/^ *server: *//p' "$KC" | head -1)
grep -m1 'certificate-authority-data:' "$KC" | awk '{print $2}' | base64 -d >"$TEST_TMP/ca.crt"
kt() {
  local token=$1
  shift
  in_ns "$NS" "$KUBECTL_BIN" --kubeconfig /dev/null --server "$SERVER" --certificate-authority "$TEST_TMP/ca.crt" \
    --token "$token" --cache-dir "$TEST_TMP/kcache-token" --request-timeout 20s "$@"
}
claim() {  # claim TOKEN PYTHON-EXPR(c)
  python3 -c 'import base64,json,sys; p=sys.argv[1].split(".")[1]; c=json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4))); print(eval(sys.argv[2]))' "$1" "$2"
}

eventually "default service account" 30 jp serviceaccount default
k create serviceaccount robot >/dev/null
cat >"$TEST_TMP/pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: tok}
spec:
  serviceAccountName: robot
  containers:
  - name: c
    image: $IMAGE
    command: [httpd, -f, -p, "80", -h, /]
YAML
k apply -f "$TEST_TMP/pod.yaml" >/dev/null
eventually_eq "pod with the token volume Running" 90 Running jp pod tok -o 'jsonpath={.status.phase}'
# The files as the container sees them, over HTTP from its httpd.
IP=$(k get pod tok -o 'jsonpath={.status.podIP}')
file() { in_ns "$NS" curl -sf -m 5 "http://$IP/var/run/secrets/kubernetes.io/serviceaccount/$1"; }
expect_eq "namespace file" default file namespace
CA=$(k get configmap kube-root-ca.crt -o 'jsonpath={.data.ca\.crt}')
expect_eq "ca.crt file is kube-root-ca.crt" "$CA" file ca.crt
TOKEN=$(file token)
[[ -n $TOKEN ]] || fail "no token file"
UID_=$(k get pod tok -o 'jsonpath={.metadata.uid}')
expect_eq "token bound to the pod" "tok $UID_" claim "$TOKEN" 'c["kubernetes.io"]["pod"]["name"]+" "+c["kubernetes.io"]["pod"]["uid"]'
expect_eq "token names the node" "$NODE" claim "$TOKEN" 'c["kubernetes.io"]["node"]["name"]'
expect_eq "token lifetime 3607 s" 3607 claim "$TOKEN" 'c["exp"]-c["iat"]'
expect_eq "token audiences" "['https://kubernetes.default.svc.cluster.local', 'k3s']" claim "$TOKEN" 'c["aud"]'
expect_eq "the pod's token authenticates as its service account" "system:serviceaccount:default:robot" \
  kt "$TOKEN" auth whoami -o 'jsonpath={.status.userInfo.username}'
expect_eq "...naming the pod" '["tok"]' \
  kt "$TOKEN" auth whoami -o 'jsonpath={.status.userInfo.extra.authentication\.kubernetes\.io/pod-name}'
k delete pod tok --wait=true --timeout=90s >/dev/null
unauthorized() {
  local out
  out=$(kt "$TOKEN" auth whoami 2>&1) && return 1
  grep -Eq 'Unauthorized|must be logged in' <<<"$out"
}
eventually "the token stops working once the pod is deleted" 30 unauthorized
echo "0 failed"
