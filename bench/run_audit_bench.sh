#!/usr/bin/env bash
# What the audit log costs the API server (bench/RESULTS.md, "Audit"): the API benchmark's verbs
# (bench/run_api_bench.sh --phases verbs: pod create, get, list, patch, delete at each --clients)
# on a kite-server without auditing and on one with --audit-log-path and an --audit-policy-file
# that puts every request at --level (default Metadata), side by side. Rounds alternate which
# server goes first (so a drift in the machine's load does not favour one), and each round is
# one fresh server of each. Prints, per verb and client count, the median over the rounds of the
# server's CPU per request and of the p50 latency without and with auditing, and their ratio.
#
# The API server alone by default (--server-args "--disable-controller-manager
# --disable-scheduler": no controller traffic mixed in; the pods stay pending).
#
# Usage: bench/run_audit_bench.sh [options]      (run from the repository root)
#   --build DIR        holds bin/kite-server and bin/kite-api-bench (default: build)
#   --rounds N         rounds (default 5)
#   --clients LIST     client counts (default 8,64)
#   --ops N            requests per verb per run (default 2000)
#   --level LEVEL      the policy's one rule: Metadata, Request or RequestResponse (default Metadata)
#   --server-args ARGS kite-server flags for both servers (default: the two above)
#   --raw FILE         also keep the raw result lines (column 1 "off"/"on") in FILE
set -euo pipefail

BUILD=build
ROUNDS=5
CLIENTS=8,64
OPS=2000
LEVEL=Metadata
SERVER_ARGS="--disable-controller-manager --disable-scheduler"
RAW=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --build) BUILD=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --clients) CLIENTS=$2; shift 2 ;;
    --ops) OPS=$2; shift 2 ;;
    --level) LEVEL=$2; shift 2 ;;
    --server-args) SERVER_ARGS=$2; shift 2 ;;
    --raw) RAW=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

WORK=$(mktemp -d /tmp/kite-audit-bench.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cat > "$WORK/policy.yaml" <<YAML
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: $LEVEL
YAML
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

# run MODE: one round of the verbs on a fresh server, its result lines prefixed with MODE.
run() {
  local mode=$1 args=$SERVER_ARGS
  if [[ $mode == on ]]; then
    rm -f "$WORK/audit.log"
    args="$args --audit-log-path $WORK/audit.log --audit-policy-file $WORK/policy.yaml"
  fi
  # (it exits 1 for the result lines of the phases not run: each verb's line is checked here)
  "$HERE/run_api_bench.sh" --build "$BUILD" --rounds 1 --phases verbs --clients "$CLIENTS" --ops "$OPS" \
    --server-args "$args" --raw "$WORK/raw-$mode.txt" > /dev/null 2> "$WORK/api-bench-$mode.log" || true
  local verb
  for verb in create get list list_small patch delete; do
    grep -q "^$verb .*server_cpu_us_per_op=" "$WORK/raw-$mode.txt" || { tail -20 "$WORK/api-bench-$mode.log" >&2; echo "no '$verb' line ($mode)" >&2; exit 1; }
  done
  grep 'server_cpu_us_per_op=' "$WORK/raw-$mode.txt" | sed "s/^/$mode /" >> "$WORK/results.txt"
  if [[ $mode == on ]]; then
    log "audit log: $(wc -l < "$WORK/audit.log") events, $(du -h "$WORK/audit.log" | cut -f1)"
  fi
}

log "$ROUNDS rounds, clients $CLIENTS, ops $OPS, level $LEVEL, server args '$SERVER_ARGS', load $(cut -d' ' -f1 /proc/loadavg) on $(nproc) CPUs"
for r in $(seq 1 "$ROUNDS"); do
  if ((r % 2)); then run off; run on; else run on; run off; fi
  log "round $r done (load $(cut -d' ' -f1 /proc/loadavg))"
done
[[ -n $RAW ]] && cp "$WORK/results.txt" "$RAW"

awk '
function field(name,   i, kv) {
  for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == name) return kv[2] }
  return ""
}
function median(s,   a, m, i, j, x) {
  m = split(s, a, " ")
  if (m == 0) return 0
  for (i = 2; i <= m; i++) { x = a[i] + 0; for (j = i - 1; j >= 1 && a[j] + 0 > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
  return (m % 2) ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
{
  key = $2 " c=" field("clients")
  if (!(key in seen)) { seen[key] = 1; order[++n] = key }
  cpu[$1, key] = cpu[$1, key] " " field("server_cpu_us_per_op")
  p50[$1, key] = p50[$1, key] " " field("p50_ms")
}
END {
  print "| verb | server CPU us/op, no audit | with audit | ratio | p50 ms, no audit | with audit | rounds (CPU off / on) |"
  print "|---|---:|---:|---:|---:|---:|---|"
  for (i = 1; i <= n; i++) {
    k = order[i]; off = median(cpu["off", k]); on = median(cpu["on", k])
    ratio = off > 0 ? on / off : 0; p50off = median(p50["off", k]); p50on = median(p50["on", k])
    printf "| %s | %.1f | %.1f | %.2f | %.2f | %.2f |%s /%s |\n", k, off, on, ratio, p50off, p50on, cpu["off", k], cpu["on", k]
  }
}' "$WORK/results.txt"
