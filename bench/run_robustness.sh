#!/usr/bin/env bash
# Memory and responsiveness of kite-server under hostile load (bench/RESULTS.md, "Robustness").
#
# One fresh kite-server (defaults, plus a bearer token for a non-admin user and
# --authorization-mode=AlwaysAllow so that user may LIST; free loopback ports; temporary data dir):
#   idle        VmRSS after 3 s.
#   connections N anonymous TLS connections that handshake and send nothing: the most server
#               descriptors and VmRSS seen (sampled every 100 ms), KiB per open connection, how
#               many were refused, and VmRSS once the header timeout (32 s) has closed them all.
#   big lists   M ConfigMaps of ~4 KiB (a ~4 MB state); the admin lists namespaces with curl (the
#               API's latency) and with kubectl (end to end) 40 times on the idle server (kubectl's
#               own fixed cost), then every 50 ms while C clients (one asyncio process) LIST all of
#               them as the non-admin user for S seconds, each again as soon as it has its answer
#               or, after a 429, after Retry-After (upstream's max-in-flight semantics: 429 beyond
#               the budget, system:masters exempt). Prints the answer codes, the latency p50/p99
#               of the namespace lists idle and under load, the most VmRSS seen, VmRSS after.
# Usage: bench/run_robustness.sh [--build DIR] [--connections N] [--configmaps M] [--lists C]
#                                [--load-s S] [--server-args "ARGS"]
set -euo pipefail
BUILD=build
CONNS=5000
CMS=1000
LISTS=1000
LOAD_S=30
IDLE_PROBES=40
SERVER_ARGS=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --configmaps) CMS=$2; shift 2 ;;
    --lists) LISTS=$2; shift 2 ;;
    --load-s) LOAD_S=$2; shift 2 ;;
    --server-args) SERVER_ARGS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SERVER=$(realpath "$BUILD/bin/kite-server")
RAW="python3 $ROOT/tests/integration/kubectl/raw_tls.py"
WORK=$(mktemp -d /tmp/kite-robust.XXXXXX)
PID=""
cleanup() {
  [[ -n $PID ]] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
  jobs -p | xargs -r kill 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
API=$(port)
echo "{}" >"$WORK/config.yaml"
echo "tok-bench,bench-user,u-1," >"$WORK/tokens.csv"
# shellcheck disable=SC2086
"$SERVER" --config "$WORK/config.yaml" --data-dir "$WORK/data" --etcd-listen "127.0.0.1:$(port)" \
  --metrics-listen "127.0.0.1:$(port)" --bind-address 127.0.0.1 --https-listen-port "$API" \
  --write-kubeconfig "$WORK/kubeconfig" --token-auth-file "$WORK/tokens.csv" --authorization-mode AlwaysAllow --disable-agent \
  $SERVER_ARGS >"$WORK/server.log" 2>&1 &
PID=$!
K=(kubectl --kubeconfig "$WORK/kubeconfig" --cache-dir "$WORK/cache")
for _ in $(seq 1 100); do
  [[ -s $WORK/kubeconfig ]] && "${K[@]}" get --raw /readyz >/dev/null 2>&1 && break
  sleep 0.1
done
kc=$WORK/kubeconfig
field() { grep -m1 "$1:" "$kc" | awk '{print $2}' | base64 -d; }
field certificate-authority-data >"$WORK/ca.crt"
field client-certificate-data >"$WORK/client.crt"
field client-key-data >"$WORK/client.key"
rss() { awk '/^VmRSS/ {print int($2/1024)}' "/proc/$PID/status"; }
hwm() { awk '/^VmHWM/ {print int($2/1024)}' "/proc/$PID/status"; }

sleep 3
IDLE=$(rss)
echo "idle: VmRSS ${IDLE} MiB"

# Samples VmRSS (MiB) and the open descriptors every 100 ms into FILE until WORK/stop-FILE exists.
sampler() {
  local out=$1
  while [[ ! -e $WORK/stop-$(basename "$out") ]]; do
    echo "$(rss) $(ls "/proc/$PID/fd" | wc -l)" >>"$out"
    sleep 0.1
  done
}
# --- idle TLS connections (each is closed by the server after the 32 s header timeout) ---
sampler "$WORK/conn.samples" &
SAMPLER=$!
$RAW "$API" "$WORK/ca.crt" - - idle-connections "$CONNS" 5 >"$WORK/conns" 2>&1 || true
touch "$WORK/stop-conn.samples"
wait $SAMPLER || true
read -r OPENED REFUSED <"$WORK/conns"
read -r PEAK_RSS PEAK_FDS < <(sort -n -k2 "$WORK/conn.samples" | tail -1)
echo "connections: $OPENED opened, $REFUSED refused; at most $PEAK_FDS server fds, VmRSS then ${PEAK_RSS} MiB" \
  "($(( (PEAK_RSS - IDLE) * 1024 / (PEAK_FDS > 30 ? PEAK_FDS - 30 : 1) )) KiB per open connection)"
sleep 35 # every one of them is closed by now
echo "  after they closed: VmRSS $(rss) MiB, $(ls "/proc/$PID/fd" | wc -l) fds"

# --- big lists ---
python3 - "$WORK/cms.yaml" "$CMS" <<'EOF'
import json, sys
n = int(sys.argv[2])
items = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}", "namespace": "default"},
          "data": {"k": "v" * 4000}} for i in range(n)]
