#!/usr/bin/env bash
# kubectl logs and the kubelet server on a real node: kite-server with its embedded agent (its own
# containerd) inside a network namespace, its kubelet server on a free port. Shows: the Node's
# daemonEndpoints carry that port; an anonymous request to the kubelet gets 401; `kubectl logs p`
# prints both streams; `--tail`, `--since`, `--timestamps`, `--limit-bytes`; `logs -f` streams new
# lines while they are written (in the background, then killed); `--previous` after the container
# restarted shows the run before; `logs deploy/web` and `logs -l app=web`; a missing container
# is a 400; /stats/summary, /metrics/cadvisor and /metrics/resource through nodes/proxy (the
# kubelet's runtime operation metrics; promtool reports nothing on any of its metrics); a log
# bigger than --container-log-max-size is rotated and at most --container-log-max-files remain.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
sweep_leftovers

one_node logs
lines() { k "$@" | wc -l; }
sorted() { k "$@" | sort; }
start_node_server --pod-logs-dir "$D/pod-logs" --kubelet-port 0 \
  --container-log-max-size 200Ki --container-log-max-files 3
eventually_eq "node Ready" 90 True jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

# --- the kubelet server: its real port in the Node, 401 for anyone without a client certificate
PORT=$(k get node "$NODE" -o 'jsonpath={.status.daemonEndpoints.kubeletEndpoint.Port}')
[[ $PORT -gt 0 && $PORT -ne 10250 ]] || fail "daemonEndpoints port $PORT is not the free port picked"
grep -q "kubelet server listening on port $PORT" "$TEST_TMP/kite.log" || fail "the kubelet does not listen on $PORT"
echo "ok - daemonEndpoints.kubeletEndpoint.Port is the kubelet server's port ($PORT)"
IP=$(k get node "$NODE" -o 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}')
ANON=$(in_ns "$NS" curl -sk -m 10 -w ' %{http_code}' "https://$IP:$PORT/pods")
[[ $ANON == *'"reason":"Unauthorized"'*' 401' ]] || fail "anonymous request to the kubelet: $ANON"
echo "ok - anonymous request to the kubelet: 401 with a Status"

# --- a pod writing to both streams
k run p --image="$IMAGE" -- sh -c 'echo hello-out; echo hello-err >&2; i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.5; done' >/dev/null
eventually_eq "pod p Running" 90 Running jp pod p -o 'jsonpath={.status.phase}'
has_ticks() { [[ $(k logs p | grep -c '^tick') -ge 6 ]]; }
eventually "kubectl logs p prints its lines" 60 has_ticks
OUT=$(k logs p)
# The two streams are two pipes: their lines interleave in the order the runtime read them.
grep -qx hello-out <<<"$OUT" && grep -qx hello-err <<<"$OUT" || fail "both streams: $(head -3 <<<"$OUT")"
echo "ok - kubectl logs p: stdout and stderr"
expect_eq "--tail=2: two lines" 2 lines logs p --tail=2
TOTAL=$(k logs p | wc -l)
SINCE=$(k logs p --since=2s | wc -l)
((SINCE >= 1 && SINCE < TOTAL)) || fail "--since=2s printed $SINCE of $TOTAL lines"
echo "ok - --since=2s: the last $SINCE of $TOTAL lines"
TS=$(k logs p --tail=1 --timestamps)
[[ $TS =~ ^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9:.]+(Z|[+-][0-9:]+)\ tick\ [0-9]+$ ]] || fail "--timestamps: $TS"
echo "ok - --timestamps: $TS"
expect_eq "--limit-bytes=5" "hello" k logs p --limit-bytes=5

# --- logs -f: new lines arrive while it runs
k logs -f p >"$TEST_TMP/follow.out" 2>&1 &
FOLLOW=$!
LAST=$(k logs p --tail=1 | awk '{print $2}')
followed() { grep -q "^tick $((LAST + 4))$" "$TEST_TMP/follow.out"; }
eventually "logs -f streams lines written after it started" 60 followed
kill "$FOLLOW"
wait "$FOLLOW" 2>/dev/null || true
echo "ok - logs -f stopped by killing kubectl"

