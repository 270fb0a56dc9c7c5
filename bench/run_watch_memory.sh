#!/usr/bin/env bash
# What watchers that never read cost kite-server (issue 15, item 3; bench/RESULTS.md).
#
# Starts a fresh kite-server (temporary data dir, free loopback ports, an empty config file),
# stores --objects ConfigMaps of --object-kb KiB each (4 MB by default) with kubectl, then:
#   idle        VmRSS after 5 s without clients
#   open        --watchers cluster-wide watches (GET /api/v1/configmaps?watch=1) whose clients
#               never read (tests/integration/kubectl/lazy_watchers.py), VmRSS after --settle-s;
#               also `kubectl get ns` wall time meanwhile
#   cut off     after --changes ConfigMap updates (more than a watcher may leave unread behind a
#               blocked write), once apiserver_terminated_watchers_total counts them all (or
#               30 s): VmRSS, the count, the server's open file descriptors
#   closed      the clients gone, VmRSS after 5 s
# and prints a table (VmRSS in MiB and as a multiple of idle).
#
# Usage: bench/run_watch_memory.sh [options]     (run from the repository root)
#   --build DIR        holds bin/kite-server (default: build)
#   --watchers N       non-reading watchers (default 1000)
#   --objects N        ConfigMaps (default 100)
#   --object-kb N      size of each (default 40)
#   --changes N        ConfigMap updates made while they are open (default 400, rounded up to
#                      whole rounds of one update per object)
#   --settle-s N       wait after the watchers connected (default 10)
#   --path P           what they watch (default /api/v1/configmaps?watch=1)
#   --server-args "A"  more kite-server flags (word-split)
#   --keep             keep the work dir (server log, data) and print its path
set -euo pipefail

BUILD=build
WATCHERS=1000
OBJECTS=100
OBJECT_KB=40
CHANGES=400
SETTLE_S=10
WATCH_PATH="/api/v1/configmaps?watch=1"
SERVER_ARGS=""
KEEP=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --watchers) WATCHERS=$2; shift 2 ;;
    --objects) OBJECTS=$2; shift 2 ;;
    --object-kb) OBJECT_KB=$2; shift 2 ;;
    --changes) CHANGES=$2; shift 2 ;;
    --settle-s) SETTLE_S=$2; shift 2 ;;
    --path) WATCH_PATH=$2; shift 2 ;;
    --server-args) SERVER_ARGS=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

ROOT=$(cd "$(dirname "$0")/.." && pwd)
KITE=$BUILD/bin/kite-server
LAZY=$ROOT/tests/integration/kubectl/lazy_watchers.py
[[ -x $KITE ]] || { echo "missing $KITE (build first)" >&2; exit 2; }
command -v kubectl >/dev/null || { echo "kubectl not found" >&2; exit 2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kite-watch-mem.XXXXXX")
SERVER_PID=""
LAZY_PID=""
cleanup() {
  [[ -n $LAZY_PID ]] && kill "$LAZY_PID" 2>/dev/null || true
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [[ $KEEP == 1 ]]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
free_port() {
  local p lo
  lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  while :; do
    p=$(( 10000 + RANDOM % (lo > 11000 ? lo - 10000 : 1000) ))
    if ! ss -Htln "sport = :$p" | grep -q .; then echo "$p"; return; fi
  done
}
k() { timeout 120 kubectl --kubeconfig "$WORK/kube.yaml" --cache-dir "$WORK/kubectl-cache" "$@" </dev/null; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status"; }
hwm_kib() { awk '/^VmHWM/ {print $2}' "/proc/$SERVER_PID/status"; }
fds() { find "/proc/$SERVER_PID/fd" -mindepth 1 -maxdepth 1 | wc -l; }
terminated() {
  curl -sS --max-time 10 "http://127.0.0.1:$MPORT/metrics" |
    awk '$1 == "apiserver_terminated_watchers_total{resource=\"configmaps\"}" {n=int($2)} END {print n+0}'
}

echo '{}' >"$WORK/config.yaml"
HPORT=$(free_port); MPORT=$(free_port); EPORT=$(free_port)
# shellcheck disable=SC2086  # word-split on purpose
"$KITE" --config "$WORK/config.yaml" --data-dir "$WORK/data" --etcd-listen "127.0.0.1:$EPORT" \
  --metrics-listen "127.0.0.1:$MPORT" --bind-address 127.0.0.1 --https-listen-port "$HPORT" \
  --write-kubeconfig "$WORK/kube.yaml" -v 1 --disable-agent $SERVER_ARGS >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
  [[ -s $WORK/kube.yaml ]] && k get --raw /readyz >/dev/null 2>&1 && break
  kill -0 "$SERVER_PID" 2>/dev/null || { tail "$WORK/server.log" >&2; exit 1; }
  sleep 0.1
done
log "kite-server pid $SERVER_PID on https port $HPORT"
field() { grep -m1 "$1:" "$WORK/kube.yaml" | awk '{print $2}' | base64 -d; }
field certificate-authority-data >"$WORK/ca.crt"
field client-certificate-data >"$WORK/client.crt"
field client-key-data >"$WORK/client.key"

k create namespace big >/dev/null
python3 - "$WORK/cms.json" "$OBJECTS" "$OBJECT_KB" <<'EOF'
import json, sys
n, kb = int(sys.argv[2]), int(sys.argv[3])
items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i:04d}", "namespace": "big"},
          "data": {"blob": (f"{i:04d}" * (kb * 256 + 1))[:kb * 1024]}} for i in range(n)]