# One document per object: kubectl validates a `kind: List` against /openapi/v2, which kite
# does not serve (it serves v3).
with open(sys.argv[1], "w") as f:
    for item in items:
        f.write("---\n" + json.dumps(item) + "\n")
EOF
"${K[@]}" create -f "$WORK/cms.yaml" >/dev/null
sleep 11 # the object counts behind a LIST's width are refreshed every 10 s
BEFORE=$(rss)
echo "state: $CMS ConfigMaps of 4 KiB; VmRSS ${BEFORE} MiB"
probe() { # admin namespace lists every 50 ms until WORK/stop exists (or COUNT rounds): curl (API
           # latency) into PREFIX.curl, kubectl (end to end) into PREFIX.kubectl
  local prefix=$1 count=${2:-0} i=0
  while [[ ! -e $WORK/stop ]] && { (( count == 0 )) || (( i < count )); }; do
    curl -sS -o /dev/null -w '%{time_total}\n' --cacert "$WORK/ca.crt" --cert "$WORK/client.crt" \
      --key "$WORK/client.key" "https://127.0.0.1:$API/api/v1/namespaces" | awk '{printf "%.1f\n", $1*1000}' >>"$prefix.curl" ||
      echo 99000 >>"$prefix.curl"
    s=$(date +%s%N)
    "${K[@]}" get ns >/dev/null 2>&1 || true
    echo "$(( ($(date +%s%N) - s) / 1000000 ))" >>"$prefix.kubectl"
    i=$((i + 1))
    sleep 0.05
  done
}
pct() { sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int(NR*p/100); if (i<1) i=1; if (i>NR) i=NR; print a[i]}'; }
report() { # LABEL PREFIX
  echo "  $1: curl (API) p50 $(pct "$2.curl" 50) ms, p99 $(pct "$2.curl" 99) ms;" \
    "kubectl get ns (end to end) p50 $(pct "$2.kubectl" 50) ms, p99 $(pct "$2.kubectl" 99) ms ($(wc -l <"$2.kubectl") calls)"
}
# kubectl's own fixed cost (process start, kubeconfig, discovery cache, TLS) against the idle server.
probe "$WORK/idle" "$IDLE_PROBES"
probe "$WORK/during" &
PROBE=$!
sampler "$WORK/list.samples" &
LSAMPLER=$!
sleep 1
# One asyncio process keeps LISTS clients listing for LOAD_S seconds (429 -> Retry-After, as
# client-go does): the load generator costs little CPU, so the probe measures the server.
burst=$($RAW "$API" "$WORK/ca.crt" - - load "$LISTS" /api/v1/namespaces/default/configmaps tok-bench "$LOAD_S")
touch "$WORK/stop" "$WORK/stop-list.samples"
wait $PROBE $LSAMPLER || true
AFTER=$(rss)
PEAK=$(sort -n "$WORK/list.samples" | tail -1 | cut -d' ' -f1)
echo "big lists: $LISTS clients listing ${CMS} ConfigMaps for ${LOAD_S} s as a non-admin user: $burst"
report "admin namespace list, idle server" "$WORK/idle"
report "admin namespace list during the lists" "$WORK/during"
echo "  VmRSS at most ${PEAK} MiB while they ran (sampled every 100 ms), ${AFTER} MiB after" \
  "(idle ${IDLE} MiB, ${BEFORE} MiB with the state)"
kill -0 "$PID" && echo "server alive: yes" || echo "server alive: NO"
