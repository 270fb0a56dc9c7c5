#!/usr/bin/env bash
# exec, port-forward and logs -f on one real node (bench/RESULTS.md, "exec, port-forward and
# logs -f"; issue 18). kite-server with its embedded agent (its own containerd) in a network
# namespace, a busybox pod `p` serving files with httpd and a pod `logger` that writes its log
# as fast as it can once told to. Every figure is set beside its floor measured in the same run
# (the machine may be loaded: only medians and ratios mean anything):
#   exec        ROUNDS rounds, each running side by side (in this order):
#                 kubectl version --client    kubectl's own start-up, no network
#                 kubectl get pod p           start-up + TLS + one request
#                 kubectl exec p -- true      end to end (kubectl 1.32: WebSocket v5, translated
#                                             to SPDY toward the kubelet by the API server)
#                 API server WebSocket exec   the same session without kubectl (bench/stream_probe.py):
#                                             connect, TLS, upgrade (to the 101), session (to the close)
#                 kubelet WebSocket exec      the same, straight to the kubelet (v4.channel.k8s.io,
#                                             which the kubelet relays to containerd's stream server)
#                 ctr version / ctr task exec containerd's own exec of `true` in the container, and
#                                             ctr's start-up (to subtract)
#                 runc exec                   the floor: runc alone running `true` in the container
#   port-forward PF_ROUNDS rounds of a BIG_MB MiB download by curl through `kubectl port-forward`
#               over the WebSocket tunnel (kubectl 1.32's default), over SPDY
#               (KUBECTL_PORT_FORWARD_WEBSOCKETS=false), directly from the pod IP (the floor), and
#               through kubectl's WebSocket forward from a fake API server that costs nothing
#               (bench/stream_probe.py fake: kubectl's own ceiling), medians; the CPU seconds of
#               the API server, kubectl, containerd and curl per download; ROUNDS 13-byte GETs
#               through the WebSocket forward and directly (p50)
#   logs -f     LOG_MB MiB of 100-byte lines: `kubectl logs -f logger` and `tail -f` of the CRI log
#               file (the floor), both started before the writer, time from the first byte to the
#               last (bench/stream_probe.py count); then the whole finished log by `kubectl logs`
#               and by curl from the API server (its part without kubectl) against `cat` of the file,
#               and by `kubectl logs` from the fake server holding the log in memory (stream_probe.py
#               fake: kubectl's own floor, which writes every line with its own write(2))
# Usage: bench/run_exec.sh [--build DIR] [--rounds N] [--pf-rounds N] [--big-mb N] [--log-mb N]
#        (needs root)
set -euo pipefail
BUILD=build
ROUNDS=30
PF_ROUNDS=5
BIG_MB=100
LOG_MB=64
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --pf-rounds) PF_ROUNDS=$2; shift 2 ;;
    --big-mb) BIG_MB=$2; shift 2 ;;
    --log-mb) LOG_MB=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export KITE_SERVER=$BUILD/bin/kite-server KITE_AGENT=$BUILD/bin/kite-agent KITE_IMAGES=${KITE_IMAGES:-$BUILD/images}
source "$HERE/../tests/integration/lib.sh"
source "$HERE/../tests/e2e/lib_node.sh"
require_node_tools
require_tool python3
sweep_leftovers
IMAGE=kite.local/busybox:1.35
PROBE=$HERE/stream_probe.py

new_netns bexec
NS=$REPLY
new_node_dir bexec
D=$REPLY
KC=$TEST_TMP/kubeconfig
k() { in_ns "$NS" "$KUBECTL_BIN" --kubeconfig "$KC" --cache-dir "$TEST_TMP/kcache" "$@"; }
# The log is not rotated under the writer (rotation is not what is measured).
_spawn "$TEST_TMP/kite.log" nsenter --net="/run/netns/$NS" -- "$KITE_SERVER" --data-dir "$D" --write-kubeconfig "$KC" \
  --node-name bench-exec --etcd-listen "" --metrics-listen 127.0.0.1:0 --kubelet-port 0 --container-log-max-size 1Gi
