#!/usr/bin/env bash
# Pod start-up and the agent's memory on one real node (bench/RESULTS.md, "Pods on a node";
# issue 17). In one network namespace: kite-server (--disable-agent) and a kite-agent joined to it
# by token, with its own containerd (measured apart). Then:
#   single    SINGLE pods one after another: create → Running seen through a watch (p50/p99)
#   bursts    10 and 30 pods created at once: the same latency, and until the last is Running
#   floor     `ctr run -d` of the same image through the same containerd, SINGLE times (no
#             API, no sandbox, no CNI: what the runtime alone costs), and 30 at once (the
#             burst's floor); with runc, ctr's default, while the pods run under the agent's
#             default (crun where installed): --bursts --runtimes compares like with like
#   100 pods  a Deployment of 100 replicas: until all are Ready
#   memory    VmRSS of kite-agent, kite-server and containerd idle and with the 100 pods; and of
#             a kite-server with its embedded agent (a one-node cluster), idle, in a namespace beside
# Usage: bench/run_pod_startup.sh [--build DIR] [--single N]     (needs root)
# KITE_AGENT / KITE_SERVER in the environment measure other binaries than DIR's (the static
# release build: KITE_AGENT=build-release-amd64/bin/kite-agent); the image archives stay DIR's.
#
# The burst of 30 alone, for agents side by side: bench/run_pod_startup.sh --bursts ROUNDS
# [--runtimes crun,runc] [--timeline] VARIANT...  Each round runs the floor (30 `ctr run -d` at
# once), then for each VARIANT in turn (NAME=BINARY or NAME=BINARY:ENV=VALUE[,ENV=VALUE]) the
# agent restarted on the same data dir and a burst of 30; then each one's median over the rounds
# and its ratio to the floor's. With --runtimes, each round does that once per OCI runtime: the
# floor with that binary (`ctr run --runc-binary`), each VARIANT as NAME/RUNTIME with the agent's
# --default-runtime RUNTIME, and its ratio to that runtime's floor. Without it the agents use
# their default (crun where installed) and the floor `ctr run`'s (runc). --timeline runs the agents at -v 2 and prints each burst's per-pod timeline
# (bench/pod_timeline.py: where each pod's time went). --perf samples every CPU (perf record -a)
# during each floor and each burst (until its last pod is Running: not the teardown) and prints the commands that used the CPU (perf report --sort
# comm: runc, containerd-shim, the CNI plugins, the agent's threads…; other users' processes too);
# PERF_KEEP=DIR in the environment keeps the perf.data files there (perf report -i … --comm runc).
set -euo pipefail
BUILD=build
SINGLE=20
BURST_ROUNDS=0
TIMELINE=0
PERF=0
RUNTIMES=()
while [[ $# -gt 0 && $1 == --* ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --single) SINGLE=$2; shift 2 ;;
    --bursts) BURST_ROUNDS=$2; shift 2 ;;
    --timeline) TIMELINE=1; shift ;;
    --perf) PERF=1; shift ;;
    --runtimes) IFS=, read -r -a RUNTIMES <<<"$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if ((BURST_ROUNDS > 0)) && [[ $# -eq 0 ]]; then
  echo "usage: $0 --bursts ROUNDS [--runtimes crun,runc] [--timeline] NAME=BINARY[:ENV=VALUE,...]..." >&2
  exit 2
fi
BUILD=$(cd "$BUILD" && pwd)
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export KITE_SERVER=${KITE_SERVER:-$BUILD/bin/kite-server} KITE_AGENT=${KITE_AGENT:-$BUILD/bin/kite-agent}
export KITE_IMAGES=$BUILD/images
source "$HERE/../tests/integration/lib.sh"
source "$HERE/../tests/e2e/lib_node.sh"
require_node_tools
sweep_leftovers
IMAGE=kite.local/busybox:1.35

