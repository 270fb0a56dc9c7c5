#!/usr/bin/env bash
# The service proxy's sync benchmark (issue 19): full sync for 1k and 10k Services × 10
# endpoints, a partial sync after one endpoint change, and the network-programming latency
# (endpoint change → the iptables-restore / nft -f carrying it has returned), for the nftables
# mode and the iptables mode on its nft and legacy backends, side by side. Everything runs in a private network namespace made here (its own, empty iptables
# tables), deleted at the end even on failure; the host's tables are never touched. Root.
#
#   bench/run_proxy_sync.sh [--build DIR] [--sizes "1000 10000"] [--modes "nftables iptables/nft iptables/legacy"]
#                           [--changes N] [--min-sync-ms MS] [--full-rounds N] [--programming-wait-s S]
# A change that takes longer than S (default 30) to reach the rules counts as S in the
# programming columns, marked "(N over S s)".
set -euo pipefail
build=build sizes="1000 10000" modes="nftables iptables/nft iptables/legacy" changes=50 min_sync=1000 full_rounds=3 wait_s=30
while (($#)); do
  case $1 in
    --build) build=$2; shift 2 ;;
    --sizes) sizes=$2; shift 2 ;;
    --modes) modes=$2; shift 2 ;;
    --min-sync-ms) min_sync=$2; shift 2 ;;
    --changes) changes=$2; shift 2 ;;
    --full-rounds) full_rounds=$2; shift 2 ;;
    --programming-wait-s) wait_s=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ $(id -u) -eq 0 ]] || { echo "needs root (network namespaces, iptables, nft)" >&2; exit 77; }
bench=$build/bin/kite-proxy-bench
[[ -x $bench ]] || { echo "$bench missing (ninja -C $build kite-proxy-bench)" >&2; exit 1; }

ns=kite-bench-proxy-$$
err=$(mktemp)
cleanup() { ip netns delete "$ns" 2>/dev/null || true; }
trap 'cleanup; rm -f "$err"' EXIT
printf '| mode | Services × endpoints | rules | full (first) | first CPU | full (steady) | full CPU | partial p50 | partial p99 | partial CPU p50 (proxy alone) | restart: first sync CPU (listing) | programming p50 | programming p99 |\n'
printf '|---|---|---|---|---|---|---|---|---|---|---|---|---|\n'
for m in $modes; do
  mode=${m%%/*} b=${m#*/}
  [[ $m == */* ]] || b=""
  for n in $sizes; do
    # A fresh namespace per run: each starts from empty tables.
    cleanup
    ip netns add "$ns"
    out=$(nsenter --net="/run/netns/$ns" -- "$bench" --services "$n" --endpoints 10 --mode "$mode" ${b:+--backend "$b"} \
      --changes "$changes" --min-sync-ms "$min_sync" --full-rounds "$full_rounds" --programming-wait-s "$wait_s" 2>"$err") || { echo "kite-proxy-bench failed ($m, $n):" >&2; tail -5 "$err" >&2; exit 1; }
    get() { awk -v k="$1" '$1 == k {print $2}' <<<"$out"; }
    ms() { awk -v v="$(get "$1")" 'BEGIN {printf "%.0f ms", v * 1000}'; }
    printf '| %s | %s × 10 | %s | %s | %s | %s | %s | %s | %s | %s (%s) | %s (%s) | %s | %s |\n' "$m" "$n" "$(get nat_rules)" "$(ms full_first)" \
      "$(ms full_first_cpu)" "$(ms full_steady)" "$(ms full_cpu)" "$(ms partial_p50)" "$(ms partial_p99)" "$(ms partial_cpu_p50)" \
      "$(ms partial_self_cpu_p50)" "$(ms restart_cpu)" "$(ms readback_cpu)" \
      "$(ms programming_p50)" "$(ms programming_p99)$(t=$(get programming_timeouts); [[ $t == 0 ]] || echo " ($t over ${wait_s} s)")"
  done
done