SERVER_PID=$LAST_PID
ready() { k get node bench-exec -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep -q True; }
wait_until 120 ready || fail "node not Ready"
k run p --image="$IMAGE" -- sh -c "mkdir -p /www && echo hello-bench >/www/index.html && \
  head -c $((BIG_MB * 1024 * 1024)) /dev/zero >/www/big && exec httpd -f -p 80 -h /www" >/dev/null
LINE=$(printf '%099d' 0)  # 99 characters and a newline
LOG_LINES=$((LOG_MB * 1024 * 1024 / 100))
k run logger --image="$IMAGE" -- sh -c "while [ ! -e /tmp/go ]; do sleep 0.1; done; \
  yes $LINE | head -n $LOG_LINES; exec sleep 100000" >/dev/null
running() { [[ $(k get pod "$1" -o 'jsonpath={.status.phase}') == Running ]]; }
wait_until 120 running p || fail "pod p not Running"
wait_until 120 running logger || fail "pod logger not Running"
POD_IP=$(k get pod p -o 'jsonpath={.status.podIP}')
has_big() { [[ $(in_ns "$NS" curl -s -o /dev/null -w '%{size_download}' "http://$POD_IP/big") -eq $((BIG_MB * 1024 * 1024)) ]]; }
wait_until 60 has_big || fail "the pod's file is not served"

# What the probes below the API server need: the kubelet's address, the API server's
# kubelet-client certificate, containerd's socket and runc's state dir, the container's id.
TLS=$D/server/tls
KUBELET=$(k get node bench-exec -o 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}:{.status.daemonEndpoints.kubeletEndpoint.Port}')
CTD_SOCK=$(sed -n 's/^ *address *= *"\(.*\)"$/\1/p' "$D/agent/etc/containerd/config.toml" | head -1)
RUNC_ROOT=$(sed -n 's/^ *Root *= *"\(.*\)"$/\1/p' "$D/agent/etc/containerd/config.toml" | head -1)/k8s.io
CID=$(ctr --address "$CTD_SOCK" -n k8s.io containers ls -q \
  'labels."io.kubernetes.pod.name"==p,labels."io.kubernetes.container.name"==p' | head -1)
[[ -n $CID && -S $CTD_SOCK && -d $RUNC_ROOT ]] || fail "containerd's socket, runc's root or the container not found"

