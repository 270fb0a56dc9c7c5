#!/usr/bin/env bash
# The Kubernetes API benchmark of kite-server (bench/RESULTS.md, "The Kubernetes API of kite-server").
#
# Every round starts three fresh kite-servers, one after the other (temporary data dir, free
# loopback ports, an empty config file so /etc/kite/config.yaml is never read, default
# durability unless --durability), and drives them with build/bin/kite-api-bench. Each start
# gives one sample of the time from exec to /readyz answering 200 (polled with the admin
# kubeconfig's client certificate).
#   footprint server: VmRSS after 2 s idle; fills namespace bench-list with --list-pods pods
#     (64 clients), VmRSS; lists them whole and page by page (limit=500), VmRSS.
#   watch server: --watchers watches of namespace bench-watch, --watch-events creates there
#     (delivery latency), VmRSS while the watches are open.
#   load server: pod verbs in namespace bench (create, get, list limit=500, list limit=20,
#     merge patch, delete) at each --clients value, VmRSS.
# Separate servers so that no memory figure is the one left behind by another workload (glibc
# keeps what concurrent big lists freed). Then prints a table of medians over the rounds (with
# every round's value beside it).
#
# Usage: bench/run_api_bench.sh [options]     (run from the repository root)
#   --build DIR           holds bin/kite-server and bin/kite-api-bench (default: build)
#   --rounds N            rounds, each with its three fresh servers (default 3)
#   --clients LIST        comma-separated client counts of the verbs runs (default 8,64)
#   --ops N               requests per verb per run, over all clients (default 2000)
#   --list-ops N          list requests per verbs run (default 200)
#   --list-pods N         pods for the big list (default 10000)
#   --list-calls N        whole lists and paged walks of them (default 5)
#   --watchers N          concurrent watches (default 1000)
#   --watch-events N      creates seen by every watcher (default 50)
#   --watch-interval-ms N pause between those creates (default 100)
#   --durability MODE     kite-server --datastore-durability (default: the server's, strict)
#   --raw FILE            also keep the raw result lines in FILE
#   --timeout-s N         every bench run is killed after this long (default 600)
#   --keep                keep the work dir (server logs, data) and print its path
#   --preload-nodelay     run kite-server with bench/tcp_nodelay_preload.c preloaded (TCP_NODELAY
#                         on its accepted sockets; an experiment, see bench/RESULTS.md)
#   --server-args "ARGS"  more kite-server flags, e.g. "--disable-controller-manager
#                         --disable-scheduler" to measure the API server alone (word-split)
#   --phases LIST         which servers each round starts: footprint,watch,verbs (default: all)
#   --no-token-volume     pods opt out of the ServiceAccount admission's projected token volume
#                         (automountServiceAccountToken: false), to compare with a server that
#                         predates it
#   --rbac-user           the verbs run as a non-admin user authorized by RBAC (a --token-auth-file
#                         token; `edit` in namespace bench by a RoleBinding, namespace create by a
#                         ClusterRoleBinding) with 1,000 more Roles and RoleBindings (of other users)
#                         in the cluster, instead of as system:masters; needs kubectl
set -euo pipefail

BUILD=build
ROUNDS=3
CLIENTS=8,64
OPS=2000
LIST_OPS=200
LIST_PODS=10000
LIST_CALLS=5
WATCHERS=1000
WATCH_EVENTS=50
WATCH_INTERVAL_MS=100
DURABILITY=""
RAW=""
TIMEOUT_S=600
KEEP=0
PRELOAD_NODELAY=0
SERVER_ARGS=""
PHASES=footprint,watch,verbs
RBAC_USER=0
POD_ARGS=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --ops) OPS=$2; shift 2 ;;
    --list-ops) LIST_OPS=$2; shift 2 ;;
    --list-pods) LIST_PODS=$2; shift 2 ;;
    --list-calls) LIST_CALLS=$2; shift 2 ;;
    --watchers) WATCHERS=$2; shift 2 ;;
    --watch-events) WATCH_EVENTS=$2; shift 2 ;;
    --watch-interval-ms) WATCH_INTERVAL_MS=$2; shift 2 ;;
    --durability) DURABILITY=$2; shift 2 ;;
    --raw) RAW=$2; shift 2 ;;
    --timeout-s) TIMEOUT_S=$2; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --preload-nodelay) PRELOAD_NODELAY=1; shift ;;
    --server-args) SERVER_ARGS=$2; shift 2 ;;
    --phases) PHASES=$2; shift 2 ;;
    --rbac-user) RBAC_USER=1; shift ;;
    --no-token-volume) POD_ARGS=(--automount-service-account-token=false); shift ;;
    -h|--help) sed -n '2,45p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

