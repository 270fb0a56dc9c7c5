#!/usr/bin/env bash
# The HTTPS transport and start-up under hostile or unlucky conditions (issue 15, items 4, 5, 8,
# 9 and 12): TLS offers only AEAD suites on 1.2+, oversized URLs and headers get 414/431
# Statuses, a slowloris connection is closed after the header timeout, requests beyond
# --max-requests-inflight get 429 with Retry-After (system:masters never does), connections
# beyond the limit are refused while the server stays up, anything a handler throws ends that
# request with a 500, and a taken port ends start-up with one line and exit 1.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
require_tool openssl
require_tool prlimit
RAW="python3 $HERE/raw_tls.py"

echo "tok-robust,robust-user,u-1," >"$TEST_TMP/tokens.csv"
export KITE_FAULT_INJECTION=1
KITE_ARGS=(--token-auth-file "$TEST_TMP/tokens.csv" --authorization-mode AlwaysAllow
  --max-requests-inflight 4 --max-mutating-requests-inflight 2 --disable-controller-manager --disable-scheduler)
start_kite_api
unset KITE_FAULT_INJECTION

admin_cert_files
ADMIN=("$TEST_TMP/ca.crt" "$TEST_TMP/client.crt" "$TEST_TMP/client.key")

# The slowloris case takes the header timeout (32 s): it runs beside the others.
$RAW "$API_PORT" "${ADMIN[@]}" slowloris 60 >"$TEST_TMP/slowloris" 2>&1 &
SLOW_PID=$!
track_bg $SLOW_PID

# --- TLS: 1.2 and 1.3 with AEAD suites only -------------------------------------------------
handshake() { timeout 10 openssl s_client -connect "127.0.0.1:$API_PORT" "$@" </dev/null >/dev/null 2>&1 && echo ok || echo refused; }
expect_exact "TLS 1.3 handshake works" "ok" -- handshake -tls1_3
expect_exact "TLS 1.2 with AES-GCM works" "ok" -- handshake -tls1_2 -cipher 'ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256'
expect_exact "TLS 1.2 with CBC suites only is refused" "refused" -- handshake -tls1_2 -cipher 'ALL:!AESGCM:!CHACHA20:@SECLEVEL=0'
expect_exact "TLS 1.1 is refused" "refused" -- handshake -tls1_1 -cipher 'ALL:@SECLEVEL=0'
expect_exact "TLS 1.0 is refused" "refused" -- handshake -tls1 -cipher 'ALL:@SECLEVEL=0'

# --- Oversized request line and headers: a Status, not a dropped connection ------------------
expect_exact "a 20 KB URL is served (under Go's 1 MiB header limit)" "200" -- \
  bash -c "$RAW $API_PORT ${ADMIN[*]} request-line-size 20000 | cut -d' ' -f1"
expect_exact "a 2 MB URL is 414 with a Status" "414 RequestURITooLong" -- $RAW "$API_PORT" "${ADMIN[@]}" request-line-size 2000000
expect_exact "a 2 MB header is 431 with a Status" "431 RequestHeaderFieldsTooLarge" -- $RAW "$API_PORT" "${ADMIN[@]}" header-size 2000000
expect "the server still answers after them" "kube-system" -- k get ns

# --- Exceptions inside a handler ---------------------------------------------------------------
expect_exact "std::bad_alloc in a handler is a 500 Status" "500 InternalError" -- $RAW "$API_PORT" "${ADMIN[@]}" fault bad_alloc
expect_exact "an exception in a handler is a 500 Status" "500 InternalError" -- $RAW "$API_PORT" "${ADMIN[@]}" fault exception
expect "the server still answers after them" "kube-system" -- k get ns
expect "the failure is logged" "handler threw on GET /api/v1/namespaces: out of memory" -- cat "$TEST_TMP/kite.log"

# --- Max in flight: 429 + Retry-After for the excess, never for system:masters -----------------
# 400 ConfigMaps: a LIST of them takes 4 of the 4 read-only seats once the object counts refresh.
python3 - "$TEST_TMP/cms.yaml" <<'EOF'
import json, sys
items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "namespace": "default"},
          "data": {"k": "v" * 2000}} for i in range(400)]
# One document per object: kubectl validates a `kind: List` against /openapi/v2, which kite
# does not serve (it serves v3).
with open(sys.argv[1], "w") as f:
    for item in items:
        f.write("---\n" + json.dumps(item) + "\n")
EOF
expect "400 ConfigMaps are created" "created" -- k create -f "$TEST_TMP/cms.yaml"
sleep 11 # apiserver_storage_objects (and the LIST width) are recounted every 10 s
burst=$($RAW "$API_PORT" "$TEST_TMP/ca.crt" - - burst 200 /api/v1/namespaces/default/configmaps tok-robust)
log "burst of 200 LISTs as robust-user: $burst"
expect "LISTs beyond the limit get 429 (reason TooManyRequests, Retry-After: 1), the rest 200, nothing else" \
  "^200=[0-9]+ 429=[0-9]+ TooManyRequests/1$" -- echo "$burst"