ms_now() { date +%s%N; }
# pct FILE P: the P-th percentile of the numbers in FILE (nearest rank).
pct() { sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int((p/100)*NR+0.999); if (i<1) i=1; print a[i]}'; }
# col FILE N P: the P-th percentile of column N.
col() { awk -v c="$2" '{print $c}' "$1" >"$1.col$2" && pct "$1.col$2" "$3"; }
time_cmd() {  # time_cmd OUT CMD...: appends the command's wall time in ms to OUT
  local out=$1 t0 t1
  shift
  t0=$(ms_now)
  "$@" >/dev/null 2>&1 || fail "$* failed"
  t1=$(ms_now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f\n", (b - a) / 1e6 }' >>"$out"
}
API_EXEC="https://127.0.0.1:6443/api/v1/namespaces/default/pods/p/exec?command=true&stdout=1&stderr=1"
KUBELET_EXEC="https://$KUBELET/exec/default/p/p?command=true&stdout=1&stderr=1"
probe_api() { in_ns "$NS" python3 "$PROBE" exec "$API_EXEC" v5.channel.k8s.io "$TLS/server-ca.crt" "$TLS/client-admin.crt" "$TLS/client-admin.key"; }
probe_kubelet() { in_ns "$NS" python3 "$PROBE" exec "$KUBELET_EXEC" v4.channel.k8s.io "$TLS/server-ca.crt" "$TLS/client-kube-apiserver.crt" "$TLS/client-kube-apiserver.key"; }
n_exec=0
ctr_exec() { n_exec=$((n_exec + 1)); ctr --address "$CTD_SOCK" -n k8s.io task exec --exec-id "bench-$n_exec" "$CID" true; }

# --- exec
k exec p -- true
k get pod p >/dev/null
probe_api >/dev/null
probe_kubelet >/dev/null
for f in version get exec api kubelet ctrv ctr runc; do : >"$TEST_TMP/$f.ms"; done
for _ in $(seq "$ROUNDS"); do
  time_cmd "$TEST_TMP/version.ms" k version --client
  time_cmd "$TEST_TMP/get.ms" k get pod p
  time_cmd "$TEST_TMP/exec.ms" k exec p -- true
  probe_api >>"$TEST_TMP/api.ms" || fail "WebSocket exec through the API server failed"
  probe_kubelet >>"$TEST_TMP/kubelet.ms" || fail "WebSocket exec to the kubelet failed"
  time_cmd "$TEST_TMP/ctrv.ms" ctr --address "$CTD_SOCK" version
  time_cmd "$TEST_TMP/ctr.ms" ctr_exec
  time_cmd "$TEST_TMP/runc.ms" runc --root "$RUNC_ROOT" exec "$CID" true
done
LOAD_EXEC=$(cut -d' ' -f1-3 /proc/loadavg)

# kubectl's own floors: the same commands against a fake API server that costs nothing
# (stream_probe.py fake: the log in memory, the forwarded download from prebuilt frames), on
# another port of the namespace.
in_ns "$NS" python3 "$PROBE" fake 16443 "$LOG_LINES" "$BIG_MB" "$TLS/serving-kube-apiserver.crt" "$TLS/serving-kube-apiserver.key" &
track_bg $!
sed 's#https://127.0.0.1:6443#https://127.0.0.1:16443#' "$KC" >"$TEST_TMP/kubeconfig-fake"
kf() { in_ns "$NS" "$KUBECTL_BIN" --kubeconfig "$TEST_TMP/kubeconfig-fake" --cache-dir "$TEST_TMP/kcache-fake" "$@"; }
fake_up() { kf get pod logger >/dev/null 2>&1; }
wait_until 60 fake_up || fail "the fake API server did not start"

# --- port-forward: the WebSocket tunnel and SPDY side by side with a direct download, and
# kubectl's WebSocket forward from the fake server
in_ns "$NS" "$KUBECTL_BIN" --kubeconfig "$KC" --cache-dir "$TEST_TMP/kcache" port-forward pod/p 18090:80 >"$TEST_TMP/pf.log" 2>&1 &
track_bg $!
in_ns "$NS" env KUBECTL_PORT_FORWARD_WEBSOCKETS=false "$KUBECTL_BIN" --kubeconfig "$KC" --cache-dir "$TEST_TMP/kcache" \
  port-forward pod/p 18091:80 >"$TEST_TMP/pf-spdy.log" 2>&1 &
track_bg $!
forwarding() { [[ $(in_ns "$NS" curl -s -m 5 "http://127.0.0.1:$1/") == hello-bench ]]; }
kf port-forward pod/p 18092:80 >"$TEST_TMP/pf-fake.log" 2>&1 &
track_bg $!
wait_until 30 forwarding 18090 || fail "port-forward (WebSocket) not up: $(cat "$TEST_TMP/pf.log")"
wait_until 30 forwarding 18091 || fail "port-forward (SPDY) not up: $(cat "$TEST_TMP/pf-spdy.log")"
wait_until 30 forwarding 18092 || fail "port-forward from the fake server not up: $(cat "$TEST_TMP/pf-fake.log")"
TICK=$(getconf CLK_TCK)
# CPU seconds (user + system, all threads) of the processes on a forwarded download's path:
# kite-server, the kubectl of that path, and the node's containerd (whose stream server dials
# the pod). Where the CPU goes says who caps the throughput on these 2 cores.
CTD_PID=$(pgrep -f -- "--config $D/agent/etc/containerd/config.toml" | head -1)
KC_WS_PID=$(pgrep -f -- "port-forward pod/p 18090:80" | head -1)
KC_SPDY_PID=$(pgrep -f -- "port-forward pod/p 18091:80" | head -1)
KC_FAKE_PID=$(pgrep -f -- "port-forward pod/p 18092:80" | head -1)
FAKE_PID=$(pgrep -f -- "stream_probe.py fake 16443" | head -1)
[[ -n $CTD_PID && -n $KC_WS_PID && -n $KC_SPDY_PID && -n $KC_FAKE_PID && -n $FAKE_PID ]] || fail "containerd's or kubectl's pid not found"
cpu_s() { awk -v t="$TICK" '{ printf "%.3f\n", ($14 + $15) / t }' "/proc/$1/stat"; }
cpu_all() { echo "$(cpu_s "${2:-$SERVER_PID}") $(cpu_s "$1") $(cpu_s "$CTD_PID")"; }
speed() {  # speed URL: MiB/s of one download, and curl's CPU seconds
  in_ns "$NS" /usr/bin/time -f '%U %S' -o "$TEST_TMP/curl.time" curl -s -o /dev/null -w '%{speed_download}' "$1" |
    awk '{ printf "%.1f", $1 / 1048576 }'
  awk '{ printf " %.2f\n", $1 + $2 }' "$TEST_TMP/curl.time"
}
download() {  # download NAME URL KUBECTL_PID [SERVER_PID]: its MiB/s, and the CPU seconds of the
  local c0 c1 # API server (kite-server), kubectl, containerd and curl during it (columns 2-5 of NAME.cpu)
  c0=$(cpu_all "$3" "${4:-}")
  speed "$2" >"$TEST_TMP/one"
  c1=$(cpu_all "$3" "${4:-}")
  awk '{ print $1 }' "$TEST_TMP/one" >>"$TEST_TMP/$1.mbs"
  echo "$c0 $c1 $(awk '{ print $2 }' "$TEST_TMP/one")" |
    awk '{ printf "x %.3f %.3f %.3f %.2f\n", $4 - $1, $5 - $2, $6 - $3, $7 }' >>"$TEST_TMP/$1.cpu"
}
for f in ws spdy direct fake; do : >"$TEST_TMP/$f.mbs"; : >"$TEST_TMP/$f.cpu"; done
for _ in $(seq "$PF_ROUNDS"); do
  download ws http://127.0.0.1:18090/big "$KC_WS_PID"
  download spdy http://127.0.0.1:18091/big "$KC_SPDY_PID"
  download direct "http://$POD_IP/big" "$KC_WS_PID"
  download fake http://127.0.0.1:18092/big "$KC_FAKE_PID" "$FAKE_PID"
done
: >"$TEST_TMP/pf.ms"
: >"$TEST_TMP/direct.ms"
for _ in $(seq "$ROUNDS"); do
  in_ns "$NS" curl -s -o /dev/null -w '%{time_total}\n' http://127.0.0.1:18090/ | awk '{printf "%.3f\n", $1 * 1000}' >>"$TEST_TMP/pf.ms"
  in_ns "$NS" curl -s -o /dev/null -w '%{time_total}\n' "http://$POD_IP/" | awk '{printf "%.3f\n", $1 * 1000}' >>"$TEST_TMP/direct.ms"
done
LOAD_PF=$(cut -d' ' -f1-3 /proc/loadavg)

# --- logs -f: kubectl and tail -f follow the same log while the writer runs
LOGGER_UID=$(k get pod logger -o 'jsonpath={.metadata.uid}')
LOG_FILE=/var/log/pods/default_logger_$LOGGER_UID/logger/0.log
[[ -f $LOG_FILE ]] || fail "no CRI log file $LOG_FILE"
in_ns "$NS" python3 "$PROBE" count "$LOG_LINES" "$KUBECTL_BIN" --kubeconfig "$KC" --cache-dir "$TEST_TMP/kcache" \
  logs -f logger >"$TEST_TMP/follow.kubectl" &
FOLLOW_K=$!
python3 "$PROBE" count "$LOG_LINES" tail -c +1 -f "$LOG_FILE" >"$TEST_TMP/follow.tail" &
FOLLOW_T=$!
# kubectl's request has reached the kubelet when the kubelet's side of it is open.
following() {
  local pid
  pid=$(head -1 "$TEST_TMP/follow.kubectl")
  [[ -n $pid ]] && in_ns "$NS" ss -tnp state established '( dport = :6443 )' | grep -q "pid=$pid,"
}
wait_until 60 following || fail "kubectl logs -f did not connect"
k exec logger -- touch /tmp/go
wait "$FOLLOW_K" || fail "kubectl logs -f did not get $LOG_LINES lines"
wait "$FOLLOW_T" || fail "tail -f did not get $LOG_LINES lines"
LOG_BYTES=$(stat -c %s "$LOG_FILE")
rate() {  # rate FILE: MiB/s of the payload from the first byte to the last line
  tail -1 "$1" | awk -v b="$((LOG_LINES * 100))" '{ printf "%.1f", b / 1048576 / (($2 - $1) / 1000) }'
}
FOLLOW_KUBECTL=$(rate "$TEST_TMP/follow.kubectl")
FOLLOW_TAIL=$(rate "$TEST_TMP/follow.tail")
# The finished log read whole: kubectl logs against cat, and the API server's answer alone
# (curl with the admin certificate, no kubectl).
: >"$TEST_TMP/logs.ms"
: >"$TEST_TMP/cat.ms"
: >"$TEST_TMP/logs_api.ms"
LOG_URL=https://127.0.0.1:6443/api/v1/namespaces/default/pods/logger/log
: >"$TEST_TMP/logs.cpu"
: >"$TEST_TMP/logs_fake.ms"
for _ in 1 2 3; do
  time_cmd "$TEST_TMP/logs_fake.ms" kf logs logger
  c0=$(cpu_s "$SERVER_PID")
  time_cmd "$TEST_TMP/logs.ms" k logs logger
  c1=$(cpu_s "$SERVER_PID")
  awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f\n", b - a }' >>"$TEST_TMP/logs.cpu"
  time_cmd "$TEST_TMP/logs_api.ms" in_ns "$NS" curl -sf --cacert "$TLS/server-ca.crt" --cert "$TLS/client-admin.crt" \
    --key "$TLS/client-admin.key" -o /dev/null "$LOG_URL"
  time_cmd "$TEST_TMP/cat.ms" cat "$LOG_FILE"
done
LOAD_LOGS=$(cut -d' ' -f1-3 /proc/loadavg)

mibs() { awk -v ms="$1" -v b="$((LOG_LINES * 100))" 'BEGIN { printf "%.1f", b / 1048576 / (ms / 1000) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "== exec, $ROUNDS rounds side by side (p50 / p99 ms), load $LOAD_EXEC"
echo "kubectl version --client (start-up):  $(pct "$TEST_TMP/version.ms" 50) / $(pct "$TEST_TMP/version.ms" 99)"
echo "kubectl get pod p (start-up + 1 GET): $(pct "$TEST_TMP/get.ms" 50) / $(pct "$TEST_TMP/get.ms" 99)"
echo "kubectl exec p -- true (end to end):  $(pct "$TEST_TMP/exec.ms" 50) / $(pct "$TEST_TMP/exec.ms" 99)"
echo "API server WebSocket exec, no kubectl: total $(col "$TEST_TMP/api.ms" 5 50) / $(col "$TEST_TMP/api.ms" 5 99);" \
  "p50 connect $(col "$TEST_TMP/api.ms" 1 50), TLS $(col "$TEST_TMP/api.ms" 2 50), to 101 $(col "$TEST_TMP/api.ms" 3 50), 101 to close $(col "$TEST_TMP/api.ms" 4 50)"
echo "kubelet WebSocket exec (its part):    total $(col "$TEST_TMP/kubelet.ms" 5 50) / $(col "$TEST_TMP/kubelet.ms" 5 99);" \
  "p50 connect $(col "$TEST_TMP/kubelet.ms" 1 50), TLS $(col "$TEST_TMP/kubelet.ms" 2 50), to 101 $(col "$TEST_TMP/kubelet.ms" 3 50), 101 to close $(col "$TEST_TMP/kubelet.ms" 4 50)"
echo "ctr version (ctr's start-up):         $(pct "$TEST_TMP/ctrv.ms" 50) / $(pct "$TEST_TMP/ctrv.ms" 99)"
echo "ctr task exec true (containerd):      $(pct "$TEST_TMP/ctr.ms" 50) / $(pct "$TEST_TMP/ctr.ms" 99)"
echo "runc exec true (the floor):           $(pct "$TEST_TMP/runc.ms" 50) / $(pct "$TEST_TMP/runc.ms" 99)"
echo "== port-forward, $PF_ROUNDS downloads of $BIG_MB MiB each (medians), load $LOAD_PF"
echo "direct to the pod IP (the floor): $(pct "$TEST_TMP/direct.mbs" 50) MiB/s"
cpus() { echo "CPU s per download: ${2:-kite-server} $(col "$1" 2 50), kubectl $(col "$1" 3 50), containerd $(col "$1" 4 50), curl $(col "$1" 5 50)"; }
echo "  $(cpus "$TEST_TMP/direct.cpu")"
echo "WebSocket tunnel (kubectl 1.32):  $(pct "$TEST_TMP/ws.mbs" 50) MiB/s, ratio $(ratio "$(pct "$TEST_TMP/ws.mbs" 50)" "$(pct "$TEST_TMP/direct.mbs" 50)")"
echo "  $(cpus "$TEST_TMP/ws.cpu")"
echo "SPDY:                             $(pct "$TEST_TMP/spdy.mbs" 50) MiB/s, ratio $(ratio "$(pct "$TEST_TMP/spdy.mbs" 50)" "$(pct "$TEST_TMP/direct.mbs" 50)")"
echo "  $(cpus "$TEST_TMP/spdy.cpu")"
echo "kubectl's own floor (WebSocket, from a server that costs nothing): $(pct "$TEST_TMP/fake.mbs" 50) MiB/s, ratio $(ratio "$(pct "$TEST_TMP/fake.mbs" 50)" "$(pct "$TEST_TMP/direct.mbs" 50)"); kite's forward at $(ratio "$(pct "$TEST_TMP/ws.mbs" 50)" "$(pct "$TEST_TMP/fake.mbs" 50)") of it"
echo "  $(cpus "$TEST_TMP/fake.cpu" "the fake server")"
echo "13-byte GET p50: through the WebSocket forward $(pct "$TEST_TMP/pf.ms" 50) ms, direct $(pct "$TEST_TMP/direct.ms" 50) ms"
echo "== logs, $LOG_LINES lines ($((LOG_LINES * 100)) bytes of payload, CRI file $LOG_BYTES bytes), load $LOAD_LOGS"
echo "following the writer: kubectl logs -f $FOLLOW_KUBECTL MiB/s, tail -f of the file (the floor) $FOLLOW_TAIL MiB/s, ratio $(ratio "$FOLLOW_KUBECTL" "$FOLLOW_TAIL")"
echo "the finished log (median of 3): kubectl logs $(mibs "$(pct "$TEST_TMP/logs.ms" 50)") MiB/s, cat of the file $(mibs "$(pct "$TEST_TMP/cat.ms" 50)") MiB/s (of payload), ratio $(ratio "$(pct "$TEST_TMP/cat.ms" 50)" "$(pct "$TEST_TMP/logs.ms" 50)"); kite-server CPU $(pct "$TEST_TMP/logs.cpu" 50) s per read"
echo "kubectl logs against a server that costs nothing (kubectl's own floor): $(mibs "$(pct "$TEST_TMP/logs_fake.ms" 50)") MiB/s; kite's kubectl logs at $(ratio "$(pct "$TEST_TMP/logs_fake.ms" 50)" "$(pct "$TEST_TMP/logs.ms" 50)") of it"
echo "the finished log through the API server without kubectl (curl): $(mibs "$(pct "$TEST_TMP/logs_api.ms" 50)") MiB/s, ratio $(ratio "$(pct "$TEST_TMP/cat.ms" 50)" "$(pct "$TEST_TMP/logs_api.ms" 50)")"
