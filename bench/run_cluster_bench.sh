#!/usr/bin/env bash
# The cluster benchmark of kite-server (bench/RESULTS.md, "The cluster end to end"): a fresh
# kite-server (API, controllers, scheduler) plus kite-hollow's simulated nodes, driven by
# build/bin/kite-cluster-bench over HTTPS.
#   scheduling:   --nodes simulated nodes; for each --pods count and each variant (plain,
#                 anti-affinity, spread), a fresh server and nodes, then pods created by 16
#                 clients; pods/s from the first create to the last binding. With --backlog the
#                 scheduler's lease is held while the pods are created and released after, so
#                 the line also has the rate at which the scheduler works off that backlog.
#   deployments:  --deploy-nodes nodes; 8 clients create --deployments 5-replica Deployments;
#                 pods/min until every pod is Running.
#   footprint:    --rss-nodes nodes and --rss-pods pods Running; kite-server's VmRSS/VmHWM.
# A scheduling line also counts the scheduler's "Scheduled" Events stored (scheduled_events=: one
# per pod unless its event queue overflowed).
# Every phase prints its result line; a summary table follows.
#
# Usage: bench/run_cluster_bench.sh [--build DIR] [--nodes 5000] [--pods 10000,50000]
#          [--variants plain,anti-affinity,spread] [--deploy-nodes 100] [--deployments 200]
#          [--rss-nodes 1000] [--rss-pods 10000] [--skip scheduling|deployments|footprint]...
#          [--heartbeat 10s] [--timeout-s 900] [--server-args "--flag value ..."] [--backlog]
#          [--server-env "NAME=value ..."]   (environment of kite-server only, e.g. LD_PRELOAD=…)
#          [--no-token-volume]   (pods opt out of the ServiceAccount admission's projected token
#                                 volume, automountServiceAccountToken: false; to compare with a
#                                 server that predates it)
set -euo pipefail
BUILD=build
NODES=5000
PODS=10000,50000
VARIANTS=plain,anti-affinity,spread
DEPLOY_NODES=100
DEPLOYMENTS=200
RSS_NODES=1000
RSS_PODS=10000
HEARTBEAT=10s
TIMEOUT_S=900
SKIP=" "
SERVER_ARGS=""
BACKLOG=()
SERVER_ENV=""
POD_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --nodes) NODES=$2; shift 2 ;;
    --pods) PODS=$2; shift 2 ;;
    --variants) VARIANTS=$2; shift 2 ;;
    --deploy-nodes) DEPLOY_NODES=$2; shift 2 ;;
    --deployments) DEPLOYMENTS=$2; shift 2 ;;
    --rss-nodes) RSS_NODES=$2; shift 2 ;;
    --rss-pods) RSS_PODS=$2; shift 2 ;;
    --heartbeat) HEARTBEAT=$2; shift 2 ;;
    --timeout-s) TIMEOUT_S=$2; shift 2 ;;
    --skip) SKIP+="$2 "; shift 2 ;;
    --server-args) SERVER_ARGS=$2; shift 2 ;;
    --backlog) BACKLOG=(--backlog); shift ;;
    --server-env) SERVER_ENV=$2; shift 2 ;;
    --no-token-volume) POD_ARGS=(--automount-service-account-token=false); shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
