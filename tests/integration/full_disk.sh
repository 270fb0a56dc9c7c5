#!/usr/bin/env bash
# kite-server on a full disk (issue 15, item 6). The data dir is a small tmpfs mounted by the
# test (root only; skipped otherwise). Writes through the etcd endpoint and the Kubernetes API
# fill it until they fail; then:
#   - a write that cannot be stored gets an error: etcd's "etcdserver: mvcc: database space
#     exceeded" on the etcd endpoint with the NOSPACE alarm listed, a 500 Status with that
#     message on the Kubernetes API (as kube-apiserver passes etcd's error through);
#   - the process stays up; reads, `kubectl get` and watches keep working;
#   - killed and restarted on the still-full disk, it comes up and serves reads (its
#     controllers' own writes fail without taking it down);
#   - once space is freed (a filler file on the tmpfs is deleted) writes resume on their own
#     and the alarm clears, no restart;
#   - every acknowledged write is present, before and after a final restart.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
if [[ $(id -u) -ne 0 ]]; then
  echo "SKIP: mounting a tmpfs needs root"
  exit 77
fi
source "$HERE/lib.sh"
source "$HERE/kubectl/lib_kubectl.sh"
require_tool "$ETCDCTL"

MNT=$TEST_TMP/kite-data # start_kite_api's data dir for the name "kite"
mkdir -p "$MNT"
mount -t tmpfs -o size=24m,mode=0700 tmpfs "$MNT"
_full_disk_cleanup() {
  local rc=$?
  set +e # or the `(exit $rc)` below would end the script before lib.sh's cleanup stops the servers
  # Lazily: a server still running keeps it busy; the memory goes when the last user exits.
  umount -l "$MNT" 2>/dev/null
  (exit $rc) # lib.sh's _cleanup takes the exit status from $?
  _cleanup
}
trap _full_disk_cleanup EXIT

start_kite_api
EP=127.0.0.1:$PORT
e() { ctl "$EP" "$@"; }
avail() { df --output=avail -B1 "$MNT" | tail -n1 | tr -d ' '; }

# Leave about 6 MiB: the database and its WAL each hold a copy of what is written.
filler=$(($(avail) - (6 << 20)))
((filler > 0)) || fail "tmpfs too small: $(avail) bytes free"
dd if=/dev/zero of="$MNT/filler" bs=1M count=$((filler >> 20)) status=none
log "filler $((filler >> 20)) MiB; $(avail) bytes free"

ACKED=$TEST_TMP/acked-keys # keys whose put was acknowledged
: >"$ACKED"
# 120 KB: one argv string must stay under 128 KiB.
head -c 90000 /dev/urandom | base64 -w0 >"$TEST_TMP/value"
value=$(cat "$TEST_TMP/value")
err=""
for i in $(seq 1 200); do
  if out=$(e put "/fill/$i" "$value" 2>&1); then
    echo "/fill/$i" >>"$ACKED"
  else
    err=$out
    break
  fi
done
log "etcd endpoint: $(wc -l <"$ACKED") puts acknowledged before the first refusal"
[[ $err == *"etcdserver: mvcc: database space exceeded"* ]] && _report ok "etcd put on a full disk: database space exceeded" ||
  _report fail "etcd put on a full disk: database space exceeded" "got: $err"
kill -0 "$SERVER_PID" || fail "kite-server died when the disk filled"
expect "etcdctl alarm list shows NOSPACE" 'alarm:NOSPACE' -- e alarm list
expect "endpoint status lists the alarm" 'alarm:NOSPACE' -- e endpoint status -w table
expect "etcd reads go on" "^/fill/1$" -- e get /fill/1 --keys-only

# Concurrent writers at the edge: group commit puts several in one transaction, and a batch
# whose commit fails must answer every request of it with the error and apply none of them.
REFUSED=$TEST_TMP/refused-keys # keys whose put got "database space exceeded": must never appear
: >"$REFUSED"
small=$(head -c 3000 /dev/urandom | base64 -w0)
writers=()
for w in 1 2 3 4 5 6 7 8; do
  (
    for i in $(seq 1 15); do
      if out=$(e put "/race/$w/$i" "$small" 2>&1); then
        echo "/race/$w/$i" >>"$ACKED.$w"
      elif [[ $out == *"database space exceeded"* ]]; then
        echo "/race/$w/$i" >>"$REFUSED.$w"
      fi
    done
  ) &
  track_bg $!
  writers+=($!)
