#!/usr/bin/env bash
# The cluster's certificates with the real kubectl, openssl and etcdctl: one certificate per
# component identity (CN/O, a year's life, 0600 keys, --write-kubeconfig-mode), RBAC applying to
# them; TLS 1.0/1.1 refused on the API, kubelet and etcd ports; the etcd endpoint off the loopback
# requires client certificates from its own CA; the CSR API (validation, `kubectl get csr`
# columns, `kubectl certificate approve|deny`, auto-approval of a node's own client certificate,
# the signers, CertificateSubjectRestriction); renewal at start of a leaf with fewer than 90 days
# left; `kite-server certificate rotate`; CAs supplied by the user.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
require_tool openssl
require_tool "$ETCDCTL"

NODE=kite-certs-$RANDOM
ETCD_PORT=$(free_port)
KITE_EMBEDDED_AGENT=1
# The etcd endpoint on every address (so it must be TLS); the embedded kubelet on a free port.
KITE_ARGS=(--node-name "$NODE" --disable-scheduler --container-runtime-endpoint "unix://$TEST_TMP/no-such-cri.sock"
  --disable-kube-proxy --kubelet-port 0 --write-kubeconfig-mode 0640 --etcd-listen "0.0.0.0:$ETCD_PORT")
start_kite_api
TLS=$TEST_TMP/kite-data/server/tls

# --- one certificate per identity
subject() { openssl x509 -noout -subject -nameopt compat -in "$1"; }
expect "admin: system:admin in system:masters" 'O ?= ?system:masters.*CN ?= ?system:admin' -- subject "$TLS/client-admin.crt"
expect "controller manager: system:kube-controller-manager" 'CN ?= ?system:kube-controller-manager$' -- subject "$TLS/client-controller.crt"
expect "scheduler: system:kube-scheduler" 'CN ?= ?system:kube-scheduler$' -- subject "$TLS/client-scheduler.crt"
expect "kube-proxy: system:kube-proxy" 'CN ?= ?system:kube-proxy$' -- subject "$TLS/client-kube-proxy.crt"
expect "the API server's kubelet client: system:apiserver" 'CN ?= ?system:apiserver' -- subject "$TLS/client-kube-apiserver.crt"
expect "leaves live a year" 'will not expire' -- openssl x509 -noout -checkend $((360 * 86400)) -in "$TLS/client-controller.crt"
expect_fail "…and not longer" 'will expire' -- openssl x509 -noout -checkend $((366 * 86400)) -in "$TLS/client-controller.crt"
expect "CAs live ten years" 'will not expire' -- openssl x509 -noout -checkend $((3600 * 86400)) -in "$TLS/client-ca.crt"
keys=$(find "$TLS" -name '*.key' -printf '%m %p\n')
if [[ -n $keys ]] && ! grep -qv '^600 ' <<<"$keys"; then _report ok "every key file is 0600"; else
  _report fail "every key file is 0600" "$keys"; fi
expect_exact "the kubeconfig has --write-kubeconfig-mode" "640" -- stat -c %a "$TEST_TMP/kubeconfig"

admin_cert_files
# kc CERT-NAME ARGS... — kubectl with <tls>/CERT-NAME.{crt,key}.
kc() {
  local name=$1
  shift
  timeout 60 "$KUBECTL_BIN" --kubeconfig /dev/null --cache-dir "$TEST_TMP/kubectl-cache-$name" --server "$BASE" \
    --certificate-authority "$TEST_TMP/ca.crt" --client-certificate "$TLS/$name.crt" --client-key "$TLS/$name.key" "$@" </dev/null
}
expect "the controller manager's certificate authenticates as itself" 'system:kube-controller-manager' -- kc client-controller auth whoami
expect_exact "…and RBAC's role bounds it: no pods created" "no" -- bash -c "$(declare -f kc); TLS=$TLS BASE=$BASE TEST_TMP=$TEST_TMP KUBECTL_BIN=$KUBECTL_BIN kc client-controller auth can-i create pods || true"
expect_exact "the scheduler may bind pods" "yes" -- kc client-scheduler auth can-i create pods --subresource=binding
expect_exact "kube-proxy may list endpointslices" "yes" -- kc client-kube-proxy auth can-i list endpointslices.discovery.k8s.io

