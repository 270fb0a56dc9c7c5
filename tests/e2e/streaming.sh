#!/usr/bin/env bash
# kubectl exec, attach, run -it, port-forward and cp on a real node: kite-server with its embedded
# agent (its own containerd) in a network namespace. The sessions go kubectl -> API server
# (pods/exec|attach|portforward) -> kubelet server -> containerd's stream server. kubectl 1.32's
# first choice is served: WebSocket v5.channel.k8s.io for exec/attach/cp and the tunnelled
# port-forward (SPDY/3.1+portforward.k8s.io), which the API server translates to SPDY/3.1
# toward the kubelet (apiserver_stream_translator_requests_total / _tunnel_ count each 101, so
# no session fell back); the SPDY/3.1 path (KUBECTL_*_WEBSOCKETS=false) is shown too, and RBAC:
# a WebSocket exec (a GET) needs `create` on pods/exec besides `get`. Shows: exec with stdin and the exit code carried back, a command that does not exist, a TTY
# under a real pseudo-terminal (`script`) with its size, `run -it --rm`, `debug -it` (an ephemeral
# container in the target's PID namespace), `debug` without and `debug node/…`, attach, port-forward to
# a pod and to a Service reaching busybox httpd, a port nothing listens on, cp both ways, an exec
# whose container goes away. The server's fds, threads and memory after many sessions, some cut
# off by the client: e2e_streaming_leak (streaming_leak.sh).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
command -v script >/dev/null || skip "script (util-linux) is not installed"
command -v curl >/dev/null || skip "curl is not installed"
sweep_leftovers

one_node stream
# kubectl under a pseudo-terminal: `script` gives it one; the typed input comes from stdin.
KUBECTL_CMD="$KUBECTL_BIN --kubeconfig $KC --cache-dir $TEST_TMP/kcache"
in_pty() { in_ns "$NS" script -qfec "stty rows 33 cols 101; $KUBECTL_CMD $*" /dev/null; }
# The streaming subresources are audited, so every session also passes the audit filter's
# responder (the upgrade must reach the connection through it).
AUDIT_LOG=$TEST_TMP/audit.log
cat >"$TEST_TMP/audit-policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
rules:
- level: Metadata
  resources: [{group: "", resources: [pods/exec, pods/attach, pods/portforward]}]
- level: None
YAML
start_node_server --kubelet-port 0 --audit-log-path "$AUDIT_LOG" --audit-policy-file "$TEST_TMP/audit-policy.yaml"
eventually_eq "node Ready" 90 True jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

# A pod serving a page with busybox httpd, and a Service in front of it.
k run p --image="$IMAGE" -- sh -c 'mkdir -p /www && echo hello-from-pod >/www/index.html && exec httpd -f -p 80 -h /www' >/dev/null
eventually_eq "pod p Running" 90 Running jp pod p -o 'jsonpath={.status.phase}'
k expose pod p --name web --port 80 >/dev/null

# WebSocket sessions the API server answered 101 (translated: exec/attach; tunnelled: port-forward).
ws_count() {  # ws_count translator|tunnel
  k get --raw /metrics | awk -v m="apiserver_stream_$1_requests_total{code=\"101\"}" '$1 == m {n = $2} END {print n + 0}'
}

