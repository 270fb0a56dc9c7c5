#!/usr/bin/env bash
# etcd_compat: one deterministic etcdctl script, run against a fresh real etcd and a fresh
# kite-server side by side. The two transcripts (commands, output, exit codes) must be
# identical once the values that legitimately differ between two servers are normalised
# (see normalise()), and key lines must be present so both sides failing alike cannot pass.
#
#   etcd_compat.sh            reference etcd vs kite-server
#   etcd_compat.sh --self     reference etcd vs a second etcd (checks the test itself)
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"

SECOND=kite
[[ ${1:-} == --self ]] && SECOND=etcd
require_tool "$ETCDCTL"
require_tool "$ETCD"
[[ $SECOND == kite ]] && require_tool "$KITE_SERVER"
HISTORY_COPY=${HISTORY_COPY:-./bin/history_copy}
require_tool "$HISTORY_COPY"

# ---------------------------------------------------------------------------------------------
# Transcript recording. $T is the transcript file, $EP the endpoint; LEASE_NAMES maps lease ids
# seen on this server to stable names (<L1>, <L2>, ...) in order of grant.
declare -A LEASE_NAMES LEASE_DEC LEASE_HEX
LEASE_SEQ=0

lease_name() { echo "${LEASE_NAMES[$1]:-$1}"; }