# --- --previous after a restart
k run crash --image="$IMAGE" -- sh -c 'echo run-started; echo run-$(cat /proc/sys/kernel/random/uuid); sleep 2; exit 1' >/dev/null
restarted() { [[ $(k get pod crash -o 'jsonpath={.status.containerStatuses[0].restartCount}') -ge 1 ]]; }
eventually "crash restarted" 120 restarted
PREV=$(k logs crash --previous)
[[ $(head -1 <<<"$PREV") == run-started && $(wc -l <<<"$PREV") -eq 2 ]] || fail "--previous: $PREV"
current_differs() { [[ $(k logs crash | tail -1) != "$(tail -1 <<<"$PREV")" && -n $(k logs crash | tail -1) ]]; }
eventually "--previous shows the run before the current one" 60 current_differs
NOPREV=$(k logs p --previous 2>&1 || true)
[[ $NOPREV == *'previous terminated container "p" in pod "p" not found'* ]] || fail "--previous without a restart: $NOPREV"
echo "ok - --previous without a restart: $NOPREV"
BAD=$(k logs p -c nope 2>&1 || true)
[[ $BAD == *"container nope is not valid for pod p"* ]] || fail "unknown container: $BAD"
echo "ok - an unknown container: $BAD"

# --- deploy/web and -l app=web
k create deployment web --image="$IMAGE" --replicas=2 -- sh -c 'echo web-$(hostname); sleep 3600' >/dev/null
eventually_eq "deployment web 2/2 ready" 120 2 jp deployment web -o 'jsonpath={.status.readyReplicas}'
PODS=$(k get pods -l app=web -o 'jsonpath={range .items[*]}{.metadata.name}{"\n"}{end}' | sort)
one_web_line() { [[ $(k logs deploy/web) == web-web-* ]]; }
eventually "kubectl logs deploy/web" 30 one_web_line
OUT_DEPLOY=$(k logs deploy/web | sed 's/^web-//')
grep -qx "$OUT_DEPLOY" <<<"$PODS" || fail "logs deploy/web: $OUT_DEPLOY not one of $PODS"
echo "ok - kubectl logs deploy/web: web-$OUT_DEPLOY"
expect_eq "kubectl logs -l app=web: one line from each pod" "$(sed 's/^/web-/' <<<"$PODS")" sorted logs -l app=web

# --- stats and metrics through nodes/proxy
SUMMARY=$(k get --raw "/api/v1/nodes/$NODE/proxy/stats/summary")
python3 - "$SUMMARY" "$NODE" <<'PY' || fail "stats/summary: $SUMMARY"
import json, sys
s = json.loads(sys.argv[1])
assert s["node"]["nodeName"] == sys.argv[2]
assert s["node"]["cpu"]["usageCoreNanoSeconds"] > 0 and s["node"]["memory"]["workingSetBytes"] > 0
assert s["node"]["fs"]["capacityBytes"] > 0
p = [x for x in s["pods"] if x["podRef"]["name"] == "p"][0]
assert p["containers"][0]["name"] == "p"
assert p["memory"]["workingSetBytes"] > 0, p
assert p["containers"][0]["cpu"]["usageCoreNanoSeconds"] > 0, p
assert p["network"]["rxBytes"] >= 0
PY
echo "ok - stats/summary through nodes/proxy: node and pod CPU, memory, fs, network"
CADVISOR=$(k get --raw "/api/v1/nodes/$NODE/proxy/metrics/cadvisor")
grep -qE '^container_cpu_usage_seconds_total\{container="p",id="[^"]*",image="",name="",namespace="default",pod="p"\} [0-9.e+-]+ [0-9]+$' <<<"$CADVISOR" ||
  fail "metrics/cadvisor: $(grep container_cpu <<<"$CADVISOR" | head -3)"
