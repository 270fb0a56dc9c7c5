#!/usr/bin/env bash
# crash_safety: acknowledged writes survive kill -9, and history stays whole.
#   crash_safety.sh kite | etcd
# Three cycles of: start the server on the same data dir, verify everything acknowledged so far
# (crash_checker), run 32 writer threads (crash_loader), kill -9 the server mid-load. A final
# restart is verified the same way and must then stop cleanly on SIGTERM.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

KIND=${1:?usage: crash_safety.sh kite|etcd}
CRASH_LOADER=${CRASH_LOADER:-./bin/crash_loader}
CRASH_CHECKER=${CRASH_CHECKER:-./bin/crash_checker}
CYCLES=${CRASH_CYCLES:-3}
require_tool "$CRASH_LOADER"
require_tool "$CRASH_CHECKER"
require_tool "$ETCDCTL"
[[ $KIND == kite ]] && require_tool "$KITE_SERVER"
[[ $KIND == etcd ]] && require_tool "$ETCD"

# The checker replays history from revision 2, so automatic compaction (a kite default that
# etcd does not have) is switched off; everything else runs with defaults (strict durability).
KITE_ARGS=(--compact-interval 0)
DATA="$TEST_TMP/data"
acks=()

# The first start picks the ports; restarts reuse them (a restarted etcd keeps its peer URL).
IDS=""
start() {
  if [[ -z ${PORT:-} ]]; then
    start_ready "$KIND" "$KIND" "$DATA"
    pid=$SERVER_PID
  else
    start_server "$KIND" "$KIND" "$DATA" "$PORT" "$MPORT"
    pid=$LAST_PID
    wait_ready "$pid" "$EP" 60
  fi
  # The cluster and member ids belong to the data, not to the process: stable over restarts.
  local ids
  ids=$(ctl "$EP" endpoint status -w json | grep -o '"\(cluster_id\|member_id\)":[0-9]*' | tr '\n' ' ')
  [[ $ids == *cluster_id*member_id* ]] || fail "endpoint status without ids: $ids"
  [[ -z $IDS || $ids == "$IDS" ]] || fail "ids changed over a restart: was $IDS, now $ids"
  IDS=$ids
}

check() {
  log "checking ${#acks[@]} ack file(s) against $KIND"
  timeout -k 5 150 "$CRASH_CHECKER" --endpoint "$EP" "${acks[@]}" </dev/null ||
    fail "crash_checker found violations after restart (cycle $1)"
}

for cycle in $(seq 1 "$CYCLES"); do
  start
  ((cycle > 1)) && check "$cycle"
  ackfile="$TEST_TMP/acks.$cycle"
  : >"$ackfile"
  acks+=("$ackfile")
  "$CRASH_LOADER" --endpoint "$EP" --acks "$ackfile" --cycle "$cycle" --threads 32 \
    --max-puts 400 --seconds 60 </dev/null >"$TEST_TMP/loader.$cycle.out" 2>&1 &
  loader=$!
  track_bg "$loader"
  # Kill mid-load: after 1000 acknowledged writes or 3 s, whichever comes first.
  start_s=$SECONDS
  while (($(wc -l <"$ackfile") < 1000 && SECONDS - start_s < 3)); do
    kill -0 "$loader" 2>/dev/null || break
    sleep 0.05
  done
  kill -0 "$loader" 2>/dev/null || fail "the load finished before the kill (cycle $cycle): raise --max-puts"
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  # The loader's threads stop at their first failed write; bounded by its RPC deadlines.
  timeout 60 tail --pid="$loader" -f /dev/null || fail "loader did not stop after the kill"
  wait "$loader" || fail "loader failed: $(cat "$TEST_TMP/loader.$cycle.out")"
  out=$(cat "$TEST_TMP/loader.$cycle.out")
  log "cycle $cycle: killed $KIND with -9; loader: $out"
  [[ $out =~ failed_threads=([0-9]+) ]] || fail "unexpected loader output: $out"
  ((BASH_REMATCH[1] > 0)) || fail "no write was in flight at the kill (cycle $cycle)"
  (($(wc -l <"$ackfile") > 0)) || fail "no write acknowledged in cycle $cycle"
done

start
check final
rc=0
stop_pid "$pid" || rc=$?
# kite-server exits 0 on SIGTERM; Go's etcd dies of the re-raised signal (128 + 15).
clean=0
[[ $KIND == etcd ]] && clean=143
((rc == clean)) || fail "$KIND did not exit cleanly on SIGTERM after recovery (status $rc)"
log "crash safety holds over $CYCLES kill -9 cycles ($(cat "${acks[@]}" | wc -l) acknowledged writes)"