expect "kubectl (system:masters) is served while it happens" "kube-system" -- k get ns
masters=$($RAW "$API_PORT" "${ADMIN[@]}" burst 100 /api/v1/namespaces/default/configmaps -)
log "burst of 100 LISTs as system:masters: $masters"
expect_exact "system:masters never gets a 429" "200=100" -- bash -c "echo '$masters' | awk '{print \$1}'"
expect "apiserver_current_inflight_requests is exported" 'apiserver_current_inflight_requests\{request_kind="readOnly"\}' -- \
  curl -sS "http://127.0.0.1:$MPORT/metrics"

# --- Slowloris -------------------------------------------------------------------------------
wait $SLOW_PID || true
slow=$(cat "$TEST_TMP/slowloris")
expect "a connection sending its headers a byte a second is closed after the 32 s header timeout" \
  "^(3[0-9]|4[0-5])$" -- echo "$slow"

# --- Connections beyond the limit -----------------------------------------------------------
# A second server whose open-file limit is 200: it holds at most 150 connections.
API_PORT2=$(free_port)
_spawn "$TEST_TMP/capped.log" prlimit --nofile=200:200 "$KITE_SERVER" --config "$TEST_TMP/empty-config.yaml" \
  --data-dir "$TEST_TMP/capped-data" --etcd-listen "127.0.0.1:$(free_port)" --metrics-listen "127.0.0.1:$(free_port)" \
  --bind-address 127.0.0.1 --https-listen-port "$API_PORT2" --write-kubeconfig "$TEST_TMP/kubeconfig2" \
  --disable-controller-manager --disable-scheduler --disable-agent
CAPPED_PID=$LAST_PID
for _ in $(seq 1 100); do
  [[ -s $TEST_TMP/kubeconfig2 ]] && k --kubeconfig "$TEST_TMP/kubeconfig2" get --raw /readyz >/dev/null 2>&1 && break
  sleep 0.1
done
grep -m1 certificate-authority-data: "$TEST_TMP/kubeconfig2" | awk '{print $2}' | base64 -d >"$TEST_TMP/ca2.crt"
idle=$($RAW "$API_PORT2" "$TEST_TMP/ca2.crt" - - idle-connections 300 2 2>&1 || true)
log "300 idle anonymous connections to a server capped at 150: opened/refused = $idle"
expect "connections beyond the limit are refused" "^1[0-9][0-9] [1-9][0-9]*$" -- echo "$idle"
expect_exact "the capped server is still running" "running" -- bash -c "kill -0 $CAPPED_PID && echo running"
eventually "the capped server answers once they are gone" "kube-system" 20 -- \
  k --kubeconfig "$TEST_TMP/kubeconfig2" get ns

# --- A taken port: one line and exit 1, nothing started -------------------------------------
python3 -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(1); print(s.getsockname()[1], flush=True); time.sleep(120)' \
  >"$TEST_TMP/holder" &
HOLDER=$!
track_bg $HOLDER
for _ in $(seq 1 50); do [[ -s $TEST_TMP/holder ]] && break; sleep 0.1; done
TAKEN=$(cat "$TEST_TMP/holder")
start_taken() { # FLAG... — runs kite-server with the taken port in one of its listeners; prints the exit code
  local rc=0
  timeout 30 "$KITE_SERVER" --config "$TEST_TMP/empty-config.yaml" --data-dir "$TEST_TMP/taken-data-$RANDOM" \
    --bind-address 127.0.0.1 --write-kubeconfig= --disable-agent "$@" >"$TEST_TMP/taken.log" 2>&1 || rc=$?
  echo "exit $rc"
}
expect_exact "a taken metrics port: exit 1" "exit 1" -- start_taken --metrics-listen "127.0.0.1:$TAKEN" \
  --etcd-listen "127.0.0.1:$(free_port)" --https-listen-port 0
expect "... with one line naming it" "metrics endpoint: listen 127.0.0.1:$TAKEN" -- cat "$TEST_TMP/taken.log"
expect_exact "... and no abort" "0" -- bash -c "grep -c -E 'terminate called|Aborted|core dumped' '$TEST_TMP/taken.log' || true"
expect_exact "a taken etcd port: exit 1" "exit 1" -- start_taken --etcd-listen "127.0.0.1:$TAKEN" \
  --metrics-listen "127.0.0.1:$(free_port)" --https-listen-port 0
expect_exact "a taken API port: exit 1" "exit 1" -- start_taken --https-listen-port "$TAKEN" \
  --metrics-listen "127.0.0.1:$(free_port)" --etcd-listen "127.0.0.1:$(free_port)"

finish