# floor_burst N [RUNTIME]: N `ctr run -d` of IMAGE at once through the agent's containerd
# ($SOCK), with RUNTIME's binary (runc or crun; default: ctr's, runc), each one's time and until
# the last has started; then they go. Prints one line.
floor_burst() {
  local n=$1 t0 t1 runs=() i binary=()
  [[ -n ${2:-} ]] && binary=(--runc-binary "$(command -v "$2")")
  rm -f "$TEST_TMP"/burst-floor-*
  t0=$(date +%s.%N)
  for i in $(seq 1 "$n"); do
    (ctr --address "$SOCK" -n k8s.io run "${binary[@]}" -d "$IMAGE" "burst-$$-$i" sleep 100000 >/dev/null
     echo "$(date +%s.%N) - $t0" | bc -l >"$TEST_TMP/burst-floor-$i") &
    runs+=($!)
  done
  wait "${runs[@]}"  # these only: the server and the agent are this shell's children too
  t1=$(date +%s.%N)
  cat "$TEST_TMP"/burst-floor-* | sort -n | awk -v n="$n" -v rt="${2:-runc}" -v all="$(echo "$t1 - $t0" | bc -l)" '{a[NR]=$1} END {
    printf "floor%-3d n=%-3d p50 %.3f s  p99 %.3f s, all started after %.3f s  (%d ctr run -d at once, %s)\n", n, NR, a[int((NR+1)/2)], a[NR], all, n, rt}'
  for i in $(seq 1 "$n"); do ctr --address "$SOCK" -n k8s.io tasks kill -s KILL "burst-$$-$i" >/dev/null 2>&1 || true; done
  for i in $(seq 1 "$n"); do
    for _ in $(seq 1 20); do ctr --address "$SOCK" -n k8s.io tasks rm "burst-$$-$i" >/dev/null 2>&1 && break; sleep 0.1; done
    ctr --address "$SOCK" -n k8s.io containers rm "burst-$$-$i" >/dev/null 2>&1 || true
  done
}

# perf_start TAG / perf_stop: with --perf, CPU samples of the whole machine between the two, then
# the commands with the most (over 1 %).
perf_start() {
  ((PERF)) || return 0
  PERF_FILE=$TEST_TMP/perf-$1.data
  perf record -a -F 499 -o "$PERF_FILE" -- sleep 600 >/dev/null 2>&1 &
  PERF_PID=$!
  sleep 0.5
}
perf_stop() {
  ((PERF)) || return 0
  kill -INT "$PERF_PID" 2>/dev/null || true  # a burst stops it at its last Running pod (below)
  wait "$PERF_PID" || true
  perf report -i "$PERF_FILE" --sort comm --stdio -q 2>/dev/null | awk '$1+0 >= 1 {printf "    %s", $0; n++; if (n % 4 == 0) print ""} END {print ""}'
  if [[ -n ${PERF_KEEP:-} ]]; then mv "$PERF_FILE" "$PERF_KEEP/"; else rm -f "$PERF_FILE"; fi
}

# print_startup: pod_startup.py's JSON (stdin) as one line per burst size.
print_startup() {
  python3 -c '
import json, sys
d = json.load(sys.stdin)
for k, v in d.items():
    fmt = lambda x: "-" if x is None else "%.3f s" % x
    extra = "" if "all_running_s" not in v else ", all Running after %s" % fmt(v["all_running_s"])
    print("%-8s n=%-3d p50 %s  p99 %s%s" % (k, v["n"], fmt(v["p50"]), fmt(v["p99"]), extra))'
}

