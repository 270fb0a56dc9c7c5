#!/usr/bin/env bash
# Memory and responsiveness of kite-server under hostile load (bench/RESULTS.md, "Robustness").
#
# One fresh kite-server (defaults, plus a bearer token for a non-admin user and
# --authorization-mode=AlwaysAllow so that user may LIST; free loopback ports; temporary data dir):
#   idle        VmRSS after 3 s.
#   connections N anonymous TLS connections that handshake and send nothing: the most server
#               descriptors and VmRSS seen (sampled every 100 ms), KiB per open connection, how
#               many were refused, and VmRSS once the header timeout (32 s) has closed them all.
#   big lists   M ConfigMaps of ~4 KiB (a ~4 MB state). The admin's GET /api/v1/namespaces (a
#               small request) is measured on the idle server and then while C clients (one
#               asyncio process) LIST all the ConfigMaps as the non-admin user for S seconds, each
#               again as soon as it has its answer or, after a 429, after Retry-After (upstream's
#               max-in-flight semantics: 429 beyond the budget, system:masters exempt). Four
#               probes in turn, each phase: a small client on one kept-alive TLS connection every
#               50 ms, the server's own apiserver_request_duration_seconds for exactly those
#               requests, a small client with a new TLS connection each time, and `kubectl get ns`
#               end to end (kubectl's own start-up is in it: compare with the idle figure) and
#               that kubectl's own timing of its request (-v=6: dial, TLS, request, answer).
#               Prints the load's answer codes, p50/p99 of each probe idle and under load and
#               their ratio, the most VmRSS seen, VmRSS after. --connections 0 skips the first part.
# Usage: bench/run_robustness.sh [--build DIR] [--connections N] [--configmaps M] [--lists C]
#                                [--load-s S] [--server-args "ARGS"] [--load-nice N]
# --load-nice runs the load generator at that niceness: its clients would be other machines, here
# they share the server's cores (default 0: they compete as equals).
set -euo pipefail
BUILD=build
CONNS=5000
CMS=1000
LISTS=1000
LOAD_S=60
IDLE_PROBES=40
SERVER_ARGS=""
LOAD_NICE=0
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --configmaps) CMS=$2; shift 2 ;;
    --lists) LISTS=$2; shift 2 ;;
    --load-s) LOAD_S=$2; shift 2 ;;
    --server-args) SERVER_ARGS=$2; shift 2 ;;
    --load-nice) LOAD_NICE=$2; shift 2 ;;
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
if (( CONNS > 0 )); then
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
fi

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
# --- the server's part of a small request's latency, idle and under the load ---
# Four probes, each in its own window so the server's histogram of the window is that probe's:
#   keepalive  raw_tls.py over one kept-alive TLS connection: GET /api/v1/namespaces every 50 ms
#   new        the same with a new TLS connection (handshake) each time
#   server     apiserver_request_duration_seconds{verb="LIST",resource="namespaces"} over the
#              keepalive window (/metrics scraped before and after; quantiles interpolated in the
#              buckets as Prometheus's histogram_quantile does)
#   kubectl    `kubectl get ns` end to end (process start, kubeconfig, TLS, the Table) in a loop
metrics() { curl -sS --cacert "$WORK/ca.crt" --cert "$WORK/client.crt" --key "$WORK/client.key" \
  "https://127.0.0.1:$API/metrics" | grep '^apiserver_request_duration_seconds_bucket' |
  grep 'resource="namespaces"' | grep 'verb="LIST"' >"$1" || true; }
