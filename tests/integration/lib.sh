# Shared helpers for the integration scripts (sourced, not run). They start servers on free
# loopback ports under a temporary directory and tear everything down on exit.
#
# Inputs (environment, set by ctest; defaults for running a script by hand from the build dir):
#   KITE_SERVER  path of the kite-server binary   (default: ./bin/kite-server)
#   ETCD         path of the reference etcd        (default: etcd from PATH)
#   ETCDCTL      path of etcdctl                   (default: etcdctl from PATH)
# Every wait is bounded; nothing reads the terminal.

export ETCDCTL_API=3
KITE_SERVER=${KITE_SERVER:-./bin/kite-server}
ETCD=${ETCD:-etcd}
ETCDCTL=${ETCDCTL:-etcdctl}

TEST_TMP=$(mktemp -d "${TMPDIR:-/tmp}/kite-it.XXXXXX")
_SERVER_PIDS=()
_SERVER_LOGS=()
_BG_PIDS=() # clients started in the background (watches, load), killed on exit

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

_cleanup() {
  local rc=$?
  set +e
  local pid
  for pid in "${_BG_PIDS[@]}"; do
    # Its children first: a tracked `timeout 120 etcdctl watch …` killed alone left etcdctl
    # running, reparented to init, retrying its dead endpoint for good.
    pkill -KILL -P "$pid" 2>/dev/null
    kill -KILL "$pid" 2>/dev/null
  done
  for pid in "${_SERVER_PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null
  done
  for pid in "${_SERVER_PIDS[@]}"; do
    # Bounded wait for a clean exit, then force it.
    local i
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  if [[ $rc -ne 0 ]]; then
    local f
    for f in "${_SERVER_LOGS[@]}"; do
      [[ -f $f ]] || continue
      echo "----- last lines of $(basename "$f") -----" >&2
      tail -n 40 "$f" >&2
    done
  fi
  # Mounts a kubelet left under the test's dir (pods' tmpfs volumes outlive an agent, as they
  # must across its restarts): deepest first, then the dir itself can go.
  local m
  while read -r m; do umount -l "$m" 2>/dev/null; done < <(awk -v d="$TEST_TMP/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r)
  [[ -n ${KEEP_TMP:-} ]] || rm -rf "$TEST_TMP"
  local d
  for d in "$_PORT_DIR"/*/; do
    [[ $(cat "$d/pid" 2>/dev/null) == "$$" ]] && rm -rf "$d"
  done
  exit $rc
}
trap _cleanup EXIT
trap 'exit 130' INT TERM

require_tool() {
  command -v "$1" >/dev/null 2>&1 || [[ -x $1 ]] || fail "required tool not found: $1"
}

# Ports handed out are reserved machine-wide until the script exits: a directory per port under
# _PORT_DIR holding the owner's pid. Scripts run side by side (ctest -j) pick ports before their
# servers bind them, so "nothing listens there" alone let two of them take the same one. (It is
# also what keeps one script's own calls apart: free_port runs in a $(...) subshell, where an
# in-memory list of the ports handed out would be lost.) Reservations of scripts that died
# without their trap (kill -9) are swept at the next start once their owner is gone.
_PORT_DIR=${TMPDIR:-/tmp}/kite-test-ports
mkdir -p "$_PORT_DIR"
for _d in "$_PORT_DIR"/*/; do
  [[ -d $_d ]] || continue
  # `|| true`: another script's sweep may remove the directory meanwhile, and a failed command
  # substitution in an assignment would end this script under `set -e`, silently.
  _o=$(cat "$_d/pid" 2>/dev/null || true)
  # No pid yet: a reservation being made this instant; an old one without is a crash's.
  if [[ -n $_o ]]; then kill -0 "$_o" 2>/dev/null || rm -rf "$_d"
  elif [[ -n $(find "$_d" -maxdepth 0 -mmin +10 2>/dev/null) ]]; then rm -rf "$_d"; fi
done
unset _d _o

# Prints a loopback TCP port that nothing listens on and no running test script has reserved.
# (A process that binds a port of its own choosing below 32768 can still take it.)
free_port() {
  local p i
  for i in $(seq 1 200); do
    # Below Linux's ephemeral range (32768+), so outgoing connections do not take it meanwhile.
    p=$((20000 + (RANDOM * 32768 + RANDOM) % 12000))
    mkdir "$_PORT_DIR/$p" 2>/dev/null || continue
    echo $$ >"$_PORT_DIR/$p/pid"  # $$: the script's pid, also in a subshell
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
      echo "$p"
      return 0
    fi
    rm -rf "${_PORT_DIR:?}/$p"
  done
  fail "no free port found"
}

# track_bg PID — a background client to kill if the script ends early.
track_bg() { _BG_PIDS+=("$1"); }

# Starts a server in the background; its pid goes to $LAST_PID and the cleanup list.
_spawn() {
  local logfile=$1
  shift
  "$@" </dev/null >>"$logfile" 2>&1 &
  LAST_PID=$!
  _SERVER_PIDS+=("$LAST_PID")
  [[ " ${_SERVER_LOGS[*]} " == *" $logfile "* ]] || _SERVER_LOGS+=("$logfile")
}

# start_etcd NAME DATA_DIR CLIENT_PORT [METRICS_PORT] — a single-member etcd. The peer port is
# ETCD_PEER_PORT when set (a restarted member keeps its peer URL), else a fresh one.
start_etcd() {
  local name=$1 dir=$2 port=$3 mport=${4:-}
  local peer=${ETCD_PEER_PORT:-}
  [[ -n $peer ]] || peer=$(free_port)
  local args=(--name "$name" --data-dir "$dir"
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port"
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer"
    --initial-cluster "$name=http://127.0.0.1:$peer")
  [[ -n $mport ]] && args+=(--listen-metrics-urls "http://127.0.0.1:$mport")
  _spawn "$TEST_TMP/$name.log" "$ETCD" "${args[@]}"
}

# start_kite NAME DATA_DIR CLIENT_PORT METRICS_PORT — extra flags from the KITE_ARGS array.
# The Kubernetes API gets a free port and no kubeconfig is written (tests run side by side
# and must not touch the machine's configuration); no config file is read. These suites test the
# datastore and its etcd endpoint, so the controllers and the scheduler (whose lease renewals
# and objects would move the revision under a transcript comparison) do not run.
KITE_ARGS=()
start_kite() {
  local name=$1 dir=$2 port=$3 mport=$4
  echo "{}" >"$TEST_TMP/empty-config.yaml"
  _spawn "$TEST_TMP/$name.log" "$KITE_SERVER" --config "$TEST_TMP/empty-config.yaml" --data-dir "$dir" \
    --etcd-listen "127.0.0.1:$port" --metrics-listen "127.0.0.1:$mport" \
    --bind-address 127.0.0.1 --https-listen-port 0 --write-kubeconfig= --disable-controller-manager --disable-scheduler --disable-agent "${KITE_ARGS[@]}"
}

# start_server KIND NAME DATA_DIR CLIENT_PORT METRICS_PORT, KIND = kite | etcd
start_server() {
  case $1 in
    kite) start_kite "$2" "$3" "$4" "$5" ;;
    etcd) start_etcd "$2" "$3" "$4" "$5" ;;
    *) fail "unknown server kind $1" ;;
  esac
}

