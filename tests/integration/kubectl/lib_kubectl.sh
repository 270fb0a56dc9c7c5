# Helpers for the kubectl suites (sourced after ../lib.sh): one kite-server with the Kubernetes
# API on a free port, an admin kubeconfig in the test directory, and the real kubectl with a
# fresh --cache-dir. Cases print "ok"/"not ok" lines; the script ends with "N passed, N failed"
# and fails when any case failed.
KUBECTL_BIN=${KUBECTL:-kubectl}
PASSED=0
FAILED=0

# The embedded agent is off (these suites test the API server) unless KITE_EMBEDDED_AGENT=1.
start_kite_api() {
  local name=${1:-kite}
  local agent_flag=--disable-agent
  [[ -n ${KITE_EMBEDDED_AGENT:-} ]] && agent_flag=
  require_tool "$KITE_SERVER"
  require_tool "$KUBECTL_BIN"
  local attempt
  for attempt in 1 2 3; do
    API_PORT=$(free_port)
    PORT=$(free_port)
    MPORT=$(free_port)
    echo "{}" >"$TEST_TMP/empty-config.yaml"
    # An earlier server's kubeconfig would pass the readiness check below against that server.
    rm -f "$TEST_TMP/kubeconfig"
    _spawn "$TEST_TMP/$name.log" "$KITE_SERVER" --config "$TEST_TMP/empty-config.yaml" --data-dir "$TEST_TMP/$name-data" \
      --etcd-listen "127.0.0.1:$PORT" --metrics-listen "127.0.0.1:$MPORT" --bind-address 127.0.0.1 \
      --https-listen-port "$API_PORT" --write-kubeconfig "$TEST_TMP/kubeconfig" $agent_flag "${KITE_ARGS[@]}"
    SERVER_PID=$LAST_PID
    local deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      [[ -s $TEST_TMP/kubeconfig ]] && k get --raw /readyz >/dev/null 2>&1 && return 0
      sleep 0.1
    done
    if grep -qi 'address already in use' "$TEST_TMP/$name.log"; then
      rm -rf "$TEST_TMP/$name-data" "$TEST_TMP/kubeconfig"
      continue
    fi
    break
  done
  fail "kite-server did not become ready"
}

# admin_cert_files [KUBECONFIG] — the admin kubeconfig's CA, client certificate and key as files
# $TEST_TMP/ca.crt, client.crt, client.key (for curl and raw clients); BASE is the API's URL.
admin_cert_files() {
  local kc=${1:-$TEST_TMP/kubeconfig} f
  for f in certificate-authority-data:ca.crt client-certificate-data:client.crt client-key-data:client.key; do
    grep -m1 "${f%%:*}:" "$kc" | awk '{print $2}' | base64 -d >"$TEST_TMP/${f##*:}"
  done
  BASE="https://127.0.0.1:$API_PORT"
}

# admin_curl MAX_TIME METHOD PATH CONTENT-TYPE BODY-FILE — the raw request as the admin (after
# admin_cert_files); the body lands in $TEST_TMP/resp, the HTTP code in $TEST_TMP/code.
admin_curl() {
  local max=$1 method=$2 path=$3 type=$4 body=$5
  "${CURL:-curl}" -sS --max-time "$max" --cacert "$TEST_TMP/ca.crt" --cert "$TEST_TMP/client.crt" \
    --key "$TEST_TMP/client.key" -X "$method" -H "Content-Type: $type" --data-binary "@$body" \
    -o "$TEST_TMP/resp" -w '%{http_code}' "$BASE$path" >"$TEST_TMP/code"
}

# k ARGS... — kubectl against the test server, bounded, never reading the terminal.
k() {
  timeout 60 "$KUBECTL_BIN" --kubeconfig "$TEST_TMP/kubeconfig" --cache-dir "$TEST_TMP/kubectl-cache" "$@" </dev/null
}

_report() {
  local status=$1 name=$2 detail=${3:-}
  if [[ $status == ok ]]; then
    PASSED=$((PASSED + 1))
    echo "ok - $name"
  else
    FAILED=$((FAILED + 1))
    echo "not ok - $name"
    [[ -n $detail ]] && printf '%s\n' "$detail" | sed 's/^/#   /'
  fi
}

# expect NAME REGEX -- CMD...: CMD succeeds and its stdout+stderr matches REGEX (grep -E, multi-line
# output matched line by line unless REGEX spans lines via multiple expect calls).
expect() {
  local name=$1 re=$2
  shift 3
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [[ $rc -eq 0 ]] && grep -Eq -- "$re" <<<"$out"; then
    _report ok "$name"
  else
    _report fail "$name" "exit $rc; wanted /$re/; got:
$out"
  fi
}

# expect_exact NAME EXPECTED -- CMD...: stdout (trailing spaces trimmed) equals EXPECTED exactly.
expect_exact() {
  local name=$1 want=$2
  shift 3
  local out rc=0
  out=$("$@" 2>&1 | sed 's/[[:space:]]*$//') || rc=$?
  if [[ $out == "$want" ]]; then
    _report ok "$name"
  else
    _report fail "$name" "wanted:
$want
got:
$out"
  fi
}

# expect_fail NAME REGEX -- CMD...: CMD fails and its output matches REGEX.
expect_fail() {
  local name=$1 re=$2
  shift 3
  local out rc=0
  out=$("$@" 2>&1) || rc=$?
  if [[ $rc -ne 0 ]] && grep -Eq -- "$re" <<<"$out"; then
    _report ok "$name"
  else
    _report fail "$name" "exit $rc (wanted failure); wanted /$re/; got:
$out"
  fi
}

# eventually NAME REGEX SECONDS -- CMD...: CMD's output matches REGEX within SECONDS (retried
# every 0.2 s), for state that controllers reach asynchronously.
eventually() {
  local name=$1 re=$2 secs=$3
  shift 4
  local out rc deadline=$((SECONDS + secs))
  while :; do
    rc=0
    out=$("$@" 2>&1) || rc=$?
    if [[ $rc -eq 0 ]] && grep -Eq -- "$re" <<<"$out"; then
      _report ok "$name"
      return 0
    fi
    ((SECONDS < deadline)) || break
    sleep 0.2
  done
  _report fail "$name" "not within ${secs}s: exit $rc; wanted /$re/; last got:
$out"
}

finish() {
  echo "$PASSED passed, $FAILED failed"
  [[ $FAILED -eq 0 ]] || exit 1
}
