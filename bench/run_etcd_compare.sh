#!/usr/bin/env bash
# Side-by-side comparison of kite-server's etcd v3 endpoint with a real etcd on this machine.
#
# Starts one etcd (default durability: fsync on every commit) and one kite-server (default
# durability: strict fsync), each on free loopback ports with a temporary data dir, runs the same
# workloads of build/bin/kite-etcd-bench against both - alternating which server goes first,
# workload by workload, so that machine drift hits both - then the DB-size workload against each,
# stops them and prints a table of medians over the rounds with kite/etcd ratios.
#
# Compaction is the same for both servers. In the throughput/latency workloads the bench itself
# compacts each server every --compact-ms to (revision - --retain), as kube-apiserver does
# (every 5 minutes there), and each server runs its own compactor at its defaults (etcd's
# revision mode every 5 minutes; kite's every 5 minutes or once history passes 10x its default
# retention of 1,000 revisions). In the DB-size workload kite compacts on its own with
# --compact-ms/--retain and the bench compacts etcd the same way (etcd 3.4 has no shorter
# automatic period).
#
# Usage: bench/run_etcd_compare.sh [options]     (run from the repository root)
#   --build DIR          build dir holding bin/kite-server and bin/kite-etcd-bench (default: build)
#   --rounds N           rounds of the throughput/latency workloads (default 3)
#   --duration-ms MS     length of each put/get run (default 3000)
#   --db-updates N       updates in the DB-size workload, 0 skips it (default 200000)
#   --retain N           revisions kept by compaction on both servers (default 100)
#   --compact-ms MS      compaction interval on both servers (default 1000)
#   --kite-only          no etcd (smoke test: tiny counts are up to the caller)
#   --raw FILE           also keep the raw result lines in FILE
#   --bench-args "..."   extra arguments for every kite-etcd-bench run
#   --workloads LIST     comma-separated subset of put1,put16,put256,get,list,watch (default: all)
# Bounded: every bench run is killed after --timeout-s seconds (default 300).
set -euo pipefail

BUILD=build
ROUNDS=3
DURATION_MS=3000
DB_UPDATES=200000
RETAIN=100
COMPACT_MS=1000
KITE_ONLY=0
RAW=""
BENCH_ARGS=""
TIMEOUT_S=300
WORKLOAD_LIST=put1,put16,put256,get,list,watch
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration-ms) DURATION_MS=$2; shift 2 ;;
    --db-updates) DB_UPDATES=$2; shift 2 ;;
    --retain) RETAIN=$2; shift 2 ;;
    --compact-ms) COMPACT_MS=$2; shift 2 ;;
    --kite-only) KITE_ONLY=1; shift ;;
    --raw) RAW=$2; shift 2 ;;
    --bench-args) BENCH_ARGS=$2; shift 2 ;;
    --timeout-s) TIMEOUT_S=$2; shift 2 ;;
    --workloads) WORKLOAD_LIST=$2; shift 2 ;;
    -h|--help) sed -n '2,29p' "$0"; exit 0 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

BENCH=$BUILD/bin/kite-etcd-bench
KITE=$BUILD/bin/kite-server
for b in "$BENCH" "$KITE"; do
  [[ -x $b ]] || { echo "missing $b (build first)" >&2; exit 2; }
done
if [[ $KITE_ONLY == 0 ]]; then
  command -v etcd >/dev/null || { echo "etcd not installed (or use --kite-only)" >&2; exit 2; }
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/kite-etcd-compare.XXXXXX")
RESULTS=$WORK/results.txt
: > "$RESULTS"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  [[ -n $RAW ]] && cp "$RESULTS" "$RAW" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# A port nobody listens on now. Whoever binds it is checked after start (owner_ok).
free_port() {
  local p
  while :; do
    p=$(( 20000 + RANDOM % 40000 ))
    if ! ss -Htln "sport = :$p" | grep -q .; then echo "$p"; return; fi
  done
}
# True when `pid` is the only process listening on `port`: guards against
# benchmarking someone else's server that happened to take the port first.
owner_ok() {
  local pid=$1 port=$2 listeners
  listeners=$(ss -Htlnp "sport = :$port")
  # Ours, and nobody else's (SO_REUSEPORT would let two processes share the port).
  grep -q "pid=$pid," <<<"$listeners" && ! grep -v "pid=$pid," <<<"$listeners" | grep -q .
}
wait_ready() {  # label pid port
  local i
  for i in $(seq 1 100); do
    kill -0 "$2" 2>/dev/null || { log "$1 exited during start-up"; return 1; }
    if owner_ok "$2" "$3" && "$BENCH" --mode=ping --label="$1" --endpoint="127.0.0.1:$3" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  log "$1 not ready on port $3"
  return 1
}