# Echo of a command with known lease ids replaced by their names.
show_cmd() {
  local out="\$ etcdctl" a
  for a in "$@"; do
    if [[ $a == --lease=* ]]; then
      a="--lease=$(lease_name "${a#--lease=}")"
    elif [[ -z $a ]]; then
      a="''"
    elif [[ -n ${LEASE_NAMES[$a]:-} ]]; then
      a=${LEASE_NAMES[$a]}
    fi
    out+=" $a"
  done
  echo "$out"
}

# Stops the test at once if the server under test died (rather than timing out per command).
alive() {
  kill -0 "$SERVER_PID" 2>/dev/null || fail "the server under test ($EP) is not running any more"
}

# run ARGS...: runs etcdctl, appends command, stdout+stderr and exit status to the transcript.
run() {
  alive
  show_cmd "$@" >>"$T"
  local rc=0
  timeout -k 5 30 "$ETCDCTL" --endpoints="$EP" --dial-timeout=2s --command-timeout=10s "$@" \
    </dev/null >>"$T" 2>&1 || rc=$?
  printf '\n[rc=%s]\n' "$rc" >>"$T"
}

# run_stdin FILE ARGS...: as run, with FILE as standard input (txn -i).
run_stdin() {
  local in=$1
  shift
  alive
  { show_cmd "$@"; echo "<<< $(basename "$in")"; } >>"$T"
  local rc=0
  timeout -k 5 30 "$ETCDCTL" --endpoints="$EP" --dial-timeout=2s --command-timeout=10s "$@" \
    <"$in" >>"$T" 2>&1 || rc=$?
  printf '\n[rc=%s]\n' "$rc" >>"$T"
}

note() { printf '## %s\n' "$*" >>"$T"; }

# grant TTL: grants a lease, records it under the next name, sets $LEASE.
grant() {
  local out
  out=$(ctl "$EP" lease grant "$1") || fail "lease grant $1 failed on $EP: $out"
  LEASE=$(awk '$1 == "lease" { print $2 }' <<<"$out")
  [[ $LEASE =~ ^[0-9a-f]+$ ]] || fail "unexpected lease grant output: $out"
  LEASE_SEQ=$((LEASE_SEQ + 1))
  LEASE_NAMES[$LEASE]="<L$LEASE_SEQ>"
  # The decimal form (json output) of the same id.
  LEASE_DEC[$LEASE_SEQ]=$((16#$LEASE))
  LEASE_HEX[$LEASE_SEQ]=$LEASE
  printf '$ etcdctl lease grant %s\n%s\n[rc=0]\n' "$1" "lease <L$LEASE_SEQ> granted with TTL(${1}s)" >>"$T"
  # Keep etcd's exact wording under test too.
  [[ $out == "lease $LEASE granted with TTL(${1}s)" ]] || echo "UNEXPECTED GRANT OUTPUT: $out" >>"$T"
}

# Waits until a background watch's output file has LINES lines (bounded), then stops it and
# appends its output to the transcript.
wait_for_lines() {
  local file=$1 n=$2 secs=$3
  local deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    [[ -f $file ]] && (($(wc -l <"$file") >= n)) && return 0
    sleep 0.1
  done
  return 1
}
finish_watch() {
  local pid=$1 file=$2 n=$3
  if ! wait_for_lines "$file" "$n" 15; then
    echo "(watch output did not reach $n lines within 15s)" >>"$T"
  fi
  sleep 0.5 # let anything unexpected after the last awaited line arrive too
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  cat "$file" >>"$T"
  echo "[watch stopped]" >>"$T"
}

scenario() {
  local w="$WORK/watch"
  mkdir -p "$w"

  note "puts and gets (revisions B+2..B+7)"
  run put foo/a 1
  run put foo/b 2
  run put foo/c 3
  run put foo/a 11
  run put bar 9
  run put zed z
  run get foo/a
  run get foo/a -w json
  run get --prefix foo
  run get foo/a foo/c
  run get --from-key foo/b
  run get foo/a --rev $((B + 2))
  run get foo/a --rev $((B + 4)) -w json
  run get foo/c --rev $((B + 3))
  run get --prefix foo --limit 2 -w json
  run get --prefix foo --limit 2
  run get --prefix "" --keys-only
  run get --prefix foo --keys-only -w json
  run get --prefix foo --print-value-only
  run get --prefix foo --sort-by=MODIFY --order=DESCEND
  run get --prefix foo --sort-by=CREATE --order=DESCEND --limit 2
  run get --prefix foo --sort-by=VALUE --order=ASCEND
  run get --prefix foo --sort-by=VERSION --order=DESCEND --keys-only
  run get --prefix foo --sort-by=KEY --order=DESCEND
  run get --prefix "" --order=DESCEND --keys-only
  run get --consistency=s foo/b
  run get missing
  run get missing -w json
  # etcdctl 3.4 has no --count-only: the count travels in the json output with a limit.
  run get --prefix "" --limit 1 --keys-only -w json

  note "put options"
  run put foo/b 22 --prev-kv
  run put foo/b --ignore-value
  run get foo/b -w json
  run put nothere --ignore-value
  run put "" empty-key

  note "deletes"
  run del foo/c --prev-kv
  run del missing
  run get missing -w json
  run del --prefix foo
  run get --prefix foo -w json
  run put k1 v1
  run put k2 v2
  run put k3 v3
  run del --from-key k2 --prev-kv
  run get --prefix "" -w json

  note "transactions"
  local txf="$WORK/txn-ok" txf2="$WORK/txn-fail" txf3="$WORK/txn-create"
  printf '%s\n' 'value("k1") = "v1"' 'mod("bar") > "5"' '' 'put t/x 1' 'get bar' '' 'put t/y 2' '' >"$txf"
  printf '%s\n' 'version("k1") > "5"' '' 'put t/x 2' '' 'put t/y 2' 'get t/x' 'del k1' '' >"$txf2"
  printf '%s\n' 'create("t/new") = "0"' '' 'put t/new n' '' '' >"$txf3"
  run_stdin "$txf" txn -i
  run_stdin "$txf2" txn -i
  run_stdin "$txf3" txn -i -w json
  run_stdin "$txf3" txn -i -w json
  run get --prefix "" -w json

  note "watch: history, prev-kv, ranges"
  local rev
  rev=$(current_rev "$EP")
  echo "current revision: $rev" >>"$T"
  # History replay from revision 2 over the prefix (includes deletes).
  "$ETCDCTL" --endpoints="$EP" watch --prefix foo --rev $((B + 2)) </dev/null >"$w/hist" 2>&1 &
  track_bg $!
  finish_watch $! "$w/hist" 27
  "$ETCDCTL" --endpoints="$EP" watch --prev-kv --rev $((B + 2)) foo/b </dev/null >"$w/prev" 2>&1 &
  track_bg $!
  finish_watch $! "$w/prev" 18
  "$ETCDCTL" --endpoints="$EP" watch k1 k3 --rev $((B + 12)) </dev/null >"$w/range" 2>&1 &
  track_bg $!
  finish_watch $! "$w/range" 12

  note "watch: live events on a prefix, started before the writes"
  "$ETCDCTL" --endpoints="$EP" watch --prefix live/ --prev-kv --rev $((rev + 1)) </dev/null >"$w/live" 2>&1 &
  track_bg $!
  local wpid=$!
  run put live/1 one
  run put live/2 two
  run put live/1 uno
  run del --prefix live/
  finish_watch $wpid "$w/live" 21

  note "watch: progress request (interactive) reports the current revision"
  rm -f "$w/fifo"
  mkfifo "$w/fifo"
  "$ETCDCTL" --endpoints="$EP" watch -i <"$w/fifo" >"$w/progress" 2>&1 &
  track_bg $!
  local ipid=$!
  exec 7>"$w/fifo"
  echo "watch --rev $((rev + 1)) live/2" >&7
  wait_for_file_match "$w/progress" "^DELETE$" 15 || echo "(no event before progress request)" >>"$T"
  echo "progress" >&7
  wait_for_file_match "$w/progress" '^progress notify' 15 || echo "(no progress notify)" >>"$T"
  exec 7>&-
  timeout 10 tail --pid=$ipid -f /dev/null || kill $ipid 2>/dev/null || true
  wait $ipid 2>/dev/null || true
  cat "$w/progress" >>"$T"
  echo "[watch stopped]" >>"$T"

  note "leases"
  grant 60
  local l1=$LEASE
  run put lk1 v --lease="$l1"
  run put lk2 v --lease="$l1"
  run get lk1 -w json
  run lease keep-alive --once "$l1"
  run lease timetolive "$l1" --keys
  run lease timetolive "$l1" -w json
  run lease list
  run lease revoke "$l1"
  run get --prefix lk -w json
  run lease timetolive "$l1"
  run lease revoke "$l1"
  run lease keep-alive --once "$l1"
  run put lk3 v --lease=123456789
  grant 30
  local l2=$LEASE
  echo "revision before revoking a lease without keys: $(current_rev "$EP")" >>"$T"
  run lease revoke "$l2"
  echo "revision after: $(current_rev "$EP")" >>"$T"

  note "lease expiry"
  grant 2
  local l3=$LEASE
  run put ek ephemeral --lease="$l3"
  run get ek --print-value-only
  local deadline=$((SECONDS + 20)) gone=no
  while ((SECONDS < deadline)); do
    if [[ -z $(ctl "$EP" get ek --print-value-only 2>/dev/null) ]]; then
      gone=yes
      break
    fi
    sleep 0.2
  done
  echo "key attached to the 2s lease expired within 20s: $gone" >>"$T"
  run get ek -w json
  run lease timetolive "$l3"

  note "compaction"
  rev=$(current_rev "$EP")
  echo "current revision: $rev" >>"$T"
  run endpoint hashkv -w json # before any compaction etcd reports compact_revision -1
  run compaction $((B + 10))
  run get foo/a --rev $((B + 9))
  run get bar --rev $((B + 10)) -w json
  run get --prefix "" --rev $((B + 12)) --keys-only
  run compaction $((B + 8))
  run compaction $((B + 10))
  run compaction 100000
  run get bar --rev 100000
  "$ETCDCTL" --endpoints="$EP" watch --rev $((B + 2)) bar </dev/null >"$w/compacted" 2>&1 &
  track_bg $!
  local cpid=$!
  timeout 10 tail --pid=$cpid -f /dev/null || true
  kill $cpid 2>/dev/null || true
  local crc=0
  wait $cpid 2>/dev/null || crc=$?
  cat "$w/compacted" >>"$T"
  echo "[watch exit status $crc]" >>"$T"

  note "maintenance"
  run endpoint status
  run endpoint status -w json
  run endpoint health
  (cd "$WORK" && run snapshot save snap.db)
  if [[ -s $WORK/snap.db ]]; then echo "snapshot file is non-empty" >>"$T"; fi
  run get --prefix "" -w json
  run endpoint hashkv
  run endpoint hashkv -w json
  run defrag
  run alarm list
  run member list
  run member list -w json

  note "after maintenance: ranges, leases kept by --ignore-lease, physical compaction (revisions B+28..)"
  grant 100
  local l4=$LEASE
  run put m/a 1 --lease="$l4"
  run put m/a 2 --ignore-lease
  run put m/b 1
  run put m/c 1
  run get m/a -w json
  run lease timetolive "$l4" --keys
  run del m/a m/c --prev-kv
  run get --prefix m/ -w json
  run compaction --physical $((B + 29))
  run get m/a --rev $((B + 28))
  run get m/a --rev $((B + 29)) -w json
  run lease revoke "$l4"
  run get --prefix "" -w json
}

# Replaces what legitimately differs between two servers by placeholders.
normalise() {
  local sedf="$WORK/norm.sed" i
  : >"$sedf"
  for i in $(seq 1 "$LEASE_SEQ"); do
    # Lease ids are chosen by the server (etcd: member id + clock bits): name them by order.
    printf 's/lease %s /lease <L%s> /g\n' "${LEASE_HEX[$i]}" "$i" >>"$sedf"
    printf 's/^%s$/<L%s>/\n' "${LEASE_HEX[$i]}" "$i" >>"$sedf"
    printf 's/"(id|lease)":%s([,}])/"\\1":<L%s>\\2/g\n' "${LEASE_DEC[$i]}" "$i" >>"$sedf"
  done
  cat >>"$sedf" <<'EOF'
# Ports are random per run.
s/127\.0\.0\.1:[0-9]+/<endpoint>/g
# Cluster and member ids are random per cluster; raft terms and indexes count consensus
# entries, which a single-node store without raft has no reason to match.
s/"(cluster_id|member_id|leader)":[0-9]+/"\1":<id>/g
s/"(raft_term|raftTerm|raftIndex|raftAppliedIndex)":[0-9]+/"\1":<n>/g
# Version string, database size: implementation details.
s/"version":"[^"]*"/"version":<version>/g
s/"(dbSize|dbSizeInUse)":[0-9]+/"\1":<size>/g
# `endpoint status` simple output: endpoint, member id, version, db size, leader, learner,
# raft term, raft index, raft applied index, errors.
s/^(<endpoint>), [0-9a-f]+, [^,]+, [^,]+, (true|false), (true|false), [0-9]+, [0-9]+, [0-9]+, /\1, <id>, <version>, <size>, \2, \3, <n>, <n>, <n>, /
# Durations and the remaining TTL of a lease depend on timing (checked separately).
s/took = [0-9.]+[a-zµ]+/took = <duration>/g
s/"took":"[^"]*"/"took":<duration>/g
s/remaining\([0-9]+s\)/remaining(<ttl>)/g
# etcd lists a lease's keys in Go map order: put the two keys of this script in one order.
s/attached keys\(\[lk2 lk1\]\)/attached keys([lk1 lk2])/
s/"ttl":[0-9]+,"granted-ttl"/"ttl":<ttl>,"granted-ttl"/g
# Hashes of the store are implementation specific (etcd hashes its bolt pages).
s/^(<endpoint>), [0-9]+$/\1, <hash>/
s/"hash":[0-9]+/"hash":<hash>/g
# Member name and peer URLs are deployment settings (etcd: --name, peer listener).
s/^[0-9a-f]+, started, [^,]+, [^,]+, /<id>, started, <name>, <peer-urls>, /
s/"ID":[0-9]+,"name":"[^"]*","peerURLs":\[[^]]*\]/"ID":<id>,"name":<name>,"peerURLs":<peer-urls>/g
# Client-side log lines: timestamps and client instance names.
s/"ts":("[^"]*"|[0-9.e+]+),//g
s/"target":"[^"]*",//g
EOF
  # Lease list order is the server's map order: sort the id lines of `lease list` output.
  sed -E -f "$sedf" "$1" | grep -v '"level":"info"' | awk '
    /^found [0-9]+ leases$/ { print; inlist = 1; n = 0; next }
    inlist && /^<L[0-9]+>$/ { ids[n++] = $0; next }
    inlist { flush(); inlist = 0 }
    { print }
    END { flush() }
    function flush(   i, j, t) {
      for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (ids[j] < ids[i]) { t = ids[i]; ids[i] = ids[j]; ids[j] = t }
      for (i = 0; i < n; i++) print ids[i]
      n = 0
    }'
}