BIN=$(cd "$BUILD/bin" && pwd)
WORK=$(mktemp -d /tmp/kite-cluster-bench.XXXXXX)
SERVER_PID="" HOLLOW_PID=""
log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
stop_all() {
  [[ -n $HOLLOW_PID ]] && kill "$HOLLOW_PID" 2>/dev/null && wait "$HOLLOW_PID" 2>/dev/null || true
  [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  HOLLOW_PID="" SERVER_PID=""
}
trap 'stop_all; rm -rf "$WORK"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
kc() { kubectl --kubeconfig "$DIR/kubeconfig" --cache-dir "$DIR/cache" "$@" </dev/null; }

# start_cluster NAME NODES: a fresh kite-server and NODES simulated nodes, all Ready.
# kite-server runs without its agent and without the metrics server: hollow nodes serve no kubelet
# API, and scraping their made-up addresses (10.200.0.x) would be traffic off this machine.
start_cluster() {
  DIR=$WORK/$1
  mkdir -p "$DIR"
  echo "{}" >"$DIR/config.yaml"
  # shellcheck disable=SC2086  # word-split on purpose: several NAME=value words
  env $SERVER_ENV "$BIN/kite-server" --config "$DIR/config.yaml" --data-dir "$DIR/data" --etcd-listen "" \
    --metrics-listen "127.0.0.1:$(free_port)" --bind-address 127.0.0.1 --https-listen-port "$(free_port)" \
    --write-kubeconfig "$DIR/kubeconfig" --disable-agent --disable-metrics-server $SERVER_ARGS >"$DIR/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 100); do [[ -s $DIR/kubeconfig ]] && break; sleep 0.1; done
  "$BIN/kite-hollow" --kubeconfig "$DIR/kubeconfig" --nodes "$2" --heartbeat-interval "$HEARTBEAT" \
    --cpu 32 --memory 256Gi --max-pods 250 >"$DIR/hollow.log" 2>&1 &
  HOLLOW_PID=$!
  local t0=$SECONDS
  until [[ $(kc get nodes --no-headers 2>/dev/null | grep -c ' Ready ') -ge $2 ]]; do
    ((SECONDS - t0 < 300)) || { log "nodes did not become Ready"; exit 1; }
    sleep 1
  done
  log "$1: kite-server pid $SERVER_PID, $2 nodes Ready after $((SECONDS - t0)) s"
}
# The scheduler's "Scheduled" Events stored in the bench namespace: one per pod bound unless
# some were dropped (its queue was full, or it lost its lease with Events queued). Counted once
# all are there, or once the count has not moved for 5 s (the writers drained their queue).
scheduled_events() {
  local n=-1 m still=0
  for _ in $(seq 60); do
    m=$(kc get events -n bench --field-selector reason=Scheduled -o name | wc -l)
    ((m >= $1)) && break
    if [[ $m == "$n" ]]; then ((++still >= 5)) && break; else still=0; fi
    n=$m
    sleep 1
  done
  echo "$m"
}
rss() { awk '/^VmRSS|^VmHWM/ {sub(":", "", $1); printf "%s_mib=%.1f ", $1, $2/1024}' "/proc/$SERVER_PID/status"; }

RESULTS=()
if [[ $SKIP != *" scheduling "* ]]; then
  for pods in ${PODS//,/ }; do
    for variant in ${VARIANTS//,/ }; do
      start_cluster "sched-$variant-$pods" "$NODES"
      # Groups small enough that every group fits one pod per node.
      groups=$(( (pods + NODES - 1) / NODES * 2 ))
      line=$("$BIN/kite-cluster-bench" --kubeconfig "$DIR/kubeconfig" "${POD_ARGS[@]}" --mode pods --variant "$variant" \
        --pods "$pods" --groups "$groups" --clients 16 --timeout-s "$TIMEOUT_S" "${BACKLOG[@]}" || true)
      line+=" nodes=$NODES $(rss) scheduled_events=$(scheduled_events "$pods")"
      echo "$line"
      RESULTS+=("$line")
      stop_all
    done
  done
fi
if [[ $SKIP != *" deployments "* ]]; then
  start_cluster deployments "$DEPLOY_NODES"
  line=$("$BIN/kite-cluster-bench" --kubeconfig "$DIR/kubeconfig" "${POD_ARGS[@]}" --mode deployments --deployments "$DEPLOYMENTS" \
    --replicas 5 --clients 8 --timeout-s "$TIMEOUT_S" || true)
  line+=" nodes=$DEPLOY_NODES $(rss)"
  echo "$line"
  RESULTS+=("$line")
  stop_all
fi
if [[ $SKIP != *" footprint "* ]]; then
  start_cluster footprint "$RSS_NODES"
  idle="$(rss)"
  line=$("$BIN/kite-cluster-bench" --kubeconfig "$DIR/kubeconfig" "${POD_ARGS[@]}" --mode pods --pods "$RSS_PODS" --clients 16 \
    --timeout-s "$TIMEOUT_S" || true)
  # Wait until the pods are Running, then let the server settle.
  until [[ $(kc get pods -n bench --field-selector=status.phase=Running --no-headers 2>/dev/null | wc -l) -ge $RSS_PODS ]]; do sleep 2; done
  sleep 10
  line="footprint nodes=$RSS_NODES pods=$RSS_PODS running=1 idle_with_nodes: $idle with_pods: $(rss)"
  echo "$line"
  RESULTS+=("$line")
  stop_all
fi
echo
echo "## summary (load average $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) CPUs)"
printf '%s\n' "${RESULTS[@]}"