# --- exec
T0=$(ws_count translator)
OUT=$(echo 'echo ok; exit 3' | k exec -i p -- sh 2>"$TEST_TMP/exec.err") && RC=0 || RC=$?
[[ $OUT == ok && $RC -eq 3 ]] || fail "exec -i with exit 3: out '$OUT' rc $RC: $(cat "$TEST_TMP/exec.err")"
T1=$(ws_count translator)
((T1 == T0 + 1)) || fail "exec -i did not run over WebSocket v5 (translated sessions $T0 -> $T1)"
echo "ok - echo 'echo ok; exit 3' | kubectl exec -i p -- sh: prints ok, exits 3, over WebSocket v5 ($T0 -> $T1)"
OUT=$(printf 'line-1\nline-2\n' | k exec -i p -- cat) || fail "exec -i cat: rc $?"
[[ $OUT == $'line-1\nline-2' ]] || fail "exec -i cat: '$OUT'"
echo "ok - printf ... | kubectl exec -i p -- cat: v5's close of stdin ends cat"
T1=$(ws_count translator)
OUT=$(echo 'echo spdy; exit 4' | KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false k exec -i p -- sh 2>/dev/null) && RC=0 || RC=$?
[[ $OUT == spdy && $RC -eq 4 ]] || fail "SPDY exec -i with exit 4: out '$OUT' rc $RC"
(($(ws_count translator) == T1)) || fail "KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false still used a WebSocket"
echo "ok - the same over SPDY/3.1 (KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false): prints spdy, exits 4"
# Both sessions audited as upstream records an upgraded request: ResponseStarted with 101.
audited_101() {
  grep '"subresource":"exec"' "$AUDIT_LOG" | grep '"stage":"ResponseStarted"' | grep -c '"code":101' || true
}
two_execs_audited() { (($(audited_101) >= 2)); }
eventually "exec over WebSocket and over SPDY audited with 101" 30 two_execs_audited
echo "ok - both execs audited: ResponseStarted, code 101 ($(audited_101) events)"

# --- RBAC: a WebSocket exec arrives as GET; `get` alone on pods/exec is not enough (upstream's
# AuthorizePodWebsocketUpgradeCreatePermission), `get` and `create` are.
k create serviceaccount execer >/dev/null
k create role exec-get --verb=get --resource=pods,pods/exec >/dev/null
k create rolebinding execer --role=exec-get --serviceaccount=default:execer >/dev/null
k config view --raw -o 'jsonpath={.users[0].user.client-certificate-data}' | base64 -d >"$TEST_TMP/admin.crt"
k config view --raw -o 'jsonpath={.users[0].user.client-key-data}' | base64 -d >"$TEST_TMP/admin.key"
API=$(k config view -o 'jsonpath={.clusters[0].cluster.server}')
ws_get() {  # the WebSocket upgrade kubectl sends, as the service account: the HTTP code
  in_ns "$NS" curl -sk -m 3 --cert "$TEST_TMP/admin.crt" --key "$TEST_TMP/admin.key" -o /dev/null -w '%{http_code}' \
    -H 'Impersonate-User: system:serviceaccount:default:execer' -H 'Connection: Upgrade' -H 'Upgrade: websocket' \
    -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==' \
    -H 'Sec-WebSocket-Protocol: v5.channel.k8s.io' "$API/api/v1/namespaces/default/pods/p/exec?command=true&stdout=true" || true
}
eventually_eq "a WebSocket exec with only get on pods/exec: 403" 30 403 ws_get
DENIED=$(k --as=system:serviceaccount:default:execer exec p -- true 2>&1) && fail "exec with get only succeeded"
[[ $DENIED == *'cannot create resource "pods/exec"'* ]] || fail "exec with get only: $DENIED"
echo "ok - kubectl exec as a user with get only: $DENIED"
k create role exec-create --verb=create --resource=pods/exec >/dev/null
k create rolebinding execer-create --role=exec-create --serviceaccount=default:execer >/dev/null
eventually_eq "a WebSocket exec with get and create on pods/exec: 101" 30 101 ws_get
T0=$(ws_count translator)
k --as=system:serviceaccount:default:execer exec p -- true || fail "exec with get and create failed"
(($(ws_count translator) == T0 + 1)) || fail "exec with get and create did not use the WebSocket"
echo "ok - kubectl exec as a user with get and create: over WebSocket"
k exec p -- true || fail "kubectl exec p -- true failed"
echo "ok - kubectl exec p -- true"
OUT=$(k exec p -- sh -c 'echo out; echo err >&2' 2>/dev/null)
[[ $OUT == out ]] || fail "stdout of exec: $OUT"
ERR=$(k exec p -- sh -c 'echo out; echo err >&2' 2>&1 >/dev/null)
[[ $ERR == err ]] || fail "stderr of exec: $ERR"
echo "ok - exec's stdout and stderr apart"
BIG=$(k exec p -- sh -c 'head -c 3000000 /dev/zero | tr "\0" x' | wc -c)
[[ $BIG -eq 3000000 ]] || fail "3 MB through exec: $BIG bytes"
echo "ok - 3 MB of output through exec"
NOPE=$(k exec p -- no-such-command 2>&1) && RC=0 || RC=$?
[[ $RC -ne 0 && $NOPE == *'"no-such-command": executable file not found'* ]] || fail "exec of a missing command: rc $RC: $NOPE"
echo "ok - exec of a missing command: rc $RC: $NOPE"
BADC=$(k exec p -c nope -- true 2>&1) && RC=0 || RC=$?
[[ $RC -ne 0 && $BADC == *"container nope is not valid for pod p"* ]] || fail "exec in an unknown container: $BADC"
echo "ok - exec in an unknown container: $BADC"

