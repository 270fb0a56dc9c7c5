# A fake kubelet for the metrics server's tests (sourced after lib_kubectl.sh, once kite-server
# runs): ../fake_kubelet.py on a free port with a serving certificate for 127.0.0.1 signed by
# the cluster's server CA, asking for client certificates of its client CA, serving the load in
# $TEST_TMP/load.json (write it before the first scrape; edit it to change the load).
# start_fake_kubelet NODE creates Node NODE pointing at it (InternalIP 127.0.0.1, its port,
# 2 CPUs and 4Gi allocatable).
start_fake_kubelet() {
  local node=$1 tls=$TEST_TMP/kite-data/server/tls
  require_tool python3
  require_tool openssl
  openssl req -new -newkey rsa:2048 -nodes -subj "/CN=$node" -keyout "$TEST_TMP/kubelet.key" \
    -out "$TEST_TMP/kubelet.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$TEST_TMP/kubelet.ext"
  openssl x509 -req -in "$TEST_TMP/kubelet.csr" -CA "$tls/server-ca.crt" -CAkey "$tls/server-ca.key" -CAcreateserial \
    -days 2 -extfile "$TEST_TMP/kubelet.ext" -out "$TEST_TMP/kubelet.crt" 2>/dev/null
  [[ -f $TEST_TMP/load.json ]] || echo '{}' >"$TEST_TMP/load.json"
  KUBELET_PORT=$(free_port)
  _spawn "$TEST_TMP/fake-kubelet.log" python3 "$HERE/fake_kubelet.py" --port "$KUBELET_PORT" \
    --cert "$TEST_TMP/kubelet.crt" --key "$TEST_TMP/kubelet.key" --client-ca "$tls/client-ca.crt" \
    --load "$TEST_TMP/load.json"
  wait_for_file_match "$TEST_TMP/fake-kubelet.log" '^listening' 20 || fail "the fake kubelet did not start"
  printf 'apiVersion: v1\nkind: Node\nmetadata: {name: %s, labels: {tier: edge}}\n' "$node" >"$TEST_TMP/node.yaml"
  k apply -f "$TEST_TMP/node.yaml" >/dev/null
  k patch node "$node" --subresource=status --type=merge -p "{\"status\":{\"addresses\":[{\"type\":\"InternalIP\",
    \"address\":\"127.0.0.1\"}],\"daemonEndpoints\":{\"kubeletEndpoint\":{\"Port\":$KUBELET_PORT}},
    \"capacity\":{\"cpu\":\"2\",\"memory\":\"4Gi\"},\"allocatable\":{\"cpu\":\"2\",\"memory\":\"4Gi\"}}}" >/dev/null
}