with open(sys.argv[1], "w") as f:
    f.write("\n".join(json.dumps(i) for i in items))
EOF
k create -f "$WORK/cms.json" >/dev/null
log "stored $OBJECTS ConfigMaps of $OBJECT_KB KiB"
sleep 5
idle=$(rss_kib)
fds_idle=$(fds)

coproc LAZYW { python3 "$LAZY" --port "$HPORT" --ca "$WORK/ca.crt" --cert "$WORK/client.crt" \
  --key "$WORK/client.key" --path "$WATCH_PATH" --count "$WATCHERS" 2>&1; }
LAZY_PID=$LAZYW_PID
line=""
read -r -t 600 line <&"${LAZYW[0]}" || true
[[ $line == "connected $WATCHERS" ]] || { log "lazy watchers: '$line'"; exit 1; }
log "$WATCHERS watchers connected; settling ${SETTLE_S}s"
sleep "$SETTLE_S"
kill -0 "$SERVER_PID" || { log "kite-server died"; tail "$WORK/server.log" >&2; exit 1; }
open=$(rss_kib)
fds_open=$(fds)
t0=$(date +%s%N)
k get ns >/dev/null
getns_ms=$(( ($(date +%s%N) - t0) / 1000000 ))

rounds=$(( (CHANGES + OBJECTS - 1) / OBJECTS ))
for r in $(seq 1 "$rounds"); do k label configmaps --all -n big "round=$r" --overwrite >/dev/null; done
cut=0
for _ in $(seq 1 60); do
  cut=$(terminated)
  (( cut >= WATCHERS )) && break
  sleep 0.5
done
after_cut=$(rss_kib)
fds_cut=$(fds)

echo quit >&"${LAZYW[1]}" || true
wait "$LAZY_PID" 2>/dev/null || true
LAZY_PID=""
sleep 5
closed=$(rss_kib)
hwm=$(hwm_kib)

mib() { awk -v k="$1" 'BEGIN {printf "%.1f", k / 1024}'; }
ratio() { awk -v a="$1" -v b="$idle" 'BEGIN {printf "%.2fx", a / b}'; }
echo
echo "kite-server VmRSS, $OBJECTS ConfigMaps x $OBJECT_KB KiB, $WATCHERS watchers that never read ($(nproc) cpus, load $(cut -d' ' -f1 /proc/loadavg))"
printf '%-46s %10s %8s %6s\n' phase "VmRSS MiB" "x idle" fds
printf '%-46s %10s %8s %6s\n' "idle" "$(mib "$idle")" "1.00x" "$fds_idle"
printf '%-46s %10s %8s %6s\n' "$WATCHERS non-reading watchers open (${SETTLE_S}s)" "$(mib "$open")" "$(ratio "$open")" "$fds_open"
printf '%-46s %10s %8s %6s\n' "after $((rounds * OBJECTS)) changes: $cut cut off" "$(mib "$after_cut")" "$(ratio "$after_cut")" "$fds_cut"
printf '%-46s %10s %8s %6s\n' "clients closed (5s)" "$(mib "$closed")" "$(ratio "$closed")" "$(fds)"
printf '%-46s %10s %8s\n' "peak (VmHWM)" "$(mib "$hwm")" "$(ratio "$hwm")"
echo "kubectl get ns with the watchers open: ${getns_ms} ms"