if ((BURST_ROUNDS > 0)); then
  new_server_and_agent_in_one_ns bench
  k() { in_ns "$NS" "$KUBECTL_BIN" --kubeconfig "$KC" --cache-dir "$TEST_TMP/kcache" "$@"; }
  node_ready() { k get node bench-node -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep -q True; }
  verbosity=()
  ((TIMELINE)) && verbosity=(-v 2)
  echo "# pod bursts of 30: commit $(git -C "$HERE" rev-parse --short HEAD), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), $BURST_ROUNDS rounds"
  declare -A results=()
  ((${#RUNTIMES[@]})) || RUNTIMES=("")  # "": the agents' default runtime, ctr's for the floor
  for round in $(seq 1 "$BURST_ROUNDS"); do
   for runtime in "${RUNTIMES[@]}"; do
    for v in "$@"; do
      name=${v%%=*}${runtime:+/$runtime}
      spec=${v#*=}
      bin=${spec%%:*}
      envargs=()
      if [[ $spec == *:* ]]; then
        IFS=, read -r -a envs <<<"${spec#*:}"
        for e in "${envs[@]}"; do envargs+=(--env "$e"); done
      fi
      rtargs=()
      [[ -n $runtime ]] && rtargs=(--default-runtime "$runtime")
      start_ns_agent --log "$TEST_TMP/agent-${name//\//-}.log" "${envargs[@]}" "$bin" bench-node "${verbosity[@]}" "${rtargs[@]}"
      pid=$AGENT_PID
      wait_until 120 node_ready || fail "$name: node not Ready"
      SOCK=$(sed -n 's/^ *address *= *"\(.*\.sock\)"$/\1/p' "$AD/agent/etc/containerd/config.toml" | head -1)
      if [[ $v == "$1" ]]; then
        perf_start "floor${runtime:+-$runtime}"
        line=$(floor_burst 30 "$runtime")
        echo "round $round: $line"
        perf_stop
        results[floor$runtime]+="$(sed -n 's/.*all started after \([0-9.]*\) s.*/\1/p' <<<"$line") "
      fi
      sleep 5  # the agent's start-up settles (image import, first relists)
      rm -f "$TEST_TMP/timeline.jsonl"
      perf_start "${name//\//-}"
      # The profile ends with the burst's last Running pod: the pods' teardown is not the burst's.
      done_cmd=""
      ((PERF)) && done_cmd="kill -INT $PERF_PID"
      out=$(in_ns "$NS" env POD_STARTUP_TIMELINE="$TEST_TMP/timeline.jsonl" POD_STARTUP_BURST_DONE="$done_cmd" /usr/bin/python3 "$HERE/pod_startup.py" "$KC" "$IMAGE" 0 30)
      line=$(print_startup <<<"$out")
      echo "round $round: $name: $line"
      perf_stop
      results[$name]+="$(python3 -c 'import json,sys; v=json.load(sys.stdin)["burst30"]["all_running_s"]; print("%.3f" % v if v is not None else "nan")' <<<"$out") "
      ((TIMELINE)) && python3 "$HERE/pod_timeline.py" "$TEST_TMP/timeline.jsonl" "$TEST_TMP/agent-${name//\//-}.log" burst30
      # The pods are gone from the API; their containers too before the agent stops, or the next
      # agent's burst would begin by removing them.
      wait_until 180 bash -c "[[ -z \$(ctr --address '$SOCK' -n k8s.io containers ls -q 'labels.\"io.kubernetes.pod.namespace\"==default') ]]" ||
        echo "round $round: $name: pods' containers still there after 180 s"
      kill -TERM "$pid"
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    done
   done
  done
  median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
  for runtime in "${RUNTIMES[@]}"; do
    floor=$(median <<<"${results[floor$runtime]}")
    echo "floor30${runtime:+/$runtime} all started: median $floor s (${results[floor$runtime]% })"
    for v in "$@"; do
      name=${v%%=*}${runtime:+/$runtime}
      m=$(median <<<"${results[$name]}")
      echo "$name: burst of 30 all Running: median $m s ($(echo "${results[$name]% }")), $(echo "scale=2; $m / $floor" | bc -l)x the floor${runtime:+ of $runtime}"
    done
  done
  if ((${#RUNTIMES[@]} > 1)); then
    # The runtimes against each other: each one's medians over the first one's.
    for runtime in "${RUNTIMES[@]:1}"; do
      f=$(median <<<"${results[floor$runtime]}") f0=$(median <<<"${results[floor${RUNTIMES[0]}]}")
      echo "floor30: $runtime / ${RUNTIMES[0]} = $(echo "scale=2; $f / $f0" | bc -l)"
      for v in "$@"; do
        m=$(median <<<"${results[${v%%=*}/$runtime]}") m0=$(median <<<"${results[${v%%=*}/${RUNTIMES[0]}]}")
        echo "${v%%=*}: $runtime / ${RUNTIMES[0]} = $(echo "scale=2; $m / $m0" | bc -l)"
      done
    done
  fi
  echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi

# A one-node cluster as `dev.sh run` starts it: kite-server with its embedded agent, idle.
new_netns embedded
ENS=$REPLY
new_node_dir embedded
ED=$REPLY
_spawn "$TEST_TMP/embedded.log" nsenter --net="/run/netns/$ENS" -- "$KITE_SERVER" --data-dir "$ED" \
  --write-kubeconfig "$ED/kubeconfig" --node-name bench-embedded --etcd-listen "" --metrics-listen 127.0.0.1:0
EMBEDDED_PID=$LAST_PID
embedded_ready() {
  in_ns "$ENS" "$KUBECTL_BIN" --kubeconfig "$ED/kubeconfig" --cache-dir "$TEST_TMP/kc-e" get node bench-embedded \
    -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep -q True
}
wait_until 120 embedded_ready || fail "embedded node not Ready"
sleep 30
EMBEDDED_RSS=$(awk '/^VmRSS/{print $2}' "/proc/$EMBEDDED_PID/status")
EMBEDDED_CTRD=$(awk '/^VmRSS/{print $2}' "/proc/$(pgrep -f -- "containerd --config $ED/" | head -1)/status")
kill -TERM "$EMBEDDED_PID"

new_server_and_agent_in_one_ns bench
k() { in_ns "$NS" "$KUBECTL_BIN" --kubeconfig "$KC" --cache-dir "$TEST_TMP/kcache" "$@"; }
rss_kib() { awk '/^VmRSS/{print $2}' "/proc/$1/status"; }
containerd_pid() { pgrep -f -- "containerd --config $AD/" | head -1; }
start_ns_agent "$KITE_AGENT" bench-node
node_ready() { k get node bench-node -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep -q True; }
wait_until 120 node_ready || fail "node not Ready"
sleep 20
echo "# pods on a node: commit $(git -C "$HERE" rev-parse --short HEAD), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# kite-server $KITE_SERVER, kite-agent $KITE_AGENT"
echo "one-node cluster idle: kite-server with its embedded agent $EMBEDDED_RSS KiB, its containerd $EMBEDDED_CTRD KiB"
echo "idle: kite-agent $(rss_kib "$AGENT_PID") KiB, kite-server $(rss_kib "$SERVER_PID") KiB, containerd $(rss_kib "$(containerd_pid)") KiB"

in_ns "$NS" /usr/bin/python3 "$HERE/pod_startup.py" "$KC" "$IMAGE" "$SINGLE" 10,30 | print_startup

# The floor: the runtime alone.
SOCK=$(sed -n 's/^ *address *= *"\(.*\.sock\)"$/\1/p' "$AD/agent/etc/containerd/config.toml" | head -1)
floor=()
for i in $(seq 1 "$SINGLE"); do
  t0=$(date +%s.%N)
  ctr --address "$SOCK" -n k8s.io run -d "$IMAGE" "floor-$$-$i" sleep 100000 >/dev/null
  t1=$(date +%s.%N)
  floor+=("$(echo "$t1 - $t0" | bc -l)")
  ctr --address "$SOCK" -n k8s.io tasks kill -s KILL "floor-$$-$i" >/dev/null 2>&1 || true
done
for i in $(seq 1 "$SINGLE"); do
  for _ in $(seq 1 20); do ctr --address "$SOCK" -n k8s.io tasks rm "floor-$$-$i" >/dev/null 2>&1 && break; sleep 0.1; done
  ctr --address "$SOCK" -n k8s.io containers rm "floor-$$-$i" >/dev/null 2>&1 || true
done
printf '%s\n' "${floor[@]}" | sort -n | awk '{a[NR]=$1} END {p50=a[int((NR+1)/2)]; p99=a[NR]; printf "floor    n=%-3d p50 %.3f s  p99 %.3f s  (ctr run -d)\n", NR, p50, p99}'
# The burst floor: 30 `ctr run -d` at once, each one's time and until the last has started.
floor_burst 30

t0=$(date +%s.%N)
k create deployment hundred --image="$IMAGE" --replicas=100 -- sleep 100000 >/dev/null
hundred() { [[ $(k get deployment hundred -o 'jsonpath={.status.readyReplicas}') == 100 ]]; }
wait_until 600 hundred || fail "100 pods not Ready"
t1=$(date +%s.%N)
printf '100 pods: all Ready after %.1f s\n' "$(echo "$t1 - $t0" | bc -l)"
sleep 20
echo "100 pods: kite-agent $(rss_kib "$AGENT_PID") KiB, kite-server $(rss_kib "$SERVER_PID") KiB, containerd $(rss_kib "$(containerd_pid)") KiB"
