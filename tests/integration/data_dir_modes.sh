#!/usr/bin/env bash
# The data dir is private to the service user (issue 15, item 7): after kite-server started and
# stored something, nothing under it has a group or other permission bit (0700 directories,
# 0600 files, as k3s) — the database, its WAL and shared-memory files, the TLS material — and
# an existing data dir left readable by an older version is tightened at start.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"
require_tool "$KITE_SERVER"
require_tool "$ETCDCTL"
umask 022 # a shell's usual umask: kite-server must not depend on the caller's

fresh=$TEST_TMP/fresh
start_ready kite fresh "$fresh"
ctl "$EP" put /secret s3cr3t >/dev/null
ls "$fresh/server/db/state.db-wal" >/dev/null || fail "no WAL file under $fresh"
loose=$(find "$fresh" -perm /077)
[[ -z $loose ]] || fail "readable by others in a fresh data dir:
$(ls -ld $loose)"
stop_pid "$SERVER_PID" || true
log "ok - fresh data dir: nothing readable by group or others"

old=$TEST_TMP/old
mkdir -p "$old/server/db" "$old/other"
chmod -R go+rX "$old"
echo x >"$old/other/notes"
chmod 0644 "$old/other/notes"
start_ready kite old "$old"
ctl "$EP" put /secret s3cr3t >/dev/null
loose=$(find "$old" -perm /077)
[[ -z $loose ]] || fail "an existing data dir was not tightened:
$(ls -ld $loose)"
log "ok - existing data dir tightened"
echo "2 passed, 0 failed"