declare -A PORT PID DIR
start_etcd() {
  local tries
  for tries in 1 2 3; do
    local cp pp
    cp=$(free_port); pp=$(free_port)
    DIR[etcd]=$WORK/etcd
    rm -rf "${DIR[etcd]}"
    # Default durability (fdatasync before every ack). Its own compactor (revision mode) only
    # runs every 5 minutes in etcd 3.4, so the DB-size workload also compacts from the client
    # with the same retention and interval kite uses (see RESULTS.md).
    etcd --name bench --data-dir "${DIR[etcd]}" \
      --listen-client-urls "http://127.0.0.1:$cp" --advertise-client-urls "http://127.0.0.1:$cp" \
      --listen-peer-urls "http://127.0.0.1:$pp" --initial-advertise-peer-urls "http://127.0.0.1:$pp" \
      --initial-cluster "bench=http://127.0.0.1:$pp" \
      --auto-compaction-mode=revision --auto-compaction-retention="$RETAIN" \
      >"$WORK/etcd.log" 2>&1 &
    PID[etcd]=$!; PIDS+=("${PID[etcd]}"); PORT[etcd]=$cp
    wait_ready etcd "${PID[etcd]}" "$cp" && return 0
    kill "${PID[etcd]}" 2>/dev/null || true
  done
  tail -20 "$WORK/etcd.log" >&2
  return 1
}

# kite-server's flags, with its automatic-compaction flags if $1 is "own" and this build has
# them (names from --help).
kite_compaction_flags() {
  local help
  help=$("$KITE" --help 2>&1 || true)
  KITE_COMPACT_FLAGS=()
  KITE_COMPACTS=0
  if [[ $1 == own ]] && grep -q -- '--compact-interval' <<<"$help"; then
    KITE_COMPACT_FLAGS+=("--compact-interval=${COMPACT_MS}ms"); KITE_COMPACTS=1
  fi
  if [[ $1 == own ]] && grep -q -- '--compact-min-retain' <<<"$help"; then
    KITE_COMPACT_FLAGS+=("--compact-min-retain=$RETAIN")
  fi
  # Keep the rest of kite-server off shared resources: a free port for the Kubernetes API,
  # no kubeconfig written outside the temporary dir.
  if grep -q -- '--https-listen-port' <<<"$help"; then KITE_COMPACT_FLAGS+=("--https-listen-port=0"); fi
  if grep -q -- '--write-kubeconfig ' <<<"$help"; then
    KITE_COMPACT_FLAGS+=("--write-kubeconfig=$WORK/kite/kubeconfig")
  fi
}

start_kite() {  # own|client: who compacts (see the top)
  kite_compaction_flags "$1"
  local tries
  for tries in 1 2 3; do
    local cp
    cp=$(free_port)
    DIR[kite]=$WORK/kite
    rm -rf "${DIR[kite]}"
    mkdir -p "${DIR[kite]}"
    "$KITE" --data-dir "${DIR[kite]}" --etcd-listen "127.0.0.1:$cp" --metrics-listen 127.0.0.1:0 --disable-agent \
      "${KITE_COMPACT_FLAGS[@]}" >"$WORK/kite.log" 2>&1 &
    PID[kite]=$!; PIDS+=("${PID[kite]}"); PORT[kite]=$cp
    wait_ready kite "${PID[kite]}" "$cp" && return 0
    kill "${PID[kite]}" 2>/dev/null || true
  done
  tail -20 "$WORK/kite.log" >&2
  return 1
}

