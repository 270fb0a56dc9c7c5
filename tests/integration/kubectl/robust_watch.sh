#!/usr/bin/env bash
# Watchers that never read (issue 15, item 3). With ~4 MB of ConfigMaps stored, many cluster-wide
# watches whose clients never read (lazy_watchers.py: raw TLS with the admin client certificate,
# a request and nothing more) must not take the server down: it answers kubectl meanwhile, its
# RSS stays under twice the idle figure (both printed; bench/run_watch_memory.sh measures them
# properly), and once more of their resource's events wait behind them than a watcher may fall
# behind, they are cut off: their connections end and apiserver_terminated_watchers_total counts
# them. A watcher that reads gets every ADDED and MODIFIED event all along and stays connected.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
CURL=${CURL:-curl}
require_tool "$CURL"
require_tool python3
LAZY=${LAZY_WATCHERS:-250}
KITE_ARGS=(-v 1) # the cut-off's log line
start_kite_api

admin_cert_files
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }
open_fds() { find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
terminated() {
  "$CURL" -sS --max-time 10 "http://127.0.0.1:$MPORT/metrics" |
    awk '$1 == "apiserver_terminated_watchers_total{resource=\"configmaps\"}" {print int($2)}'
}
# check NAME COMMAND...: a case that passes when COMMAND succeeds.
check() {
  local name=$1
  shift
  if "$@"; then _report ok "$name"; else _report fail "$name"; fi
}

# 100 ConfigMaps of ~40 KB each: 4 MB of state.
k create namespace big >/dev/null
python3 - "$TEST_TMP/cms.json" <<'EOF'
import json, sys
items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i:03d}", "namespace": "big"},
          "data": {"blob": (f"{i:03d}" * 13400)[:40000]}} for i in range(100)]
with open(sys.argv[1], "w") as f:
    f.write("\n".join(json.dumps(i) for i in items))
EOF
expect "100 ConfigMaps of 40 KB are created" 'configmap/cm-099 created' -- k create -f "$TEST_TMP/cms.json"
sleep 3
idle=$(rss_kib)

# A watcher that reads, from before the lazy ones come to after they are gone.
"$CURL" -sSN --cacert "$TEST_TMP/ca.crt" --cert "$TEST_TMP/client.crt" --key "$TEST_TMP/client.key" \
  "$BASE/api/v1/namespaces/big/configmaps?watch=1" >"$TEST_TMP/reader.out" 2>"$TEST_TMP/reader.err" &
reader=$!
track_bg "$reader"
# (Its lines for namespace big's kube-root-ca.crt are not counted.)
eventually "the reading watcher gets the initial state" '^100$' 30 -- grep -c '"type":"ADDED".*"name":"cm-' "$TEST_TMP/reader.out"

coproc LAZYW { python3 "$HERE/lazy_watchers.py" --port "$API_PORT" --ca "$TEST_TMP/ca.crt" \
  --cert "$TEST_TMP/client.crt" --key "$TEST_TMP/client.key" --path "/api/v1/configmaps?watch=1" --count "$LAZY" 2>&1; }
track_bg "$LAZYW_PID"
line=""
read -r -t 180 line <&"${LAZYW[0]}" || true
[[ $line == "connected $LAZY" ]] || fail "the lazy watchers did not connect: '$line'"
sleep 10 # every one of them has written what its socket takes and waits (and freed pages decayed)
busy=$(rss_kib)
log "RSS idle with 4 MB of ConfigMaps: $((idle / 1024)) MiB; with $LAZY watchers that do not read: $((busy / 1024)) MiB"
check "the server lives with $LAZY watchers that do not read" kill -0 "$SERVER_PID"
expect "kubectl get ns answers meanwhile" '^big ' -- k get ns
check "RSS with $LAZY non-reading watchers stays under twice the idle figure ($((busy / 1024)) < 2 x $((idle / 1024)) MiB)" \
  test "$busy" -lt $((2 * idle))
cut=$(terminated)
check "no watcher is cut off while no events pile up behind it" test "${cut:-0}" -eq 0

# 400 changes of ConfigMaps: more than a watcher may leave unread behind a blocked write.
fds_before=$(open_fds)
for round in 1 2 3 4; do
  k label configmaps --all -n big "round=$round" --overwrite >/dev/null || fail "label round $round"
done
eventually "every lazy watcher is cut off (apiserver_terminated_watchers_total)" "^$LAZY\$" 30 -- terminated
echo "ended 20 60" >&"${LAZYW[1]}"
line=""
read -r -t 90 line <&"${LAZYW[0]}" || true
check "their connections end (20 read to the end: '$line')" test "$line" = "ended 20 of 20"
fds_after=$(open_fds)
log "server file descriptors: $fds_before with the lazy watchers, $fds_after after the cut-off"
check "the server closed their connections" test "$fds_after" -lt $((fds_before - LAZY * 9 / 10))
check "the log says why" grep -q "Forcing configmaps watcher close due to unresponsiveness" "$TEST_TMP/kite.log"

eventually "the reading watcher got every MODIFIED event" '^400$' 30 -- grep -c '"type":"MODIFIED".*"name":"cm-' "$TEST_TMP/reader.out"
check "the reading watcher is still connected" kill -0 "$reader"
k label configmap cm-007 -n big last=yes >/dev/null
eventually "and still gets new events" '"last":"yes"' 20 -- cat "$TEST_TMP/reader.out"
expect "kubectl get ns answers afterwards" '^big ' -- k get ns

# The same initial state through sendInitialEvents (client-go's watch-list), from a resourceVersion
# on: every object as ADDED, then the bookmark that ends the initial events.
watch_list() {
  "$CURL" -sSN --max-time 10 --cacert "$TEST_TMP/ca.crt" --cert "$TEST_TMP/client.crt" --key "$TEST_TMP/client.key" \
    "$BASE/api/v1/namespaces/big/configmaps?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&resourceVersion=1&timeoutSeconds=2" \
    >"$TEST_TMP/watchlist.out" || true
  echo "$(grep -c '"type":"ADDED".*"name":"cm-' "$TEST_TMP/watchlist.out") ADDED, then" \
    "$(tail -n +102 "$TEST_TMP/watchlist.out" | grep -c '"type":"BOOKMARK".*"k8s.io/initial-events-end":"true"') end bookmark"
}
expect_exact "sendInitialEvents sends the state, then the bookmark that ends it" "100 ADDED, then 1 end bookmark" -- watch_list
echo quit >&"${LAZYW[1]}" || true
finish