hist_quantiles() { # BEFORE AFTER -> "p50 X ms, p99 Y ms (N requests)"
  python3 - "$1" "$2" <<'PY'
import re, sys
def read(path):
    out = {}
    for line in open(path):
        m = re.search(r'le="([^"]+)"\}\s+(\S+)', line)
        if m:
            le = float("inf") if m.group(1) == "+Inf" else float(m.group(1))
            out[le] = out.get(le, 0) + float(m.group(2))
    return out
b, a = read(sys.argv[1]), read(sys.argv[2])
les = sorted(a)
cum = [a[le] - b.get(le, 0) for le in les]
n = cum[-1] if cum else 0
def q(p):
    if n <= 0:
        return "-"
    rank, prev_le, prev_c = p * n, 0.0, 0.0
    for le, c in zip(les, cum):
        if c >= rank:
            if le == float("inf"):
                return f">{prev_le*1000:.0f}"
            if prev_le == 0:  # the first bucket: only its bound is known
                return f"<={le*1000:.0f}"
            return f"{(prev_le + (le - prev_le) * (rank - prev_c) / max(c - prev_c, 1e-9)) * 1000:.1f}"
        prev_le, prev_c = le, c
    return "-"
print(f"p50 {q(0.5)} ms, p99 {q(0.99)} ms ({int(n)} requests)")
PY
}
pct() { sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int(NR*p/100+0.999); if (i<1) i=1; if (i>NR) i=NR; print a[i]}'; }
line() { echo "p50 $(pct "$1" 50) ms, p99 $(pct "$1" 99) ms ($(wc -l <"$1") requests)"; }
kubectl_loop() { # FILE SECONDS|COUNT MODE
  local out=$1 n=$2 mode=$3 i=0 end=$(( $(date +%s) + $2 ))
  while { [[ $mode == count ]] && (( i < n )); } || { [[ $mode == time ]] && (( $(date +%s) < end )); }; do
    s=$(date +%s%N)
    "${K[@]}" get ns -v=6 >/dev/null 2>"$out.log" || true
    echo "$(( ($(date +%s%N) - s) / 1000000 ))" >>"$out"
    # kubectl's own measure of its request (round_trippers at -v=6: "GET …/namespaces?limit=500
    # 200 OK in N milliseconds": connection, TLS handshake, request and answer, without the
    # process's start-up and exit). A failed or missing request counts as 10 s.
    ms=$(sed -n 's|.*GET https://[^ ]*/api/v1/namespaces?limit=500 200 OK in \([0-9]*\) milliseconds.*|\1|p' "$out.log" | tail -1)
    echo "${ms:-10000}" >>"$out.request"
    # The floor: the same kubectl process that asks no server (Go start-up, flags, exit).
    s=$(date +%s%N)
    "${K[@]}" version --client >/dev/null 2>&1 || true
    echo "$(( ($(date +%s%N) - s) / 1000000 ))" >>"$out.floor"
    i=$((i + 1))
    sleep 0.05
  done
}
RAWC="python3 $ROOT/tests/integration/kubectl/raw_tls.py $API $WORK/ca.crt $WORK/client.crt $WORK/client.key"
measure() { # PREFIX PROBE_SECONDS: the four probes one after the other
  metrics "$1.m0"
  $RAWC probe /api/v1/namespaces 0.05 "$2" keepalive >"$1.keepalive"
  metrics "$1.m1"
  $RAWC probe /api/v1/namespaces 0.05 "$(( $2 / 2 ))" new >"$1.new"
}
report() { # LABEL PREFIX
  echo "  $1:"
  echo "    small client, kept-alive TLS:   $(line "$2.keepalive")"
  echo "    server's own histogram for it: $(hist_quantiles "$2.m0" "$2.m1")"
  echo "    small client, new TLS each:     $(line "$2.new")"
  echo "    kubectl get ns (end to end):    $(line "$2.kubectl")"
  echo "    kubectl get ns, its own request: $(line "$2.kubectl.request")"
  echo "    kubectl version --client (floor): $(line "$2.kubectl.floor")"
}
PROBE_S=${PROBE_S:-20}
measure "$WORK/idle" "$PROBE_S"
kubectl_loop "$WORK/idle.kubectl" "$IDLE_PROBES" count
sampler "$WORK/list.samples" &
LSAMPLER=$!
# One asyncio process keeps LISTS clients listing for LOAD_S seconds (429 -> Retry-After, as
# client-go does). The probes start once it has ramped up and end before it does.
nice -n "$LOAD_NICE" $RAW "$API" "$WORK/ca.crt" - - load "$LISTS" /api/v1/namespaces/default/configmaps tok-bench "$LOAD_S" >"$WORK/burst" &
LOAD=$!
sleep 5
measure "$WORK/during" "$PROBE_S"
kubectl_loop "$WORK/during.kubectl" $(( LOAD_S - 10 - PROBE_S * 3 / 2 )) time
wait $LOAD || true
touch "$WORK/stop-list.samples"
wait $LSAMPLER || true
AFTER=$(rss)
PEAK=$(sort -n "$WORK/list.samples" | tail -1 | cut -d' ' -f1)
echo "big lists: $LISTS clients (nice $LOAD_NICE) listing ${CMS} ConfigMaps for ${LOAD_S} s as a non-admin user: $(cat "$WORK/burst")"
echo "admin GET /api/v1/namespaces (a LIST of a few namespaces), probes one after the other:"
report "idle server" "$WORK/idle"
report "during the big lists" "$WORK/during"
echo "  ratio under load / idle (p50, p99): kept-alive $(awk -v a="$(pct "$WORK/during.keepalive" 50)" -v b="$(pct "$WORK/idle.keepalive" 50)" 'BEGIN{printf "%.1f", a/b}')," \
  "$(awk -v a="$(pct "$WORK/during.keepalive" 99)" -v b="$(pct "$WORK/idle.keepalive" 99)" 'BEGIN{printf "%.1f", a/b}');" \
  "kubectl $(awk -v a="$(pct "$WORK/during.kubectl" 50)" -v b="$(pct "$WORK/idle.kubectl" 50)" 'BEGIN{printf "%.1f", a/b}')," \
  "$(awk -v a="$(pct "$WORK/during.kubectl" 99)" -v b="$(pct "$WORK/idle.kubectl" 99)" 'BEGIN{printf "%.1f", a/b}')"
echo "  load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "  VmRSS at most ${PEAK} MiB while they ran (sampled every 100 ms), ${AFTER} MiB after" \
  "(idle ${IDLE} MiB, ${BEFORE} MiB with the state)"
kill -0 "$PID" && echo "server alive: yes" || echo "server alive: NO"