# Runs the scenario against one running server: run_against KIND NAME PID ENDPOINT.
run_against() {
  local kind=$1 name=$2 pid=$3
  SERVER_PID=$pid
  EP=$4
  WORK="$TEST_TMP/$name"
  mkdir -p "$WORK"
  T="$WORK/transcript.raw"
  : >"$T"
  LEASE_NAMES=()
  LEASE_SEQ=0
  LEASE_DEC=()
  LEASE_HEX=()
  log "running the etcdctl script against $name ($kind) at $EP"
  scenario
  normalise "$T" >"$TEST_TMP/$name.transcript"
  cp "$T" "$TEST_TMP/$name.raw"
  # Checks on raw values that normalisation hides.
  # 45..60 s: the script runs for seconds between grant and query, longer on a loaded machine.
  if ! grep -Eq '^lease [0-9a-f]+ granted with TTL\(60s\), remaining\((4[5-9]|5[0-9]|60)s\), attached keys\(\[(lk1 lk2|lk2 lk1)\]\)$' "$T"; then
    echo "RAW CHECK FAILED ($name): timetolive remaining not within 45..60s of 60s" >>"$TEST_TMP/$name.transcript"
  fi
  if ! grep -Eq '"member_id":([0-9]+),.*"leader":\1,' "$T"; then
    echo "RAW CHECK FAILED ($name): endpoint status leader != member_id" >>"$TEST_TMP/$name.transcript"
  fi
  # kite-server exits 0 on SIGTERM; Go's etcd dies of the re-raised signal (128 + 15).
  local rc=0 clean=0
  [[ $kind == etcd ]] && clean=143
  stop_pid "$pid" || rc=$?
  if ((rc != clean)); then
    echo "RAW CHECK FAILED ($name): exit status $rc after SIGTERM, expected $clean" >>"$TEST_TMP/$name.transcript"
  fi
}