FAILED=()
bench() {  # target args...
  local t=$1; shift
  # shellcheck disable=SC2086
  if ! timeout "$TIMEOUT_S" "$BENCH" --endpoint="127.0.0.1:${PORT[$t]}" --label="$t" \
      --duration-ms="$DURATION_MS" $BENCH_ARGS "$@" | tee -a "$RESULTS"; then
    log "FAILED: bench $t $*"
    FAILED+=("$t $*")
  fi
}

TARGETS=(etcd kite)
[[ $KITE_ONLY == 1 ]] && TARGETS=(kite)
log "work dir $WORK"
[[ $KITE_ONLY == 0 ]] && start_etcd
start_kite client
log "etcd: ${PORT[etcd]:-none} pid ${PID[etcd]:-none}; kite: ${PORT[kite]} pid ${PID[kite]}" \
    "(both compacted by the bench every ${COMPACT_MS} ms to revision - $RETAIN)"

WORKLOADS=()
IFS=, read -r -a wl <<<"$WORKLOAD_LIST"
for w in "${wl[@]}"; do
  case "$w" in
    put1) WORKLOADS+=("put --put-clients=1") ;;
    put16) WORKLOADS+=("put --put-clients=16") ;;
    put256) WORKLOADS+=("put --put-clients=256") ;;
    get|list|watch) WORKLOADS+=("$w") ;;
    *) echo "unknown workload $w" >&2; exit 2 ;;
  esac
