#!/usr/bin/env bash
# Port-forward throughput of several kite-server binaries side by side (bench/RESULTS.md §14,
# issue 18): one node per binary, each kite-server with its embedded agent (its own containerd)
# in its own network namespace, serving a BIG_MB MiB file from a busybox httpd pod `p`. Every
# round downloads the file by curl, for every node in turn: through `kubectl port-forward` over
# the WebSocket tunnel (kubectl 1.32's default), over SPDY (KUBECTL_PORT_FORWARD_WEBSOCKETS=false)
# and directly from the pod IP (the floor). Medians, ratios to the direct floor of the same node
# and the CPU seconds per download of kite-server, kubectl and containerd (its stream server
# relays the bytes into the pod): the three relays of the path; the load is the machine's as it ran.
#   --server NAME=PATH   a kite-server binary to compare (repeatable; default: the build's);
#                        the agent and images are the build's
#   --perf DIR           after the rounds, `perf record -g` of the whole machine during one
#                        WebSocket and one SPDY download of each node (DIR/<name>-<ws|spdy>.data;
#                        read with `perf report -i FILE --comm kite-server`)
# Usage: bench/run_port_forward.sh [--build DIR] [--server NAME=PATH]... [--rounds N] [--big-mb N]
#        [--perf DIR]   (needs root)
set -euo pipefail
BUILD=build
ROUNDS=5
BIG_MB=100
PERF_DIR=
SERVERS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --server) SERVERS+=("$2"); shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --big-mb) BIG_MB=$2; shift 2 ;;
    --perf) PERF_DIR=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export KITE_SERVER=$BUILD/bin/kite-server KITE_AGENT=$BUILD/bin/kite-agent KITE_IMAGES=${KITE_IMAGES:-$BUILD/images}
