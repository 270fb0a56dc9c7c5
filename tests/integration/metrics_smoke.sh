#!/usr/bin/env bash
# metrics_smoke: kite-server's metrics port answers /healthz and /metrics (Prometheus text
# format with etcd_ metric names), and the server exits cleanly on SIGTERM.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

CURL=${CURL:-curl}
require_tool "$CURL"
require_tool "$ETCDCTL"
require_tool "$KITE_SERVER"

start_ready kite kite "$TEST_TMP/data"
pid=$SERVER_PID
# Some traffic first, so that request metrics have samples.
ctl "$EP" put smoke/a 1 >/dev/null
ctl "$EP" get smoke/a >/dev/null

base="http://127.0.0.1:$MPORT"
code=$("$CURL" -sS --max-time 5 -o "$TEST_TMP/healthz" -w '%{http_code}' "$base/healthz") ||
  fail "/healthz did not answer"
[[ $code == 200 ]] || fail "/healthz answered HTTP $code: $(cat "$TEST_TMP/healthz")"

"$CURL" -sS --max-time 5 -D "$TEST_TMP/headers" -o "$TEST_TMP/metrics" -w '%{http_code}' "$base/metrics" \
  >"$TEST_TMP/code" || fail "/metrics did not answer"
[[ $(cat "$TEST_TMP/code") == 200 ]] || fail "/metrics answered HTTP $(cat "$TEST_TMP/code")"
grep -iq '^content-type: text/plain' "$TEST_TMP/headers" ||
  fail "/metrics content type is not text/plain: $(grep -i '^content-type' "$TEST_TMP/headers")"
[[ -s $TEST_TMP/metrics ]] || fail "/metrics is empty"
# Prometheus text exposition: comments are '# HELP name ...' / '# TYPE name kind'; every
# other non-empty line is 'name[{labels}] value [timestamp]'.
bad=$(grep -vE '^(# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]*( .*)?|#.*|[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})? ([-+]?[0-9.]+([eE][-+]?[0-9]+)?|[-+]?Inf|NaN)( [0-9]+)?|)$' \
  "$TEST_TMP/metrics" | head -n 5 || true)
[[ -z $bad ]] || fail "/metrics has lines that are not Prometheus text format: $bad"
grep -Eq '^# TYPE [a-zA-Z_:][a-zA-Z0-9_:]* (counter|gauge|histogram|summary|untyped)$' "$TEST_TMP/metrics" ||
  fail "/metrics has no '# TYPE' line"
grep -Eq '^etcd_[a-zA-Z0-9_:]*(\{.*\})? ' "$TEST_TMP/metrics" || fail "/metrics has no etcd_ metric samples"
log "metrics: $(grep -c '^[a-z]' "$TEST_TMP/metrics") samples, $(grep -Ec '^etcd_' "$TEST_TMP/metrics") etcd_ samples"

rc=0
stop_pid "$pid" || rc=$?
((rc == 0)) || fail "kite-server did not exit cleanly on SIGTERM (status $rc)"