# --- a TTY under a real pseudo-terminal: a prompt, a command run, the terminal's size
TTY=$(printf 'echo tty-$((6*7)); stty size\nexit\n' | in_pty exec -it p -- sh 2>&1 | tr -d '\r')
[[ $TTY == *'# '* ]] || fail "no prompt in the TTY session: $TTY"
grep -qx 'tty-42' <<<"$TTY" || fail "the command did not run under the TTY: $TTY"
grep -qx '33 101' <<<"$TTY" || fail "the terminal size did not reach the container: $TTY"
echo "ok - kubectl exec -it p -- sh under a pty: prompt, command, size 33x101"

# --- kubectl run -it --rm: typed input, its output, the pod gone after
RUN=$(printf 'echo run-$((2*21))\nexit\n' | in_pty run -it --rm t --image="$IMAGE" --restart=Never -- sh 2>&1 | tr -d '\r')
grep -qx 'run-42' <<<"$RUN" || fail "run -it --rm: $RUN"
gone() { ! k get pod t >/dev/null 2>&1; }
eventually "run -it --rm: typed input ran (run-42), pod t gone after" 60 gone

# --- kubectl debug: ephemeral containers in the running pod p (pods/ephemeralcontainers)
DBG=$(printf 'ps\nexit\n' | in_pty debug p -it --image="$IMAGE" --target=p -c dbg -- sh 2>&1 | tr -d '\r')
grep -q 'httpd -f -p 80' <<<"$DBG" || fail "kubectl debug -it --target=p: httpd not among the processes: $DBG"
eventually_eq "dbg Completed after its exit" 60 Completed \
  jp pod p -o 'jsonpath={.status.ephemeralContainerStatuses[?(@.name=="dbg")].state.terminated.reason}'
echo "ok - kubectl debug -it p --target=p -- sh: typed ps sees the target's httpd (its PID namespace); Completed after exit"
k debug p --image="$IMAGE" -c dbg2 -- sh -c 'echo from-debug; exec sleep 3600' >/dev/null 2>&1 || fail "kubectl debug -c dbg2"
dbg2_running() { [[ -n $(jp pod p -o 'jsonpath={.status.ephemeralContainerStatuses[?(@.name=="dbg2")].state.running.startedAt}') ]]; }
eventually "dbg2 Running" 60 dbg2_running
[[ $(k logs p -c dbg2) == from-debug ]] || fail "logs of the ephemeral container: $(k logs p -c dbg2 2>&1)"
[[ $(k exec p -c dbg2 -- cat /proc/1/comm) == sleep ]] || fail "dbg2 without a target should have its own PID 1"
STATE=$(jp pod p -o 'jsonpath={.status.phase} {.status.containerStatuses[0].ready} {.status.ephemeralContainerStatuses[?(@.name=="dbg")].state.terminated.exitCode} {.status.ephemeralContainerStatuses[?(@.name=="dbg2")].ready}')
[[ $STATE == "Running true 0 false" ]] || fail "pod p after two debug containers: $STATE"
sleep 2  # a sync or two later, the exited one is still not restarted
[[ $(jp pod p -o 'jsonpath={.status.ephemeralContainerStatuses[?(@.name=="dbg")].restartCount} {.status.ephemeralContainerStatuses[?(@.name=="dbg")].state.terminated.reason}') == "0 Completed" ]] ||
  fail "the exited debug container was restarted"