# --- TLS versions: 1.0 and 1.1 refused (the client offers them with SECLEVEL=0), 1.2 and 1.3 spoken
KUBELET_PORT=$(grep -o 'kubelet server listening on port [0-9]*' "$TEST_TMP/kite.log" | grep -o '[0-9]*$' | head -1)
handshake() {  # PORT VERSION-FLAG [extra s_client args]
  local port=$1 v=$2
  shift 2
  timeout 10 openssl s_client -connect "127.0.0.1:$port" "$v" -cipher 'DEFAULT:@SECLEVEL=0' "$@" </dev/null 2>&1
}
for port_name in "$API_PORT:API" "$KUBELET_PORT:kubelet" "$ETCD_PORT:etcd"; do
  port=${port_name%%:*} name=${port_name#*:}
  extra=()
  [[ $name == etcd ]] && extra=(-alpn h2 -cert "$TLS/etcd/client.crt" -key "$TLS/etcd/client.key")
  for v in -tls1 -tls1_1; do
    expect_fail "$name port refuses ${v#-}" 'alert|error|errno|no protocols|handshake failure' -- \
      bash -c "$(declare -f handshake); out=\$(handshake $port $v ${extra[*]}); echo \"\$out\"; grep -q 'Cipher is (NONE)\|:error:\|alert' <<<\"\$out\" && exit 1 || exit 0"
  done
  expect "$name port speaks TLS 1.2" 'Protocol *: TLSv1.2|New, TLSv1.2' -- handshake "$port" -tls1_2 "${extra[@]}"
  expect "$name port speaks TLS 1.3" 'TLSv1.3' -- handshake "$port" -tls1_3 "${extra[@]}"
done

# --- the etcd endpoint off the loopback: TLS with client certificates of its own CA
e() { timeout 20 "$ETCDCTL" --endpoints "https://127.0.0.1:$ETCD_PORT" --dial-timeout 3s --command-timeout 5s "$@"; }
expect "etcdctl with the etcd CA's client certificate reads the datastore" '/registry/' -- \
  e --cacert "$TLS/etcd/server-ca.crt" --cert "$TLS/etcd/client.crt" --key "$TLS/etcd/client.key" get /registry/ --prefix --keys-only --limit 1
expect_fail "etcdctl without a client certificate is refused" '.' -- e --cacert "$TLS/etcd/server-ca.crt" get /registry/ --prefix --keys-only --limit 1
expect_fail "a Kubernetes client certificate is no key to etcd" '.' -- \
  e --cacert "$TLS/etcd/server-ca.crt" --cert "$TLS/client-admin.crt" --key "$TLS/client-admin.key" get /registry/ --prefix --keys-only --limit 1
expect_fail "plaintext gRPC is refused" '.' -- timeout 20 "$ETCDCTL" --endpoints "http://127.0.0.1:$ETCD_PORT" --dial-timeout 3s --command-timeout 5s get / --prefix --limit 1

# --- the CSR API
# csr NAME SIGNER USAGES SUBJ [SAN] [EXPIRATION] — a CertificateSigningRequest manifest for a new key.
csr() {
  local name=$1 signer=$2 usages=$3 subj=$4 san=${5:-} exp=${6:-}
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TEST_TMP/$name.key" -subj "$subj" \
    ${san:+-addext "subjectAltName=$san"} -out "$TEST_TMP/$name.csr" 2>/dev/null
  printf 'apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata:\n  name: %s\nspec:\n  request: %s\n  signerName: %s\n  usages: [%s]\n' \
    "$name" "$(base64 -w0 "$TEST_TMP/$name.csr")" "$signer" "$usages"
  [[ -n $exp ]] && printf '  expirationSeconds: %s\n' "$exp"
  return 0
}
csr jane kubernetes.io/kube-apiserver-client '"digital signature", "client auth"' '/O=devs/CN=jane' '' 86400 >"$TEST_TMP/jane.yaml"
expect "a CSR is created" 'created' -- k create -f "$TEST_TMP/jane.yaml"
expect "kubectl get csr: upstream's columns" '^NAME +AGE +SIGNERNAME +REQUESTOR +REQUESTEDDURATION +CONDITION' -- k get csr jane
expect "…the requestor, duration and Pending" 'jane +[0-9]+s +kubernetes.io/kube-apiserver-client +system:admin +24h +Pending' -- k get csr jane
expect "the requester is recorded by the server" 'system:masters' -- k get csr jane -o 'jsonpath={.spec.groups}'
expect "kubectl certificate approve" 'approved' -- k certificate approve jane
eventually "the signer issues it" 'Approved,Issued' 20 -- k get csr jane
k get csr jane -o 'jsonpath={.status.certificate}' | base64 -d >"$TEST_TMP/jane.crt"
expect "issued for the requested subject" 'O ?= ?devs.*CN ?= ?jane' -- subject "$TEST_TMP/jane.crt"
expect "…by the client CA" 'OK' -- openssl verify -CAfile "$TLS/client-ca.crt" "$TEST_TMP/jane.crt"
expect_fail "…for the requested day, not a year" 'will expire' -- openssl x509 -noout -checkend $((2 * 86400)) -in "$TEST_TMP/jane.crt"
expect "the issued certificate authenticates jane in devs" 'jane' -- \
  timeout 60 "$KUBECTL_BIN" --kubeconfig /dev/null --server "$BASE" --certificate-authority "$TEST_TMP/ca.crt" \
  --client-certificate "$TEST_TMP/jane.crt" --client-key "$TEST_TMP/jane.key" auth whoami
csr bob kubernetes.io/kube-apiserver-client '"client auth"' '/CN=bob' >"$TEST_TMP/bob.yaml"
k create -f "$TEST_TMP/bob.yaml" >/dev/null
expect "kubectl certificate deny" 'denied' -- k certificate deny bob
expect "a denied request stays unissued" 'Denied$' -- k get csr bob
expect_fail "approving needs the approve verb on the signer" 'forbidden' -- k certificate approve bob --as=someone
csr root kubernetes.io/kube-apiserver-client '"client auth"' '/O=system:masters/CN=root' >"$TEST_TMP/root.yaml"
expect_fail "no system:masters certificate through kube-apiserver-client" 'system:masters group is not allowed' -- k create -f "$TEST_TMP/root.yaml"
printf 'apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\nmetadata:\n  name: bad\nspec:\n  request: %s\n  signerName: kubernetes.io/kube-apiserver-client\n  usages: ["client auth", "flying"]\n  expirationSeconds: 599\n' \
  "$(printf 'not a pem' | base64 -w0)" >"$TEST_TMP/bad.yaml"
expect_fail "validation: the request must be a CSR" 'spec.request: Invalid value.*PEM block type must be CERTIFICATE REQUEST' -- k create -f "$TEST_TMP/bad.yaml"
expect_fail "validation: usages are upstream's" 'spec.usages\[1\]: Unsupported value: "flying"' -- k create -f "$TEST_TMP/bad.yaml"
expect_fail "validation: at least ten minutes" 'spec.expirationSeconds: Invalid value: 599' -- k create -f "$TEST_TMP/bad.yaml"

# A node asking for its own client certificate is approved and issued by the controllers.
as_node=(--as "system:node:$NODE" --as-group system:nodes --as-group system:authenticated)
csr node-self kubernetes.io/kube-apiserver-client-kubelet '"digital signature", "client auth"' "/O=system:nodes/CN=system:node:$NODE" >"$TEST_TMP/node-self.yaml"
expect "a node creates a CSR for itself" 'created' -- k create -f "$TEST_TMP/node-self.yaml" "${as_node[@]}"
csr node-other kubernetes.io/kube-apiserver-client-kubelet '"digital signature", "client auth"' '/O=system:nodes/CN=system:node:elsewhere' >"$TEST_TMP/node-other.yaml"
k create -f "$TEST_TMP/node-other.yaml" "${as_node[@]}" >/dev/null
eventually "its own client certificate is auto-approved and issued" 'Approved,Issued' 20 -- k get csr node-self
expect "…with upstream's reason" 'AutoApproved' -- k get csr node-self -o 'jsonpath={.status.conditions[0].reason}'
expect "another node's client certificate waits for an admin" 'Pending$' -- k get csr node-other
csr serving kubernetes.io/kubelet-serving '"digital signature", "server auth"' "/O=system:nodes/CN=system:node:$NODE" "DNS:$NODE,IP:10.0.0.7" >"$TEST_TMP/serving.yaml"
k create -f "$TEST_TMP/serving.yaml" "${as_node[@]}" >/dev/null
expect "kubelet serving certificates are not auto-approved" 'Pending$' -- k get csr serving
k certificate approve serving >/dev/null
eventually "an approved serving certificate is issued" 'Approved,Issued' 20 -- k get csr serving
k get csr serving -o 'jsonpath={.status.certificate}' | base64 -d >"$TEST_TMP/serving.crt"
expect "…by the server CA, with its SANs" 'OK' -- openssl verify -CAfile "$TLS/server-ca.crt" "$TEST_TMP/serving.crt"
expect "…server auth only" 'TLS Web Server Authentication' -- openssl x509 -noout -ext extendedKeyUsage -in "$TEST_TMP/serving.crt"
csr bad-serving kubernetes.io/kubelet-serving '"server auth"' '/CN=not-a-node' 'DNS:x' >"$TEST_TMP/bad-serving.yaml"
k create -f "$TEST_TMP/bad-serving.yaml" >/dev/null
k certificate approve bad-serving >/dev/null
eventually "a request the signer refuses is Failed" 'Approved,Failed' 20 -- k get csr bad-serving

# --- renewal at start: a leaf with fewer than 90 days left is re-issued, others are kept
stop_api() {
  kill -TERM "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  rm -f "$TEST_TMP/kubeconfig"
}
stop_api
openssl req -new -key "$TLS/client-controller.key" -subj '/CN=system:kube-controller-manager' -out "$TEST_TMP/short.csr" 2>/dev/null
openssl x509 -req -in "$TEST_TMP/short.csr" -CA "$TLS/client-ca.crt" -CAkey "$TLS/client-ca.key" -CAcreateserial \
  -days 30 -out "$TLS/client-controller.crt" 2>/dev/null
cp "$TLS/client-scheduler.crt" "$TEST_TMP/scheduler-before.crt"
cp "$TLS/client-ca.crt" "$TEST_TMP/client-ca-before.crt"
start_kite_api
expect "a certificate expiring within 90 days is renewed at restart" 'will not expire' -- \
  openssl x509 -noout -checkend $((300 * 86400)) -in "$TLS/client-controller.crt"
expect_exact "one with a year left is kept" "" -- cmp "$TLS/client-scheduler.crt" "$TEST_TMP/scheduler-before.crt"
expect_exact "the CA is kept" "" -- cmp "$TLS/client-ca.crt" "$TEST_TMP/client-ca-before.crt"

# --- kite-server certificate rotate (server stopped)
cp "$TLS/client-admin.crt" "$TEST_TMP/admin-before.crt"
stop_api
expect "certificate rotate --service admin" 'removed .*client-admin.crt' -- \
  "$KITE_SERVER" certificate rotate --data-dir "$TEST_TMP/kite-data" --service admin
expect "…keeps a backup" 'client-admin.crt' -- bash -c "ls $TEST_TMP/kite-data/server/tls-*/"
expect_fail "an unknown service is refused" 'unknown service' -- "$KITE_SERVER" certificate rotate --data-dir "$TEST_TMP/kite-data" --service nope
start_kite_api
expect_fail "the admin certificate is new after rotate" '.' -- cmp "$TLS/client-admin.crt" "$TEST_TMP/admin-before.crt"
expect "kubectl works with the new admin kubeconfig" 'system:admin' -- k auth whoami
stop_api

# --- CAs supplied by the user in <data-dir>/server/tls before the first start
USER_TLS=$TEST_TMP/user-data/server/tls
mkdir -p "$USER_TLS"
for ca in server-ca client-ca; do
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$USER_TLS/$ca.key" -out "$USER_TLS/$ca.crt" \
    -days 3650 -subj "/CN=my-own-$ca" -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,digitalSignature 2>/dev/null
done
KITE_EMBEDDED_AGENT=
KITE_ARGS=(--disable-scheduler)
start_kite_api user
expect "the serving certificate is signed by the user's server CA" 'OK' -- \
  openssl verify -CAfile "$USER_TLS/server-ca.crt" "$USER_TLS/serving-kube-apiserver.crt"
expect "the admin certificate by the user's client CA" 'OK' -- openssl verify -CAfile "$USER_TLS/client-ca.crt" "$USER_TLS/client-admin.crt"
expect "kubectl works against it" 'system:admin' -- k auth whoami

finish