# Both servers start fresh, side by side. kite-server may write at start (its API server
# creates the system namespaces): once its revision is stable, that history is replayed into
# the reference etcd, so both hold the same keys at the same revisions and the script's
# revisions are offset by B on both.
start_ready "$SECOND" "second-$SECOND" "$TEST_TMP/second-$SECOND/data"
SECOND_PID=$SERVER_PID SECOND_EP=$EP
prev=-1 cur=$(current_rev "$SECOND_EP") stable_since=$SECONDS deadline=$((SECONDS + 30))
while ((SECONDS - stable_since < 2)); do
  ((SECONDS < deadline)) || fail "$SECOND kept writing for 30s after start (revision $cur)"
  sleep 0.5
  prev=$cur
  cur=$(current_rev "$SECOND_EP")
  [[ $cur == "$prev" ]] || stable_since=$SECONDS
done
start_ready etcd etcd "$TEST_TMP/etcd/data"
ETCD_PID=$SERVER_PID ETCD_EP=$EP
B=$(($(timeout 60 "$HISTORY_COPY" --from "$SECOND_EP" --to "$ETCD_EP" </dev/null) - 1)) ||
  fail "could not replay $SECOND's start-up history into etcd"
log "$SECOND wrote $B revision(s) at start; replayed into etcd"