done
wait "${writers[@]}"
cat "$ACKED".* >>"$ACKED" 2>/dev/null || true
cat "$REFUSED".* >>"$REFUSED" 2>/dev/null || true
log "concurrent writers: $(cat "$ACKED".* 2>/dev/null | wc -l) acknowledged, $(wc -l <"$REFUSED") refused"
[[ -s $REFUSED ]] && _report ok "concurrent writers on a full disk are refused" ||
  _report fail "concurrent writers on a full disk are refused" "none refused"

# The Kubernetes API: ConfigMaps of ~120 KB until one is refused (a little space may be left).
CM=$TEST_TMP/cm.yaml
make_cm() {
  printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s, namespace: default}\ndata: {big: "%s"}\n' "$1" "$value" >"$CM"
}
ACKED_CM=$TEST_TMP/acked-cms
: >"$ACKED_CM"
api_err=""
for i in $(seq 1 50); do
  make_cm "cm-$i"
  if out=$(k create -f "$CM" -v=6 2>&1); then
    echo "cm-$i" >>"$ACKED_CM"
  else
    api_err=$out
    break
  fi
done
grep -q 'Error from server: .*etcdserver: mvcc: database space exceeded' <<<"$api_err" &&
  grep -Eq 'POST https://[^ ]+/api/v1/namespaces/default/configmaps[^ ]* 500 ' <<<"$api_err" &&
  _report ok "API create on a full disk: 500, database space exceeded" ||
  _report fail "API create on a full disk: 500, database space exceeded" "got: $(tail -n 5 <<<"$api_err")"
expect "kubectl get works on a full disk" '^default ' -- k get ns
expect "kubectl get configmaps on a full disk" 'kube-root-ca.crt' -- k get cm -n default
kill -0 "$SERVER_PID" || fail "kite-server died on a full disk"

# A watch opened now still sees what happens later (checked after space is freed).
WATCH_OUT=$TEST_TMP/watch.out
timeout 120 "$ETCDCTL" --endpoints="$EP" watch /after </dev/null >"$WATCH_OUT" 2>&1 &
track_bg $!

# Killed (as the out-of-space abort used to do) and restarted on the still-full disk: it comes
# up, serves reads and stays up while its controllers' lease renewals fail.
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
log "restarting on the full disk ($(avail) bytes free)"
start_kite_api
EP=127.0.0.1:$PORT
timeout 120 "$ETCDCTL" --endpoints="$EP" watch /after </dev/null >"$WATCH_OUT" 2>&1 &
track_bg $!
still_full=0
e put /probe x >/dev/null 2>&1 || still_full=1
log "after the restart the disk is still full: $still_full"
sleep 5
kill -0 "$SERVER_PID" && _report ok "restarted on a full disk, stays up" || fail "kite-server exited after a restart on a full disk"
expect "reads after the restart" "^/fill/1$" -- e get /fill/1 --keys-only
expect "kubectl get after the restart" '^default ' -- k get ns

# Free space: writes resume by themselves.
rm -f "$MNT/filler"
log "filler deleted: $(avail) bytes free"
eventually "etcd writes resume without a restart" '^OK$' 20 -- e put /after resumed
alarms() { local a; a=$(e alarm list) && echo "alarms:[${a}]"; }
eventually "the alarm clears" '^alarms:\[\]$' 20 -- alarms
make_cm "after-free"
expect "API writes resume" 'created' -- k create -f "$CM"
echo after-free >>"$ACKED_CM"
eventually "a watch sees the write" 'resumed' 20 -- cat "$WATCH_OUT"
expect_exact "process never restarted by itself" "$SERVER_PID" -- pgrep -f -n -- "--data-dir $MNT"

check_acked() {
  local what=$1 have missing applied
  have=$TEST_TMP/have-keys
  { e get / --prefix --keys-only | grep -v '^$' || true; } | sort >"$have"
  missing=$(sort -u "$ACKED" | comm -23 - "$have" | wc -l)
  while read -r key; do
    [[ $(e get "$key" --print-value-only | wc -c) -gt 1000 ]] || missing=$((missing + 1))
  done < <(shuf -n 5 "$ACKED")
  while read -r key; do
    k get cm "$key" -n default -o name >/dev/null 2>&1 || { missing=$((missing + 1)); log "missing: cm $key"; }
  done <"$ACKED_CM"
  [[ $missing -eq 0 ]] && _report ok "every acknowledged write is present ($what)" ||
    _report fail "every acknowledged write is present ($what)" "$missing missing"
  applied=$(sort -u "$REFUSED" | comm -12 - "$have" | wc -l)
  [[ $applied -eq 0 ]] && _report ok "no refused write was applied ($what)" ||
    _report fail "no refused write was applied ($what)" "$applied applied"
}
check_acked "after space came back"
stop_pid "$SERVER_PID" || true
start_kite_api
EP=127.0.0.1:$PORT
check_acked "after a restart"
finish
