#!/usr/bin/env bash
# kite-dns against dnsmasq, side by side in one run, with dnsperf (Debian's) on the same names.
#
# Starts a kite-server (API only: --disable-agent), creates --services ClusterIP Services in
# namespace `bench` with kubectl, starts kite-dns on them and a dnsmasq answering the same names
# with the same addresses from a hosts file (no upstream, no logging). Each server is pinned to
# CPU 0 with taskset, dnsperf to CPU 1, so each server gets exactly one core. Then, for each
# round, alternating which server goes first (machine drift hits both):
#   - throughput: dnsperf with --clients clients and --outstanding queries in flight for
#     --seconds seconds: queries per second and average latency at saturation;
#   - latency: dnsperf limited to --rate queries per second: average and max latency there.
# Besides the QPS dnsperf saw, each server's own CPU time during the run (/proc/PID/stat) gives
# queries per CPU-second: the capacity of one core given to that server alone, which stays
# meaningful on a machine where other work competes for the pinned core.
# Prints a table of medians over the rounds and the kite-dns/dnsmasq ratio. Every run is bounded
# by its own time limit; everything started here is stopped on exit.
#
# Usage: bench/run_dns.sh [options]      (run from the repository root; root not needed)
#   --build DIR        holds bin/kite-server and bin/kite-dns (default: build)
#   --services N       Services created and queried (default 1000)
#   --rounds N         (default 3)
#   --seconds S        length of each dnsperf run (default 10)
#   --clients N        dnsperf clients (default 20)
#   --outstanding N    dnsperf queries in flight (default 500)
#   --rate QPS         rate of the latency runs (default 20000)
#   --server-cpu N     CPU for the DNS servers (default 0); --client-cpu N for dnsperf (default 1)
set -euo pipefail

BUILD=build
SERVICES=1000
ROUNDS=3
SECONDS_PER_RUN=10
CLIENTS=20
OUTSTANDING=500
RATE=20000
SERVER_CPU=0
CLIENT_CPU=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --services) SERVICES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --outstanding) OUTSTANDING=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --server-cpu) SERVER_CPU=$2; shift 2 ;;
    --client-cpu) CLIENT_CPU=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for tool in "$BUILD/bin/kite-server" "$BUILD/bin/kite-dns"; do
  [[ -x $tool ]] || { echo "missing $tool (build it first)" >&2; exit 1; }
done
DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
for tool in kubectl dnsperf dig taskset "$DNSMASQ"; do
  command -v "$tool" >/dev/null || { echo "missing $tool (packaging/deps.txt: dnsperf dnsutils dnsmasq-base)" >&2; exit 1; }
done

WORK_NAME=kite-dns-bench
source "$(dirname "${BASH_SOURCE[0]}")/lib_bench.sh"

# --- kite-server and the Services
API_PORT=$(free_port)
echo "{}" >"$WORK/empty.yaml"
taskset -c "$CLIENT_CPU" "$BUILD/bin/kite-server" --config "$WORK/empty.yaml" --data-dir "$WORK/data" \
  --etcd-listen "127.0.0.1:$(free_port)" --metrics-listen "127.0.0.1:$(free_port)" --bind-address 127.0.0.1 \
  --https-listen-port "$API_PORT" --write-kubeconfig "$WORK/kubeconfig" --disable-agent >"$WORK/server.log" 2>&1 &
PIDS+=($!)
k() { timeout 300 kubectl --kubeconfig "$WORK/kubeconfig" --cache-dir "$WORK/kcache" "$@" </dev/null; }
wait_for 60 k get --raw /readyz || { tail "$WORK/server.log"; echo "kite-server not ready" >&2; exit 1; }
k create namespace bench >/dev/null
{
  for i in $(seq 1 "$SERVICES"); do
    printf -- '---\napiVersion: v1\nkind: Service\nmetadata: {name: svc-%d, namespace: bench}\nspec: {ports: [{port: 80}]}\n' "$i"
  done
} >"$WORK/services.yaml"
k apply -f "$WORK/services.yaml" >/dev/null
k get svc -n bench -o 'jsonpath={range .items[*]}{.spec.clusterIP} {.metadata.name}.bench.svc.cluster.local{"\n"}{end}' \
  >"$WORK/hosts"
[[ $(wc -l <"$WORK/hosts") -eq $SERVICES ]] || { echo "expected $SERVICES Services" >&2; exit 1; }
awk '{print $2, "A"}' "$WORK/hosts" >"$WORK/queries"

# --- the two servers, each on one core
KITE_PORT=$(free_port)
taskset -c "$SERVER_CPU" "$BUILD/bin/kite-dns" --kubeconfig "$WORK/kubeconfig" --dns-address 127.0.0.1 \
  --dns-port "$KITE_PORT" --resolv-conf /dev/null --health-listen= --ready-listen= --metrics-listen "127.0.0.1:$(free_port)" \
  >"$WORK/kite-dns.log" 2>&1 &
