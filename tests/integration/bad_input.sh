#!/usr/bin/env bash
# bad_input: runs the bad_input_test GoogleTest program against a fresh server.
#   bad_input.sh kite | etcd
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

KIND=${1:?usage: bad_input.sh kite|etcd}
BAD_INPUT_TEST=${BAD_INPUT_TEST:-./bin/bad_input_test}
require_tool "$BAD_INPUT_TEST"
require_tool "$ETCDCTL"
[[ $KIND == kite ]] && require_tool "$KITE_SERVER"
[[ $KIND == etcd ]] && require_tool "$ETCD"

port=$(free_port)
mport=$(free_port)
start_server "$KIND" "$KIND" "$TEST_TMP/data" "$port" "$mport"
pid=$LAST_PID
wait_ready "$pid" "127.0.0.1:$port" 30

log "bad_input_test against $KIND at 127.0.0.1:$port"
rc=0
KITE_ETCD_ENDPOINT="127.0.0.1:$port" timeout -k 5 100 "$BAD_INPUT_TEST" --gtest_color=no </dev/null || rc=$?
kill -0 "$pid" 2>/dev/null || fail "$KIND exited during the test"
wait_ready "$pid" "127.0.0.1:$port" 10
exit $rc