[[ ${#SERVERS[@]} -gt 0 ]] || SERVERS=("build=$KITE_SERVER")
source "$HERE/../tests/integration/lib.sh"
source "$HERE/../tests/e2e/lib_node.sh"
require_node_tools
sweep_leftovers
IMAGE=kite.local/busybox:1.35
[[ -z $PERF_DIR ]] || { require_tool perf; mkdir -p "$PERF_DIR"; }

NAMES=()
declare -A NS_OF PID_OF KC_OF IP_OF DIR_OF CTD_OF KPF_OF
i=0
for spec in "${SERVERS[@]}"; do
  name=${spec%%=*}
  bin=${spec#*=}
  [[ -x $bin ]] || fail "not an executable: $bin"
  i=$((i + 1))
  new_netns "bpf$i"
  NS_OF[$name]=$REPLY
  new_node_dir "bpf$i"
  d=$REPLY
  DIR_OF[$name]=$d
  KC_OF[$name]=$TEST_TMP/kubeconfig-$name
  _spawn "$TEST_TMP/kite-$name.log" nsenter --net="/run/netns/${NS_OF[$name]}" -- "$bin" --data-dir "$d" \
    --write-kubeconfig "${KC_OF[$name]}" --node-name "bench-pf$i" --etcd-listen "" --metrics-listen 127.0.0.1:0 \
    --kubelet-port 0
  PID_OF[$name]=$LAST_PID
  NAMES+=("$name")
done
k() {  # k NAME ARGS...: kubectl against NAME's server
  local name=$1
  shift
  in_ns "${NS_OF[$name]}" "$KUBECTL_BIN" --kubeconfig "${KC_OF[$name]}" --cache-dir "$TEST_TMP/kcache-$name" "$@"
}
ready() { k "$1" get nodes -o 'jsonpath={.items[0].status.conditions[?(@.type=="Ready")].status}' 2>/dev/null | grep -q True; }
running() { [[ $(k "$1" get pod p -o 'jsonpath={.status.phase}' 2>/dev/null) == Running ]]; }
has_big() { [[ $(in_ns "${NS_OF[$1]}" curl -s -o /dev/null -w '%{size_download}' "http://${IP_OF[$1]}/big") -eq $((BIG_MB * 1024 * 1024)) ]]; }
forwarding() { [[ $(in_ns "${NS_OF[$1]}" curl -s -m 5 "http://127.0.0.1:$2/") == hello-bench ]]; }
for name in "${NAMES[@]}"; do
  wait_until 120 ready "$name" || fail "$name: node not Ready"
  k "$name" run p --image="$IMAGE" -- sh -c "mkdir -p /www && echo hello-bench >/www/index.html && \
    head -c $((BIG_MB * 1024 * 1024)) /dev/zero >/www/big && exec httpd -f -p 80 -h /www" >/dev/null
done
for name in "${NAMES[@]}"; do
  wait_until 120 running "$name" || fail "$name: pod p not Running"
  IP_OF[$name]=$(k "$name" get pod p -o 'jsonpath={.status.podIP}')
  wait_until 60 has_big "$name" || fail "$name: the pod's file is not served"
  in_ns "${NS_OF[$name]}" "$KUBECTL_BIN" --kubeconfig "${KC_OF[$name]}" --cache-dir "$TEST_TMP/kcache-$name" \
    port-forward pod/p 18090:80 >"$TEST_TMP/pf-ws-$name.log" 2>&1 &
  track_bg $!
  in_ns "${NS_OF[$name]}" env KUBECTL_PORT_FORWARD_WEBSOCKETS=false "$KUBECTL_BIN" --kubeconfig "${KC_OF[$name]}" \
    --cache-dir "$TEST_TMP/kcache-$name" port-forward pod/p 18091:80 >"$TEST_TMP/pf-spdy-$name.log" 2>&1 &
  track_bg $!
  KPF_OF[$name,ws]=$(pgrep -n -f -- "--cache-dir $TEST_TMP/kcache-$name port-forward pod/p 18090:80")
  KPF_OF[$name,spdy]=$(pgrep -n -f -- "--cache-dir $TEST_TMP/kcache-$name port-forward pod/p 18091:80")
  wait_until 30 forwarding "$name" 18090 || fail "$name: port-forward (WebSocket) not up"
  wait_until 30 forwarding "$name" 18091 || fail "$name: port-forward (SPDY) not up"
  # The node's containerd: its stream server relays the forwarded bytes into the pod.
  CTD_OF[$name]=$(pgrep -f -- "containerd --config ${DIR_OF[$name]}/" | head -1)
  [[ -n ${CTD_OF[$name]} && -n ${KPF_OF[$name,ws]} && -n ${KPF_OF[$name,spdy]} ]] ||
    fail "$name: containerd's or kubectl's process not found"
done

if [[ -n ${PF_HOLD:-} ]]; then  # by hand (profiling): the nodes stay up until the file PF_HOLD is removed
  for name in "${NAMES[@]}"; do
    echo "$name: ns ${NS_OF[$name]} kite-server ${PID_OF[$name]} containerd ${CTD_OF[$name]}" \
      "kubectl ws ${KPF_OF[$name,ws]} spdy ${KPF_OF[$name,spdy]} pod ${IP_OF[$name]}"
  done
  touch "$PF_HOLD"
  while [[ -e $PF_HOLD ]]; do sleep 1; done
  exit 0
fi
TICK=$(getconf CLK_TCK)
cpu_s() { awk -v t="$TICK" '{ printf "%.3f\n", ($14 + $15) / t }' "/proc/$1/stat"; }
url_of() {  # url_of NAME PATH: ws, spdy or direct
  case $2 in
    ws) echo http://127.0.0.1:18090/big ;;
    spdy) echo http://127.0.0.1:18091/big ;;
    direct) echo "http://${IP_OF[$1]}/big" ;;
  esac
}
download() {  # download NAME PATH: its MiB/s and the CPU seconds of kite-server, kubectl and containerd during it
  local c0 c1 k0=0 k1=0 d0 d1
  c0=$(cpu_s "${PID_OF[$1]}")
  d0=$(cpu_s "${CTD_OF[$1]}")
  [[ $2 == direct ]] || k0=$(cpu_s "${KPF_OF[$1,$2]}")
  in_ns "${NS_OF[$1]}" curl -s -o /dev/null -w '%{speed_download}' "$(url_of "$1" "$2")" |
    awk '{ printf "%.1f\n", $1 / 1048576 }' >>"$TEST_TMP/$1-$2.mbs"
  c1=$(cpu_s "${PID_OF[$1]}")
  d1=$(cpu_s "${CTD_OF[$1]}")
  [[ $2 == direct ]] || k1=$(cpu_s "${KPF_OF[$1,$2]}")
  awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.3f\n", b - a }' >>"$TEST_TMP/$1-$2.cpu"
  awk -v a="$k0" -v b="$k1" 'BEGIN { printf "%.3f\n", b - a }' >>"$TEST_TMP/$1-$2.kcpu"
  awk -v a="$d0" -v b="$d1" 'BEGIN { printf "%.3f\n", b - a }' >>"$TEST_TMP/$1-$2.dcpu"
}
for name in "${NAMES[@]}"; do download "$name" ws; download "$name" spdy; done  # warm-up, not counted
for name in "${NAMES[@]}"; do for p in ws spdy direct; do for x in mbs cpu kcpu dcpu; do : >"$TEST_TMP/$name-$p.$x"; done; done; done
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for _ in $(seq "$ROUNDS"); do
  for p in ws spdy direct; do
    for name in "${NAMES[@]}"; do download "$name" "$p"; done
  done
done
LOAD1=$(cut -d' ' -f1-3 /proc/loadavg)

pct() { sort -n "$1" | awk -v p="$2" '{a[NR]=$1} END {i=int((p/100)*NR+0.999); if (i<1) i=1; print a[i]}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
echo "== port-forward, $ROUNDS rounds of $BIG_MB MiB downloads (medians; min-max), load $LOAD0 -> $LOAD1"
for name in "${NAMES[@]}"; do
  direct=$(pct "$TEST_TMP/$name-direct.mbs" 50)
  echo "$name: direct to the pod IP (the floor) $direct MiB/s ($(pct "$TEST_TMP/$name-direct.mbs" 0)-$(pct "$TEST_TMP/$name-direct.mbs" 100))"
  for p in ws spdy; do
    m=$(pct "$TEST_TMP/$name-$p.mbs" 50)
    echo "$name: $p $m MiB/s ($(pct "$TEST_TMP/$name-$p.mbs" 0)-$(pct "$TEST_TMP/$name-$p.mbs" 100)), ratio to direct $(ratio "$m" "$direct");" \
      "CPU s per download: kite-server $(pct "$TEST_TMP/$name-$p.cpu" 50), kubectl $(pct "$TEST_TMP/$name-$p.kcpu" 50), containerd $(pct "$TEST_TMP/$name-$p.dcpu" 50)"
  done
done
if [[ ${#NAMES[@]} -gt 1 ]]; then
  first=${NAMES[0]}
  for name in "${NAMES[@]:1}"; do
    for p in ws spdy; do
      echo "$name/$first $p: throughput $(ratio "$(pct "$TEST_TMP/$name-$p.mbs" 50)" "$(pct "$TEST_TMP/$first-$p.mbs" 50)")×," \
        "kite-server CPU per download $(ratio "$(pct "$TEST_TMP/$name-$p.cpu" 50)" "$(pct "$TEST_TMP/$first-$p.cpu" 50)")×"
    done
  done
fi

if [[ -n $PERF_DIR ]]; then
  for name in "${NAMES[@]}"; do
    for p in ws spdy; do
      perf record -q -a -g -o "$PERF_DIR/$name-$p.data" -- \
        nsenter --net="/run/netns/${NS_OF[$name]}" -- curl -s -o /dev/null "$(url_of "$name" "$p")" 2>/dev/null
    done
  done
  echo "profiles in $PERF_DIR (perf report -i FILE --comm kite-server)"
fi