echo "ok - kubectl debug -c dbg2 (no -it, no target): Running, its logs and exec, its own PID 1; the pod stays Running and Ready; dbg is never restarted"
# kubectl debug node/<node>: a pod on that node in its host namespaces, the host's / at /host.
NDBG=$(printf 'test -d /host%s && echo host-dir-seen\nexit\n' "$D" | in_pty debug "node/$NODE" -it --image="$IMAGE" -- sh 2>&1 | tr -d '\r')
grep -qx 'host-dir-seen' <<<"$NDBG" || fail "kubectl debug node/$NODE: the node's data dir not under /host: $NDBG"
PODS=$(jp pods -o name)  # not piped into grep -m1: under pipefail kubectl's SIGPIPE fails the pipe
NPOD=$(grep -m1 "node-debugger-$NODE" <<<"$PODS") || fail "no node-debugger pod among: $PODS"
eventually_eq "the node debugger pod Succeeded after exit" 60 Succeeded jp "$NPOD" -o 'jsonpath={.status.phase}'
[[ $(jp "$NPOD" -o 'jsonpath={.spec.hostPID} {.spec.hostNetwork} {.spec.nodeName}') == "true true $NODE" ]] ||
  fail "node debugger pod: $(jp "$NPOD" -o 'jsonpath={.spec}')"
k delete "$NPOD" --wait=false >/dev/null
echo "ok - kubectl debug node/$NODE -it -- sh: the host's files under /host (hostPID, hostNetwork); Succeeded after exit"

# --- attach: a running container's output
k run a --image="$IMAGE" -- sh -c 'i=0; while true; do echo att-$i; i=$((i+1)); sleep 0.3; done' >/dev/null
eventually_eq "pod a Running" 90 Running jp pod a -o 'jsonpath={.status.phase}'
k attach a >"$TEST_TMP/attach.out" 2>&1 &
ATTACH=$!
attached() { grep -q '^att-' "$TEST_TMP/attach.out"; }
eventually "kubectl attach a prints its output" 30 attached
kill "$ATTACH"; wait "$ATTACH" 2>/dev/null || true
# attach -i to a container with stdin open
k run cat --image="$IMAGE" -i --attach=false --restart=Never -- sh -c 'while read l; do echo "got $l"; done' >/dev/null
eventually_eq "pod cat Running" 90 Running jp pod cat -o 'jsonpath={.status.phase}'
T0=$(ws_count translator)
ATT=$( (echo hello-attach; sleep 2) | k attach -i cat 2>/dev/null | head -1) || true
[[ $ATT == "got hello-attach" ]] || fail "attach -i: '$ATT'"
(($(ws_count translator) == T0 + 1)) || fail "attach -i did not run over WebSocket v5"
echo "ok - kubectl attach -i cat: stdin reached the container ($ATT), over WebSocket v5"