run_against etcd etcd "$ETCD_PID" "$ETCD_EP"
run_against "$SECOND" "second-$SECOND" "$SECOND_PID" "$SECOND_EP"

REF_T="$TEST_TMP/etcd.transcript"
SUT_T="$TEST_TMP/second-$SECOND.transcript"
status=0
if ! diff -u --label "etcd (reference)" --label "$SECOND" "$REF_T" "$SUT_T"; then
  echo "FAIL: normalised transcripts differ (- etcd, + $SECOND)" >&2
  status=1
fi

# rv TEXT: replaces {R<n>} by revision B + n.
rv() {
  local t=$1
  while [[ $t =~ \{R([0-9]+)\} ]]; do
    t=${t//"${BASH_REMATCH[0]}"/$((B + BASH_REMATCH[1]))}
  done
  printf '%s' "$t"
}

# Key expected lines, checked in both transcripts: identical-but-wrong output must not pass.
expect() {
  local f
  for f in "$REF_T" "$SUT_T"; do
    if ! grep -Fxq -- "$1" "$f"; then
      echo "FAIL: expected line missing in $(basename "$f"): $1" >&2
      status=1
    fi
  done
}
expect_re() {
  local f
  for f in "$REF_T" "$SUT_T"; do
    if ! grep -Eq -- "$1" "$f"; then
      echo "FAIL: expected pattern missing in $(basename "$f"): $1" >&2
      status=1
    fi
  done
}
expect 'OK'
expect "$(rv '{"header":{"cluster_id":<id>,"member_id":<id>,"revision":{R7},"raft_term":<n>},"kvs":[{"key":"Zm9vL2E=","create_revision":{R2},"mod_revision":{R5},"version":2,"value":"MTE="}],"count":1}')"
expect "$(rv '{"header":{"cluster_id":<id>,"member_id":<id>,"revision":{R7},"raft_term":<n>},"kvs":[{"key":"Zm9vL2E=","create_revision":{R2},"mod_revision":{R5},"version":2,"value":"MTE="},{"key":"Zm9vL2I=","create_revision":{R3},"mod_revision":{R3},"version":1,"value":"Mg=="}],"more":true,"count":3}')"
expect_re '"more":true,"count":[0-9]+}$'
expect "$(rv '{"header":{"cluster_id":<id>,"member_id":<id>,"revision":{R9},"raft_term":<n>},"kvs":[{"key":"Zm9vL2I=","create_revision":{R3},"mod_revision":{R9},"version":3,"value":"MjI="}],"count":1}')"
expect "$(rv '{"header":{"cluster_id":<id>,"member_id":<id>,"revision":{R18},"raft_term":<n>},"succeeded":true,"responses":[{"Response":{"ResponsePut":{"header":{"revision":{R18}}}}}]}')"
expect "$(rv '{"header":{"cluster_id":<id>,"member_id":<id>,"revision":{R24},"raft_term":<n>},"kvs":[{"key":"bGsx","create_revision":{R23},"mod_revision":{R23},"version":1,"value":"dg==","lease":<L1>}],"count":1}')"
expect "$(rv 'revision before revoking a lease without keys: {R25}')"
expect "$(rv 'revision after: {R25}')"
expect "$(rv '{"header":{"cluster_id":<id>,"member_id":<id>,"revision":{R27},"raft_term":<n>}}')"
expect 'Error: etcdserver: key not found'
expect 'Error: etcdserver: key is not provided'
expect 'Error: etcdserver: mvcc: required revision has been compacted'
expect 'Error: etcdserver: mvcc: required revision is a future revision'
expect 'Error: etcdserver: requested lease not found'
expect 'SUCCESS'
expect 'FAILURE'
expect "$(rv 'compacted revision {R10}')"
expect 'watch was canceled (etcdserver: mvcc: required revision has been compacted)'
expect 'key attached to the 2s lease expired within 20s: yes'
expect 'lease <L1> keepalived with TTL(60)'
expect 'lease <L1> granted with TTL(60s), remaining(<ttl>), attached keys([lk1 lk2])'
expect 'lease <L1> revoked'
expect 'lease <L1> already expired'
expect "$(rv 'progress notify: {R22}')"
expect '<endpoint> is healthy: successfully committed proposal: took = <duration>'
expect '<endpoint>, <id>, <version>, <size>, true, false, <n>, <n>, <n>, '
expect 'Snapshot saved at snap.db'
expect 'snapshot file is non-empty'
expect 'Finished defragmenting etcd member[<endpoint>]'
expect '<id>, started, <name>, <peer-urls>, http://<endpoint>, false'
expect "$(rv '{"header":{"cluster_id":<id>,"member_id":<id>,"revision":{R32},"raft_term":<n>},"kvs":[{"key":"bS9h","create_revision":{R28},"mod_revision":{R29},"version":2,"value":"Mg==","lease":<L4>}],"count":1}')"
expect "$(rv '[{"Endpoint":"<endpoint>","HashKV":{"header":{"cluster_id":<id>,"member_id":<id>,"revision":{R27},"raft_term":<n>},"hash":<hash>,"compact_revision":{R10}}}]')"
expect_re '^\[rc=0\]$'
# Every watch must have delivered the number of lines etcd delivers.
if grep -E '^\((watch output did not reach|no progress notify|no event before)' "$REF_T" "$SUT_T" >&2; then
  status=1
fi
if grep -q 'RAW CHECK FAILED' "$REF_T" "$SUT_T"; then
  grep 'RAW CHECK FAILED' "$REF_T" "$SUT_T" >&2
  status=1
fi
if [[ $status -ne 0 ]]; then
  echo "---- reference transcript (normalised) ----" >&2
  cat "$REF_T" >&2
fi
[[ $status -eq 0 ]] && log "transcripts identical ($(wc -l <"$REF_T") lines)"
exit $status
