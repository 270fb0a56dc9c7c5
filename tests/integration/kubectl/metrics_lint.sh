#!/usr/bin/env bash
# metrics_lint (issue 18): kite-server's Prometheus text passes `promtool check metrics` with
# nothing reported, on the plain --metrics-listen port and on the API server's /metrics (6443),
# after traffic that makes every lazily created family appear (API requests, an etcd watch);
# both carry the standard process_* metrics with this process's values; the API server's
# /metrics is authorized as upstream's (system:masters here; 403 for another user, 401 without
# credentials).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$HERE/lib.sh"
source "$HERE/kubectl/lib_kubectl.sh"

PROMTOOL=${PROMTOOL:-promtool}
require_tool "$PROMTOOL"
require_tool "${CURL:-curl}"
require_tool "$ETCDCTL"

printf '%s\n' 'bob-token,bob,1001,devs' >"$TEST_TMP/tokens.csv"
KITE_ARGS=(--token-auth-file "$TEST_TMP/tokens.csv")
start_kite_api
admin_cert_files

# Traffic: creates, lists, a watch through the API, and an etcd watch stream held open.
k create namespace lint >/dev/null
k -n lint create configmap c --from-literal=a=b >/dev/null
k get pods -A >/dev/null
timeout 2 "$KUBECTL_BIN" --kubeconfig "$TEST_TMP/kubeconfig" --cache-dir "$TEST_TMP/kubectl-cache" \
  -n lint get configmaps --watch >/dev/null 2>&1 </dev/null || true
"$ETCDCTL" --endpoints "127.0.0.1:$PORT" watch --prefix /lint >/dev/null 2>&1 &
track_bg $!
"$ETCDCTL" --endpoints "127.0.0.1:$PORT" put /lint/a 1 >/dev/null

scrape_plain() { "${CURL:-curl}" -sS --max-time 10 -o "$TEST_TMP/plain.txt" -w '%{http_code}' "http://127.0.0.1:$MPORT/metrics"; }
scrape_secure() {
  "${CURL:-curl}" -sS --max-time 10 --cacert "$TEST_TMP/ca.crt" "$@" -o "$TEST_TMP/secure.txt" -w '%{http_code}' \
    "$BASE/metrics"
}

# The watch stream's gauge appears once the etcd watch is registered.
deadline=$((SECONDS + 20))
until [[ $(scrape_plain) == 200 ]] && grep -q '^etcd_debugging_mvcc_watch_stream ' "$TEST_TMP/plain.txt"; do
  ((SECONDS < deadline)) || fail "the etcd watch stream never showed in /metrics"
  sleep 0.2
done

lint() {  # lint NAME FILE: promtool reads the text and reports nothing
  local name=$1 file=$2 out rc=0
  out=$("$PROMTOOL" check metrics <"$file" 2>&1) || rc=$?
  if [[ $rc -eq 0 && -z $out ]]; then
    _report ok "$name"
  else
    _report fail "$name" "promtool exit $rc: $out"
  fi
}
process_metrics() {  # process_metrics NAME FILE: the standard process_* families, sane values
  local name=$1 file=$2 pid_start now
  local missing=""
  for m in process_cpu_seconds_total process_resident_memory_bytes process_virtual_memory_bytes \
    process_open_fds process_max_fds process_start_time_seconds; do
    grep -Eq "^$m [0-9.e+]+$" "$file" || missing+=" $m"
  done
  # The start time is kite-server's: within a minute of when ps says it started.
  pid_start=$(date -d "$(ps -o lstart= -p "$SERVER_PID")" +%s)
  local reported
  reported=$(awk '$1 == "process_start_time_seconds" {printf "%d", $2}' "$file")
  if [[ -z $missing ]] && ((reported >= pid_start - 60 && reported <= pid_start + 60)); then
    _report ok "$name"
  else
    _report fail "$name" "missing:$missing; start time $reported vs ps $pid_start"
  fi
}

lint "promtool: --metrics-listen /metrics reports nothing" "$TEST_TMP/plain.txt"
process_metrics "process_* on --metrics-listen" "$TEST_TMP/plain.txt"

code=$(scrape_secure --cert "$TEST_TMP/client.crt" --key "$TEST_TMP/client.key")
[[ $code == 200 ]] || fail "the admin's GET /metrics on the API port answered $code"
lint "promtool: the API server's /metrics reports nothing" "$TEST_TMP/secure.txt"
process_metrics "process_* on the API server's /metrics" "$TEST_TMP/secure.txt"
expect "the API server's /metrics counts API requests" '^apiserver_request_total\{' -- cat "$TEST_TMP/secure.txt"

expect_exact "another user may not read /metrics (403)" 403 -- scrape_secure -H "Authorization: Bearer bob-token"
expect "… and is told so as upstream words it" 'forbidden: User \\"bob\\" cannot get path \\"/metrics\\"' -- \
  cat "$TEST_TMP/secure.txt"
expect_exact "without credentials: 401" 401 -- scrape_secure
finish