PIDS+=($!)
KITE_PID=$!
MASQ_PORT=$(free_port)
# dnsmasq: the names from the hosts file, nothing else (no resolv.conf, no upstream), a 30 s TTL
# as a hosts-file deployment would use, its default cache, no query log.
taskset -c "$SERVER_CPU" "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
  --addn-hosts="$WORK/hosts" --local-ttl=30 --listen-address=127.0.0.1 --bind-interfaces --port="$MASQ_PORT" \
  --pid-file= --user="$(id -un)" --log-facility="$WORK/dnsmasq.log" &
PIDS+=($!)
MASQ_PID=$!
last_name=$(tail -1 "$WORK/hosts" | awk '{print $2}')
last_ip=$(tail -1 "$WORK/hosts" | awk '{print $1}')
answers() { [[ $(dig @127.0.0.1 -p "$1" +short +time=1 +tries=1 "$last_name" A) == "$last_ip" ]]; }
wait_for 60 answers "$KITE_PORT" || { tail "$WORK/kite-dns.log"; echo "kite-dns does not answer" >&2; exit 1; }
wait_for 30 answers "$MASQ_PORT" || { echo "dnsmasq does not answer" >&2; exit 1; }


# run NAME PORT PID MODE ROUND: one dnsperf run; appends
# "name mode round qps avg_ms max_ms lost qps_per_cpu_second" to results. The last column is the
# answered queries over the CPU time the server used meanwhile: what one core of its own would
# serve, whatever else the machine was doing.
run() {
  local name=$1 port=$2 pid=$3 mode=$4 round=$5 out="$WORK/perf-$1-$4-$5.txt" extra=()
  [[ $mode == latency ]] && extra=(-Q "$RATE")
  local t0; t0=$(cpu_ticks "$pid")
  taskset -c "$CLIENT_CPU" timeout $((SECONDS_PER_RUN + 30)) dnsperf -s 127.0.0.1 -p "$port" -d "$WORK/queries" \
    -l "$SECONDS_PER_RUN" -c "$CLIENTS" -q "$OUTSTANDING" -t 2 "${extra[@]}" >"$out" 2>&1
  local t1; t1=$(cpu_ticks "$pid")
  local qps avg max lost completed per_cpu
  qps=$(awk '/Queries per second:/ {printf "%.0f", $4}' "$out")
  avg=$(awk '/Average Latency \(s\):/ {printf "%.3f", $4 * 1000}' "$out")
  max=$(awk '/Average Latency \(s\):/ {gsub(/[(),]/, ""); printf "%.3f", $8 * 1000}' "$out")
  lost=$(awk '/Queries lost:/ {print $3}' "$out")
  completed=$(awk '/Queries completed:/ {print $3}' "$out")
  per_cpu=$(awk -v d="${completed:-0}" -v t=$((t1 - t0)) -v hz="$TICKS" 'BEGIN {printf "%.0f", (t > 0 ? d * hz / t : 0)}')
  echo "$name $mode $round ${qps:-0} ${avg:-0} ${max:-0} ${lost:-0} $per_cpu" | tee -a "$WORK/results" >&2
}
for round in $(seq 1 "$ROUNDS"); do
  for mode in throughput latency; do
    if ((round % 2)); then
      run kite-dns "$KITE_PORT" "$KITE_PID" "$mode" "$round"; run dnsmasq "$MASQ_PORT" "$MASQ_PID" "$mode" "$round"
    else
      run dnsmasq "$MASQ_PORT" "$MASQ_PID" "$mode" "$round"; run kite-dns "$KITE_PORT" "$KITE_PID" "$mode" "$round"
    fi
  done
done

col() { awk -v n="$1" -v m="$2" -v c="$3" '$1 == n && $2 == m {print $c}' "$WORK/results" | median; }
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
echo
echo "kite-dns vs dnsmasq: $SERVICES names, $ROUNDS rounds of ${SECONDS_PER_RUN}s, each server on CPU $SERVER_CPU, dnsperf on CPU $CLIENT_CPU (-c $CLIENTS -q $OUTSTANDING; latency at -Q $RATE), commit $commit"
printf '| %-34s | %12s | %12s | %8s |\n' "median of $ROUNDS" kite-dns dnsmasq ratio
printf '|%s|%s|%s|%s|\n' "------------------------------------" "--------------" "--------------" "----------"
row() {  # row LABEL MODE COLUMN higher|lower
  local a b
  a=$(col kite-dns "$2" "$3"); b=$(col dnsmasq "$2" "$3")
  printf '| %-34s | %12s | %12s | %8s |\n' "$1" "$a" "$b" "$(awk -v a="$a" -v b="$b" 'BEGIN {printf (b > 0 ? "%.2fx" : "-"), a / b}')"
}
row "QPS at saturation (pinned to 1 core)" throughput 4
row "queries per CPU-second at saturation" throughput 8
row "avg latency at saturation (ms)" throughput 5
row "queries lost at saturation" throughput 7
row "QPS offered $RATE/s" latency 4
row "avg latency at $RATE/s (ms)" latency 5
row "max latency at $RATE/s (ms)" latency 6