# --- port-forward to the pod and to the Service (tunnelled in a WebSocket)
P0=$(ws_count tunnel)
PF_PIDS=()
port_forward() {  # port_forward TARGET LOCAL:REMOTE LOG
  in_ns "$NS" $KUBECTL_CMD port-forward "$1" "$2" >"$3" 2>&1 &
  PF_PIDS+=($!)
  track_bg $!
}
port_forward pod/p 18080:80 "$TEST_TMP/pf-pod.log"
fetch() { [[ $(in_ns "$NS" curl -s -m 5 "http://127.0.0.1:$1/") == hello-from-pod ]]; }
eventually "port-forward pod/p 18080:80 reaches httpd" 30 fetch 18080
port_forward svc/web 18081:80 "$TEST_TMP/pf-svc.log"
eventually "port-forward svc/web 18081:80 reaches httpd" 30 fetch 18081
for i in $(seq 20); do fetch 18080 || fail "request $i through the forwarded port"; done
echo "ok - 20 more requests through one port-forward"
(($(ws_count tunnel) == P0 + 2)) || fail "the two port-forwards did not tunnel over WebSocket ($P0 -> $(ws_count tunnel))"
echo "ok - both port-forwards tunnelled over WebSocket (SPDY/3.1+portforward.k8s.io)"
KUBECTL_PORT_FORWARD_WEBSOCKETS=false port_forward pod/p 18083:80 "$TEST_TMP/pf-spdy.log"
eventually "port-forward over SPDY/3.1 (KUBECTL_PORT_FORWARD_WEBSOCKETS=false) reaches httpd" 30 fetch 18083
# A port nothing listens on: the connection fails, kubectl says why, the forward stays usable.
port_forward pod/p 18082:81 "$TEST_TMP/pf-81.log"
listening() { in_ns "$NS" sh -c 'exec 3<>/dev/tcp/127.0.0.1/18082' 2>/dev/null || grep -q Forwarding "$TEST_TMP/pf-81.log"; }
eventually "port-forward to port 81 listening locally" 30 listening
in_ns "$NS" curl -s -m 5 http://127.0.0.1:18082/ >/dev/null && fail "a port nothing listens on answered"
refused() { grep -q 'connection refused\|connect: ' "$TEST_TMP/pf-81.log"; }
eventually "port 81 (nothing listens): kubectl reports the refused connection" 30 refused
grep -m1 'refused' "$TEST_TMP/pf-81.log" || true
for p in "${PF_PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done

# --- cp both ways (kubectl cp runs tar in the container)
head -c 200000 /dev/urandom >"$TEST_TMP/up.bin"
( cd "$TEST_TMP" && k cp up.bin p:/tmp/up.bin ) || fail "kubectl cp to the pod"
UP=$(md5sum <"$TEST_TMP/up.bin" | cut -d' ' -f1)
IN_POD=$(k exec p -- md5sum /tmp/up.bin | cut -d' ' -f1)
[[ $UP == "$IN_POD" ]] || fail "kubectl cp into the pod: md5 $IN_POD, wanted $UP"
echo "ok - kubectl cp into the pod: same bytes"
( cd "$TEST_TMP" && k cp p:/tmp/up.bin down.bin ) 2>&1 | grep -v "Removing leading" || true
cmp "$TEST_TMP/up.bin" "$TEST_TMP/down.bin" || fail "kubectl cp from the pod: the bytes differ"
echo "ok - kubectl cp from the pod: same bytes"

# --- a container that goes away under an exec: the session ends with an error
k run gone --image="$IMAGE" -- sleep 3600 >/dev/null
eventually_eq "pod gone Running" 90 Running jp pod gone -o 'jsonpath={.status.phase}'
k exec gone -- sleep 600 >"$TEST_TMP/vanish.out" 2>&1 &
VANISH=$!
eventually "exec sleep running in the container" 30 k exec gone -- sh -c 'ps | grep -q "[s]leep 600"'
k delete pod gone --grace-period=1 --wait=false >/dev/null
ended() { ! kill -0 "$VANISH" 2>/dev/null; }
eventually "exec ends when its container goes away" 60 ended
wait "$VANISH" && RC=0 || RC=$?
[[ $RC -ne 0 ]] || fail "exec in a vanished container exited 0"
echo "ok - exec in a vanished container: rc $RC: $(tr '\n' ' ' <"$TEST_TMP/vanish.out")"

echo "PASS"