# start_ready KIND NAME DATA_DIR — picks free ports, starts the server and waits until it
# answers. A start that loses its port to a concurrently started process ("address already in
# use") is retried on new ports. Sets PORT, MPORT, EP and SERVER_PID.
start_ready() {
  local kind=$1 name=$2 dir=$3 attempt readies
  for attempt in 1 2 3; do
    PORT=$(free_port)
    MPORT=$(free_port)
    EP="127.0.0.1:$PORT"
    ETCD_PEER_PORT=$(free_port)
    readies=$(grep -c 'kite-server ready in' "$TEST_TMP/$name.log" 2>/dev/null || true)
    readies=${readies:-0}
    start_server "$kind" "$name" "$dir" "$PORT" "$MPORT"
    SERVER_PID=$LAST_PID
    local deadline=$((SECONDS + 30))
    while ((SECONDS < deadline)); do
      kill -0 "$SERVER_PID" 2>/dev/null || break
      if timeout 5 "$ETCDCTL" --endpoints="$EP" --dial-timeout=1s --command-timeout=2s \
        get readiness-probe </dev/null >/dev/null 2>&1; then
        # kite's etcd endpoint answers before the API server's start-up writes (bootstrap
        # objects, Local APIServices) are done; "ready" in the log comes after them, so that no
        # start-up write moves the revision under a test.
        # (The log is appended to across restarts: a new "ready" line is awaited.)
        [[ $kind != kite ]] && return 0
        (($(grep -c 'kite-server ready in' "$TEST_TMP/$name.log" 2>/dev/null) > readies)) && return 0
      fi
      sleep 0.2
    done
    if ! kill -0 "$SERVER_PID" 2>/dev/null && grep -qi 'address already in use' "$TEST_TMP/$name.log"; then
      log "$name lost a port to another process; retrying on new ports"
      rm -rf "$dir"
      continue
    fi
    break
  done
  kill -0 "$SERVER_PID" 2>/dev/null || fail "server $name ($kind, $EP) exited during start-up"
  fail "server $name ($kind, $EP) not ready within 30s"
}

# ctl ENDPOINT ARGS... — etcdctl with bounded timeouts; never reads the terminal.
ctl() {
  local ep=$1
  shift
  timeout 30 "$ETCDCTL" --endpoints="$ep" --dial-timeout=2s --command-timeout=10s "$@" </dev/null
}

# wait_ready PID ENDPOINT [SECONDS] — until a read succeeds; fails early if the process died.
wait_ready() {
  local pid=$1 ep=$2 secs=${3:-30}
  local deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    kill -0 "$pid" 2>/dev/null || fail "server (pid $pid, $ep) exited during start-up"
    if timeout 5 "$ETCDCTL" --endpoints="$ep" --dial-timeout=1s --command-timeout=2s \
      get readiness-probe </dev/null >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  fail "server $ep not ready within ${secs}s"
}

# current_rev ENDPOINT — the store revision from a response header.
current_rev() {
  ctl "$1" get readiness-probe -w json | grep -o '"revision":[0-9]*' | head -n1 | cut -d: -f2
}

# wait_for_file_match FILE REGEX SECONDS — polls until FILE has a line matching REGEX.
wait_for_file_match() {
  local file=$1 re=$2 secs=$3
  local deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    grep -Eq -- "$re" "$file" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# stop_pid PID — SIGTERM with a bounded wait (then SIGKILL); returns the exit status.
# (kite-server exits 0 on SIGTERM; etcd re-raises the signal and reports 143.)
stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  local rc=0
  wait "$pid" 2>/dev/null || rc=$?
  return $rc
}
