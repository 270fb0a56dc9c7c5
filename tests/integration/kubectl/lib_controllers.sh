# Helpers for the controller suites (sourced after lib_kubectl.sh): controllers act
# asynchronously, so cases poll until what a user would see appears, or time out.

# eventually NAME SECONDS REGEX -- CMD...: CMD's stdout+stderr matches REGEX within SECONDS.
eventually() {
  local name=$1 secs=$2 re=$3
  shift 4
  local out rc deadline=$((SECONDS + secs))
  while :; do
    rc=0
    out=$("$@" 2>&1) || rc=$?
    if [[ $rc -eq 0 ]] && grep -Eq -- "$re" <<<"$out"; then
      _report ok "$name"
      return 0
    fi
    ((SECONDS < deadline)) || break
    sleep 0.5
  done
  _report fail "$name" "not within ${secs}s: exit $rc; wanted /$re/; got:
$out"
}

# eventually_exact NAME SECONDS EXPECTED -- CMD...: CMD's stdout equals EXPECTED within SECONDS.
eventually_exact() {
  local name=$1 secs=$2 want=$3
  shift 4
  local out deadline=$((SECONDS + secs))
  while :; do
    out=$("$@" 2>&1 | sed 's/[[:space:]]*$//') || true
    if [[ $out == "$want" ]]; then
      _report ok "$name"
      return 0
    fi
    ((SECONDS < deadline)) || break
    sleep 0.5
  done
  _report fail "$name" "not within ${secs}s; wanted:
$want
got:
$out"
}

# ready_pod NS NAME IP: what a kubelet would report for a running, ready pod.
ready_pod() {
  local now
  now=$(date -u +%Y-%m-%dT%H:%M:%SZ)
  k -n "$1" patch pod "$2" --subresource=status --type=merge -p \
    "{\"status\":{\"phase\":\"Running\",\"podIP\":\"$3\",\"podIPs\":[{\"ip\":\"$3\"}],\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"lastTransitionTime\":\"$now\"}]}}"
}
