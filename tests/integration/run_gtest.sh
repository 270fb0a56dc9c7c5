#!/usr/bin/env bash
# Runs a GoogleTest program of etcd expectations against a fresh server:
#   run_gtest.sh kite|etcd PROGRAM [gtest flags...]
# The program finds the server through KITE_ETCD_ENDPOINT (host:port).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

KIND=${1:?usage: run_gtest.sh kite|etcd PROGRAM}
PROGRAM=${2:?usage: run_gtest.sh kite|etcd PROGRAM}
shift 2
require_tool "$PROGRAM"
require_tool "$ETCDCTL"
[[ $KIND == kite ]] && require_tool "$KITE_SERVER"
[[ $KIND == etcd ]] && require_tool "$ETCD"

start_ready "$KIND" "$KIND" "$TEST_TMP/data"
pid=$SERVER_PID

log "$(basename "$PROGRAM") against $KIND at $EP"
rc=0
KITE_ETCD_ENDPOINT="$EP" timeout -k 5 100 "$PROGRAM" --gtest_color=no "$@" </dev/null || rc=$?
kill -0 "$pid" 2>/dev/null || fail "$KIND exited during the test"
wait_ready "$pid" "$EP" 10
exit $rc