grep -qE '^container_memory_working_set_bytes\{container="p",.*pod="p"\} [1-9]' <<<"$CADVISOR" || fail "cadvisor working set"
echo "ok - metrics/cadvisor through nodes/proxy: container_cpu_usage_seconds_total and working set of p"
RESOURCE=$(k get --raw "/api/v1/nodes/$NODE/proxy/metrics/resource")
for m in node_cpu_usage_seconds_total node_memory_working_set_bytes 'container_cpu_usage_seconds_total{container="p",namespace="default",pod="p"}' \
  'pod_memory_working_set_bytes{namespace="default",pod="p"}' 'resource_scrape_error 0'; do
  grep -qF "$m" <<<"$RESOURCE" || fail "metrics/resource lacks $m"
done
echo "ok - metrics/resource through nodes/proxy"
METRICS=$(k get --raw "/api/v1/nodes/$NODE/proxy/metrics")
grep -qE '^kubelet_running_pods [1-9]' <<<"$METRICS" || fail "kubelet_running_pods: $METRICS"
echo "ok - kubelet metrics: $(grep '^kubelet_running_pods' <<<"$METRICS")"
# Every CRI call counted under upstream's names; none of the API server's families here.
for op in run_podsandbox create_container start_container; do
  grep -qE "^kubelet_runtime_operations_total\{operation_type=\"$op\"\} [1-9]" <<<"$METRICS" || fail "no $op in kubelet_runtime_operations_total"
  grep -qE "^kubelet_runtime_operations_duration_seconds_count\{operation_type=\"$op\"\} [1-9]" <<<"$METRICS" || fail "no $op duration"
done
grep -q '^apiserver_' <<<"$METRICS" && fail "the kubelet's /metrics carries the API server's families"
grep -qE '^process_resident_memory_bytes [0-9]' <<<"$METRICS" || fail "the kubelet's /metrics lacks process_*"
echo "ok - kubelet_runtime_operations_total: $(grep -c '^kubelet_runtime_operations_total' <<<"$METRICS") operation types; process_*"
for path in metrics metrics/cadvisor metrics/resource; do
  LINT=$(k get --raw "/api/v1/nodes/$NODE/proxy/$path" | promtool check metrics 2>&1) || fail "promtool check metrics on the kubelet's /$path: $LINT"
  [[ -z $LINT ]] || fail "promtool on the kubelet's /$path: $LINT"
done
echo "ok - promtool check metrics reports nothing for the kubelet's /metrics, /metrics/cadvisor, /metrics/resource"
expect_eq "healthz through nodes/proxy" ok k get --raw "/api/v1/nodes/$NODE/proxy/healthz"

# --- rotation: a chatty pod's log is rotated at 200Ki and at most 3 files remain
k run chatty --image="$IMAGE" -- sh -c 'while true; do head -c 3000 /dev/zero | tr "\0" x; echo; sleep 0.01; done' >/dev/null
eventually_eq "pod chatty Running" 90 Running jp pod chatty -o 'jsonpath={.status.phase}'
UID_=$(k get pod chatty -o 'jsonpath={.metadata.uid}')
LOGDIR=$D/pod-logs/default_chatty_$UID_/chatty
rotated_twice() { [[ $(ls "$LOGDIR" | grep -c '^0\.log\.') -ge 2 ]]; }
eventually "the chatty log is rotated" 90 rotated_twice
FILES=$(ls "$LOGDIR" | wc -l)
((FILES <= 3)) || fail "more than --container-log-max-files files: $(ls "$LOGDIR")"
SIZE=$(stat -c %s "$LOGDIR/0.log")
echo "ok - rotated: $(ls "$LOGDIR" | tr '\n' ' ')(current $SIZE bytes)"
tail_chatty() { [[ $(k logs chatty --tail=1 | wc -c) -eq 3001 ]]; }
eventually "logs of a rotated container still read" 30 tail_chatty
k delete pod chatty --wait=false >/dev/null
logdir_gone() { [[ ! -e $D/pod-logs/default_chatty_$UID_ ]]; }
eventually "a deleted pod's log directory is removed (--pod-logs-dir)" 60 logdir_gone