done
for round in $(seq 1 "$ROUNDS"); do
  for w in "${WORKLOADS[@]}"; do
    order=("${TARGETS[@]}")
    # Alternate who goes first: ABBA over workloads and rounds.
    if (( (round + ${#w}) % 2 == 0 )) && [[ ${#TARGETS[@]} == 2 ]]; then order=(kite etcd); fi
    for t in "${order[@]}"; do
      # shellcheck disable=SC2086
      bench "$t" --mode=$w --compact-interval-ms="$COMPACT_MS" --compact-retain="$RETAIN"
    done
  done
  log "round $round done"
done
for t in "${TARGETS[@]}"; do bench "$t" --mode=rss --server-pid="${PID[$t]}"; done

stop_servers() {
  local t
  for t in "${TARGETS[@]}"; do kill "${PID[$t]}" 2>/dev/null || true; wait "${PID[$t]}" 2>/dev/null || true; done
}

if (( DB_UPDATES > 0 )); then
  # Fresh servers: the DB-size figure is about this workload alone.
  stop_servers
  [[ $KITE_ONLY == 0 ]] && start_etcd
  start_kite own
  for t in "${TARGETS[@]}"; do
    extra=()
    if [[ $t == etcd ]]; then
      extra=(--compact-interval-ms="$COMPACT_MS" --compact-retain="$RETAIN")
    elif [[ $KITE_COMPACTS == 0 ]]; then
      log "kite-server has no compaction flags: relying on its defaults"
    fi
    log "dbsize $t: $DB_UPDATES updates"
    bench "$t" --mode=dbsize --db-updates="$DB_UPDATES" --data-dir="${DIR[$t]}" \
      --settle-ms="$((COMPACT_MS * 2 + 500))" --server-pid="${PID[$t]}" "${extra[@]}"
  done
  if [[ $KITE_ONLY == 0 ]] && command -v etcdctl >/dev/null; then
    ETCDCTL_API=3 etcdctl --endpoints="127.0.0.1:${PORT[etcd]}" defrag >/dev/null 2>&1 \
      && bench etcd --mode=status --data-dir="${DIR[etcd]}" | sed 's/^status/dbsize_defrag/' >>"$RESULTS"
  fi
fi

# The table: medians over rounds, kite/etcd ratio.
awk -v rounds="$ROUNDS" '
function field(name,   i, kv) {
  for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
  return ""
}
function add(fig, t, v) {
  if (v == "") return
  if (!(fig in seen)) { seen[fig] = 1; order[++n] = fig }
  vals[fig, t] = vals[fig, t] " " v
}
function median(s,   a, m, i, j, x) {
  m = split(s, a, " ")
  if (m == 0) return ""
  for (i = 2; i <= m; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
  return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
{
  t = field("target"); c = field("c")
  if ($1 == "put" || $1 == "get") {
    add($1 " c=" c " ops/s", t, field("ops_per_s"))
    add($1 " c=" c " p50 ms", t, field("p50_ms"))
    add($1 " c=" c " p99 ms", t, field("p99_ms"))
  } else if ($1 == "list") {
    add("list " field("keys") " keys p50 ms", t, field("p50_ms"))
    add("list " field("keys") " keys p99 ms", t, field("p99_ms"))
  } else if ($1 == "watch") {
    w = field("watchers")
    add("watch " w " watchers p50 ms (from put ack)", t, field("p50_ms"))
    add("watch " w " watchers p99 ms (from put ack)", t, field("p99_ms"))
    add("watch " w " watchers p50 ms (from put send)", t, field("p50_from_send_ms"))
    add("watch " w " watchers p99 ms (from put send)", t, field("p99_from_send_ms"))
    add("watch deliveries before the put ack (%)", t, sprintf("%.1f", 100 * field("before_ack") / (field("expected") > 0 ? field("expected") : 1)))
    add("watch writer put p50 ms (send to ack)", t, field("put_p50_ms"))
    add("watch first delivery p50 ms (from put send)", t, field("first_from_send_p50_ms"))
    add("watch fan-out spread p50 ms (first to last delivery)", t, field("spread_p50_ms"))
    add("watch events delivered / expected (%)", t, 100 * field("delivered") / (field("expected") > 0 ? field("expected") : 1))
  } else if ($1 == "rss") {
    add("server VmRSS after load (MiB)", t, sprintf("%.1f", field("vmrss_kb") / 1024))
    add("server VmHWM after load (MiB)", t, sprintf("%.1f", field("vmhwm_kb") / 1024))
    add("server threads", t, field("threads"))
  } else if ($1 == "rss_after_dbsize") {
    add("server VmRSS after dbsize load (MiB)", t, sprintf("%.1f", field("vmrss_kb") / 1024))
    add("server VmHWM after dbsize load (MiB)", t, sprintf("%.1f", field("vmhwm_kb") / 1024))
  } else if ($1 == "dbload") {
    add("dbsize load c=" c " ops/s", t, field("ops_per_s"))
  } else if ($1 == "dbsize" || $1 == "dbsize_defrag") {
    p = ($1 == "dbsize") ? "" : " after defrag"
    add("db size" p " (MiB, Status dbSize)", t, sprintf("%.2f", field("db_size") / 1048576))
    add("db size" p " / live data", t, field("db_ratio"))
    add("db size in use" p " (MiB, Status dbSizeInUse)", t, sprintf("%.2f", field("db_size_in_use") / 1048576))
    add("data dir" p " (MiB, all files)", t, sprintf("%.2f", field("dir_bytes") / 1048576))
    add("data dir" p " / live data", t, field("dir_ratio"))
    if ($1 == "dbsize") add("live data (KiB, keys+values)", t, sprintf("%.1f", field("live_bytes") / 1024))
  }
}
END {
  printf "| figure (median of %d rounds) | etcd | kite | kite/etcd |\n|---|---:|---:|---:|\n", rounds
  for (i = 1; i <= n; i++) {
    f = order[i]; e = median(vals[f, "etcd"]); k = median(vals[f, "kite"])
    r = (e != "" && k != "" && e + 0 != 0) ? sprintf("%.2f", k / e) : "-"
    printf "| %s | %s | %s | %s |\n", f, (e == "" ? "-" : e), (k == "" ? "-" : k), r
  }
}' "$RESULTS"

if (( ${#FAILED[@]} > 0 )); then
  echo "failed runs (errors, incomplete watch delivery or timeout; see above):" >&2
  printf '  %s\n' "${FAILED[@]}" >&2
  exit 1
fi