BENCH=$BUILD/bin/kite-api-bench
KITE=$BUILD/bin/kite-server
for b in "$BENCH" "$KITE"; do
  [[ -x $b ]] || { echo "missing $b (build first)" >&2; exit 2; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kite-api-bench.XXXXXX")
RESULTS=$WORK/results.txt
: > "$RESULTS"
SERVER_PID=""
cleanup() {
  if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  [[ -n $RAW ]] && cp "$RESULTS" "$RAW" 2>/dev/null || true
  if [[ $KEEP == 1 ]]; then echo "work dir kept: $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

SERVER_ENV=()
if [[ $PRELOAD_NODELAY == 1 ]]; then
  "${CC:-cc}" -O2 -shared -fPIC -o "$WORK/tcp_nodelay_preload.so" "$(dirname "$0")/tcp_nodelay_preload.c" -ldl
  SERVER_ENV=("LD_PRELOAD=$WORK/tcp_nodelay_preload.so")
fi

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# A port nobody listens on now, below the ephemeral range (the bench's own 1,000 client
# connections take ports from there); whoever binds it is checked after start (owner_ok).
free_port() {
  local p lo
  lo=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  while :; do
    p=$(( 10000 + RANDOM % (lo > 11000 ? lo - 10000 : 1000) ))
    if ! ss -Htln "sport = :$p" | grep -q .; then echo "$p"; return; fi
  done
}
# True when `pid` is the only process listening on `port` (not someone else's server).
owner_ok() {
  local pid=$1 port=$2 listeners
  listeners=$(ss -Htlnp "sport = :$port")
  grep -q "pid=$pid," <<<"$listeners" && ! grep -v "pid=$pid," <<<"$listeners" | grep -q .
}

FAILED=()
ROUND=0
record() { sed "s/ target=/ round=$ROUND target=/" | tee -a "$RESULTS"; }
BENCH_KUBECONFIG=kube.yaml
bench() {  # args...
  local rc=0
  timeout "$TIMEOUT_S" "$BENCH" --kubeconfig="$DIR/$BENCH_KUBECONFIG" "${POD_ARGS[@]}" "$@" > "$WORK/out.txt" || rc=$?
  record < "$WORK/out.txt"
  if (( rc != 0 )); then
    log "FAILED (exit $rc): kite-api-bench $*"
    FAILED+=("round $ROUND: $*")
    return 1
  fi
}
rss() {  # phase
  local f=/proc/$SERVER_PID/status
  [[ -r $f ]] || { log "no $f"; FAILED+=("round $ROUND: rss $1"); return 1; }
  awk -v phase="$1" -v round="$ROUND" '
    /^VmRSS:/ {rss=$2} /^VmHWM:/ {hwm=$2} /^Threads:/ {thr=$2}
    END {printf "rss round=%s target=kite phase=%s vmrss_kb=%s vmhwm_kb=%s threads=%s\n", round, phase, rss, hwm, thr}' "$f" \
    | tee -a "$RESULTS"
}

# Starts kite-server in $DIR (fresh) and waits (through kite-api-bench) for /readyz; the time counts from
# just before the exec. Retries with other ports if one was taken meanwhile.
start_server() {
  local tries
  for tries in 1 2 3; do
    rm -rf "$DIR"; mkdir -p "$DIR"
    echo '{}' > "$DIR/config.yaml"
    local ep mp hp extra=()
    ep=$(free_port); mp=$(free_port); hp=$(free_port)
    [[ -n $DURABILITY ]] && extra=(--datastore-durability "$DURABILITY")
    # shellcheck disable=SC2206  # word-split on purpose: several flags in one option
    [[ -n $SERVER_ARGS ]] && extra+=($SERVER_ARGS)
    [[ $RBAC_USER == 1 ]] && extra+=(--token-auth-file "$WORK/tokens.csv")
    local t0
    t0=$(date +%s%N)
    env "${SERVER_ENV[@]}" "$KITE" --config "$DIR/config.yaml" --data-dir "$DIR" --etcd-listen "127.0.0.1:$ep" \
      --metrics-listen "127.0.0.1:$mp" --bind-address 127.0.0.1 --https-listen-port "$hp" \
      --write-kubeconfig "$DIR/kube.yaml" --disable-agent "${extra[@]}" > "$DIR.log" 2>&1 &
    SERVER_PID=$!
    if timeout 60 "$BENCH" --kubeconfig="$DIR/kube.yaml" --mode=readyz --since-ns="$t0" --timeout-s=30 \
         > "$WORK/out.txt" && owner_ok "$SERVER_PID" "$hp"; then
      # kite-server's own figure (from main() to listening, without exec and dynamic loading).
      local _ own=-
      for _ in $(seq 1 100); do
        own=$(grep -o 'ready in [0-9]* ms' "$DIR.log" | awk '{print $3}') && [[ -n $own ]] && break
        own=-; sleep 0.01
      done
      sed "s/\$/ server_log_ready_ms=$own/" "$WORK/out.txt" | record
      log "kite-server pid $SERVER_PID on https port $hp (data $DIR)"
      return 0
    fi
    log "kite-server did not become ready on port $hp (try $tries)"
    tail -5 "$DIR.log" >&2 || true
    kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  done
  return 1
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

phase() { [[ ,$PHASES, == *,$1,* ]]; }

# The RBAC user's setup on the server in $DIR (as the admin): its bindings, 1,000 Roles and
# RoleBindings of other users, and $DIR/user.yaml (the admin kubeconfig with the user's token
# instead of the client certificate).
rbac_setup() {
  local kc=$DIR/kube.yaml i
  {
    printf 'apiVersion: v1\nkind: List\nitems:\n'
    printf -- '- {apiVersion: v1, kind: Namespace, metadata: {name: bench}}\n'
    printf -- '- {apiVersion: v1, kind: Namespace, metadata: {name: bench-rbac}}\n'
    printf -- '- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRole, metadata: {name: bench-namespaces}, rules: [{apiGroups: [""], resources: [namespaces], verbs: [create, get]}]}\n'
    printf -- '- {apiVersion: rbac.authorization.k8s.io/v1, kind: ClusterRoleBinding, metadata: {name: bench-namespaces}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: bench-namespaces}, subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: bench-user}]}\n'
    printf -- '- {apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: bench-edit, namespace: bench}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}, subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: bench-user}]}\n'
    for i in $(seq 1 1000); do
      printf -- '- {apiVersion: rbac.authorization.k8s.io/v1, kind: Role, metadata: {name: r%d, namespace: bench-rbac}, rules: [{apiGroups: [""], resources: [pods, configmaps], verbs: [get, list], resourceNames: [p%d]}]}\n' "$i" "$i"
      printf -- '- {apiVersion: rbac.authorization.k8s.io/v1, kind: RoleBinding, metadata: {name: rb%d, namespace: bench-rbac}, roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r%d}, subjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: user-%d}]}\n' "$i" "$i" "$i"
    done
  } > "$WORK/rbac.yaml"
  timeout 300 kubectl --kubeconfig "$kc" apply --validate=false -f "$WORK/rbac.yaml" > /dev/null || return 1
  grep -v -e 'client-certificate-data:' -e 'client-key-data:' "$kc" | sed 's/^\(\s*\)user:\s*$/\1user:\n\1  token: tok-bench-user/' > "$DIR/user.yaml"
  grep -q 'token: tok-bench-user' "$DIR/user.yaml" || { log "could not write $DIR/user.yaml"; return 1; }
  # RBAC follows writes: wait until the user may create pods.
  local deadline=$((SECONDS + 30))
  until timeout 10 kubectl --kubeconfig "$DIR/user.yaml" auth can-i create pods -n bench > /dev/null 2>&1; do
    ((SECONDS < deadline)) || { log "bench-user never got its rights"; return 1; }
    sleep 0.2
  done
}
[[ $RBAC_USER == 1 ]] && echo 'tok-bench-user,bench-user,1000,' > "$WORK/tokens.csv"
log "work dir $WORK; $ROUNDS round(s); phases $PHASES; server args '${SERVER_ARGS}'; clients $CLIENTS; ops $OPS; list pods $LIST_PODS; watchers $WATCHERS"
IFS=, read -r -a CLIENT_LIST <<<"$CLIENTS"
for ROUND in $(seq 1 "$ROUNDS"); do
  # The machine is usually shared: its load at the start of each round goes into the table.
  echo "load round=$ROUND target=kite loadavg1=$(cut -d' ' -f1 /proc/loadavg) cpus=$(nproc)" | tee -a "$RESULTS"
  # The footprint server: idle, then holding (and listing) the 10k pods.
  DIR=$WORK/round-$ROUND-footprint
  if ! phase footprint; then :
  elif start_server; then
    sleep 2
    rss idle || true
    bench --mode=list10k --namespace=bench-list --list-pods="$LIST_PODS" --list-calls="$LIST_CALLS" \
      --server-pid="$SERVER_PID" || true
    rss after_list || true
    stop_server
  else
    FAILED+=("round $ROUND: start footprint server")
  fi
  # The watch server: the watchers alone, so their memory shows.
  DIR=$WORK/round-$ROUND-watch
  if ! phase watch; then :
  elif start_server; then
    bench --mode=watchers --watch-namespace=bench-watch --watchers="$WATCHERS" --watch-events="$WATCH_EVENTS" \
      --watch-interval-ms="$WATCH_INTERVAL_MS" --server-pid="$SERVER_PID" --timeout-s=60 || true
    rss after_watchers || true
    stop_server
  else
    FAILED+=("round $ROUND: start watch server")
  fi
  # The load server: the verbs.
  DIR=$WORK/round-$ROUND-load
  if ! phase verbs; then :
  elif start_server; then
    BENCH_KUBECONFIG=kube.yaml
    if [[ $RBAC_USER == 1 ]]; then
      rbac_setup || FAILED+=("round $ROUND: rbac setup")
      BENCH_KUBECONFIG=user.yaml
    fi
    for c in "${CLIENT_LIST[@]}"; do
      bench --mode=verbs --namespace=bench --clients="$c" --ops="$OPS" --list-ops="$LIST_OPS" \
        --server-pid="$SERVER_PID" || true
    done
    rss after_verbs || true
    BENCH_KUBECONFIG=kube.yaml
    stop_server
  else
    FAILED+=("round $ROUND: start load server")
  fi
  log "round $ROUND done"
done

# Medians over the rounds, every round's value beside them.
awk -v rounds="$ROUNDS" '
function field(name,   i, kv) {
  for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
  return ""
}
function add(fig, v) {
  if (v == "" || v == "-") return
  if (!(fig in seen)) { seen[fig] = 1; order[++n] = fig }
  vals[fig] = vals[fig] " " v
}
function median(s,   a, m, i, j, x) {
  m = split(s, a, " ")
  if (m == 0) return ""
  for (i = 2; i <= m; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
  return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
function mib(kb) { return kb == "" ? "" : sprintf("%.1f", kb / 1024) }
{
  c = field("clients")
  if ($1 == "load") add("machine load average (1 min) at round start, " field("cpus") " CPUs", field("loadavg1"))
  else if ($1 == "readyz") {
    add("time from exec to /readyz 200 (ms)", field("ms"))
    add("  of which inside main(), per its log (ms)", field("server_log_ready_ms"))
  }
  else if ($1 == "rss") {
    add("VmRSS " field("phase") " (MiB)", mib(field("vmrss_kb")))
    if (field("phase") == "after_list") { add("VmHWM footprint server at the end (MiB)", mib(field("vmhwm_kb"))); add("server threads", field("threads")) }
    if (field("phase") == "after_watchers") add("VmHWM watch server at the end (MiB)", mib(field("vmhwm_kb")))
    if (field("phase") == "after_verbs") add("VmHWM load server at the end (MiB)", mib(field("vmhwm_kb")))
  } else if ($1 ~ /^(create|get|list|list_small|patch|delete)$/) {
    add($1 " c=" c " p50 ms", field("p50_ms"))
    add($1 " c=" c " p99 ms", field("p99_ms"))
    add($1 " c=" c " ops/s", field("ops_per_s"))
    add($1 " c=" c " server CPU us/op", field("server_cpu_us_per_op"))
    if ($1 ~ /^list/) add($1 " c=" c " items per response", field("items"))
  } else if ($1 == "fill") {
    add("fill " field("pods") " pods c=" c " p50 ms", field("p50_ms"))
    add("fill " field("pods") " pods c=" c " ops/s", field("ops_per_s"))
    add("VmRSS with " field("pods") " pods stored (MiB)", mib(field("server_rss_kb")))
  } else if ($1 == "list_all") {
    add("list all " field("items") " pods p50 ms", field("p50_ms"))
    add("list all " field("items") " pods p99 ms", field("p99_ms"))
    add("list all response (MiB)", sprintf("%.1f", field("resp_bytes") / 1048576))
  } else if ($1 == "list_paged") {
    add("list " field("items") " pods by limit=" field("limit") ": page p50 ms", field("page_p50_ms"))
    add("list " field("items") " pods by limit=" field("limit") ": whole walk p50 ms", field("walk_p50_ms"))
  } else if ($1 == "watch") {
    w = field("watchers")
    add("watch " w " watchers: open all (ms)", field("connect_ms"))
    add("watch " w " watchers: delivery p50 ms (from send)", field("p50_ms"))
    add("watch " w " watchers: delivery p99 ms (from send)", field("p99_ms"))
    add("watch " w " watchers: delivery p50 ms (from 201)", field("p50_from_ack_ms"))
    add("watch " w " watchers: delivery p99 ms (from 201)", field("p99_from_ack_ms"))
    add("watch " w " watchers: last watcher p50 ms (from send)", field("all_p50_ms"))
    add("watch " w " watchers: last watcher p99 ms (from send)", field("all_p99_ms"))
    add("watch delivered / expected (%)", sprintf("%.1f", 100 * field("delivered") / (field("expected") > 0 ? field("expected") : 1)))
    add("watch " w " watchers: server CPU ms/event", field("server_cpu_ms_per_event"))
    add("watch " w " watchers: client CPU ms/event", field("client_cpu_ms_per_event"))
    add("VmRSS with " w " watches open (MiB)", mib(field("server_rss_kb")))
  }
}
END {
  printf "| figure | median of %d | rounds |\n|---|---:|---|\n", rounds
  for (i = 1; i <= n; i++) { f = order[i]; v = vals[f]; sub(/^ /, "", v); gsub(/ /, ", ", v); printf "| %s | %s | %s |\n", f, median(vals[f]), v }
}' "$RESULTS"

# Every kind of result line must be there (the smoke test relies on this, not on any figure).
for kind in readyz rss create get list list_small patch delete fill list_all list_paged watch; do
  grep -q "^$kind " "$RESULTS" || FAILED+=("no '$kind' result line")
done
if (( ${#FAILED[@]} > 0 )); then
  echo "failed runs:" >&2
  printf '  %s\n' "${FAILED[@]}" >&2
  exit 1
fi
