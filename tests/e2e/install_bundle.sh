#!/usr/bin/env bash
# The offline bundle end to end (packaging/bundle/): built from this build's binaries and image
# archives; install.sh puts a server into a scratch root (INSTALL_KITE_ROOT) and
# `systemd-analyze verify` accepts its unit; the unit's ExecStart, with the environment file,
# runs in a network namespace WITHOUT a default route and tells "systemd" (a notify socket this
# test holds) READY=1; a second install in agent mode, in another namespace, joins with the token
# the server wrote; both nodes Ready, kite-dns Running from the bundled image. Then
# kite-uninstall.sh in each namespace, and find / ip / iptables-save / mountinfo show that
# nothing is left: the scratch roots as before the install, no data dir, no interface or chain
# beyond what the namespaces had, no process. The host's own network, rules and systemd are
# never touched (every command that changes them runs inside the namespaces).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
KITE_BIN_DIR=$(dirname "$KITE_SERVER")
BUNDLE_SH=$HERE/../../packaging/bundle/bundle.sh

require_node_tools
command -v systemd-analyze >/dev/null || skip "systemd-analyze is not installed"
command -v python3 >/dev/null || skip "python3 is not installed (the notify socket's reader)"
[[ -x $KITE_BIN_DIR/kite-agent && -f $KITE_IMAGES/kite-dns.tar ]] || skip "kite-agent or kite-dns.tar not built"
sweep_leftovers

# --- the bundle ---------------------------------------------------------------------------------
"$BUNDLE_SH" --bin-dir "$KITE_BIN_DIR" --images-dir "$KITE_IMAGES" --arch amd64 --out "$TEST_TMP/out" >/dev/null
tar -C "$TEST_TMP" -xzf "$TEST_TMP/out/kite-bundle-amd64.tar.gz"
B=$TEST_TMP/kite-amd64
expect_eq "the bundle's MANIFEST checks" "ok" sh -c "cd '$B' && sha256sum -c --quiet MANIFEST && echo ok"
expect_eq "install.sh is POSIX sh (dash -n)" "ok" sh -c "dash -n '$B/install.sh' && dash -n '$B/kite-killall.sh' && dash -n '$B/kite-uninstall.sh' && echo ok"

# --- two machines without a default route: a link between them and nothing else ---------------
bare_netns() {  # bare_netns NAME: a namespace with only its loopback up; its name in REPLY
  local ns=$E2E_PREFIX-$1-$$
  ip netns add "$ns"
  _NETNS+=("$ns")
  ip -n "$ns" link set lo up
  REPLY=$ns
}
bare_netns srv; SNS=$REPLY
bare_netns agt; ANS=$REPLY
link_netns "$SNS" 10.77.0.1 "$ANS" 10.77.0.2
expect_eq "no default route in the server's namespace" "" ip -n "$SNS" route show default

# Scratch roots (the usual folders exist, as on a machine) and data dirs; what they hold and
# what the namespaces have before the install is what must be left after the uninstall.
new_node_dir srvroot; SR=$REPLY
new_node_dir agtroot; AR=$REPLY
for r in "$SR" "$AR"; do mkdir -p "$r/usr/local/bin" "$r/etc/systemd/system"; rm -rf "$r/agent"; done
new_node_dir srvdata; SD=$REPLY
new_node_dir agtdata; AD=$REPLY
# The containerd state dirs of the two data dirs (agent/cri/containerd.h).
SRUN=/run/kite/$(printf %s "$SD" | sha256sum | cut -c1-12)
ARUN=/run/kite/$(printf %s "$AD" | sha256sum | cut -c1-12)
snapshot() {  # snapshot NS ROOT: files of the root, links, iptables chains and rules, mounts
  find "$2" -mindepth 1 | LC_ALL=C sort
  ip -n "$1" -o link show | awk -F': ' '{print $2}' | cut -d@ -f1
  { in_ns "$1" iptables-save; in_ns "$1" ip6tables-save; } 2>/dev/null | sed '/^#/d; s/\[[0-9:]*\]//'
  grep -E " ($SD|$AD|$SR|$AR|$SRUN|$ARUN)[/ ]" /proc/self/mountinfo | awk '{print $5}' || true
}
snapshot "$SNS" "$SR" >"$TEST_TMP/srv.before"
snapshot "$ANS" "$AR" >"$TEST_TMP/agt.before"

# --- the server: install, verify, run the unit's command ---------------------------------------
printf 'node-label:\n  - kite.test/installed=bundle\n' >"$TEST_TMP/config.yaml"
out=$(INSTALL_KITE_ROOT=$SR KITE_DATA_DIR=$SD INSTALL_KITE_CONFIG=$TEST_TMP/config.yaml INSTALL_KITE_SKIP_CHECKS=true \
  INSTALL_KITE_EXEC="server --config=$SR/etc/kite/config.yaml --write-kubeconfig=$SD/kubeconfig.yaml" \
  sh "$B/install.sh" 2>&1) || fail "install.sh (server): $out"
echo "$out" | sed 's/^/  | /'
UNIT=$SR/etc/systemd/system/kite.service
for f in "$UNIT" "$UNIT.env" "$SR/usr/local/bin/kite-server" "$SR/usr/local/bin/kite-killall.sh" \
  "$SR/usr/local/bin/kite-uninstall.sh" "$SR/etc/kite/config.yaml" "$SD/agent/images/pause.tar"; do
  [[ -e $f ]] || fail "install.sh did not write $f"
done
echo "ok - install.sh wrote the unit, environment file, binaries, scripts, config and images"
expect_eq "the unit is Type=notify, Delegate=yes, KillMode=process, Restart=always" "4" \
  grep -cE '^(Type=notify|Delegate=yes|KillMode=process|Restart=always)$' "$UNIT"
# The unit as it would be at / (the scratch root's paths in place of /usr/local/bin and /etc:
# verify checks that the command exists and is executable).
verify_unit() {  # verify_unit UNIT ROOT
  mkdir -p "$TEST_TMP/verify"
  sed -e "s|^ExecStart=/|ExecStart=$2/|" -e "s|^EnvironmentFile=-/|EnvironmentFile=-$2/|" "$1" >"$TEST_TMP/verify/${1##*/}"
  systemd-analyze verify --man=no "$TEST_TMP/verify/${1##*/}" 2>&1
}
verify=$(verify_unit "$UNIT" "$SR") || fail "systemd-analyze verify kite.service: $verify"
echo "ok - systemd-analyze verify kite.service${verify:+ ($verify)}"

# ExecStart as systemd would run it: the environment file, the binary under the scratch root.
exec_start() {  # exec_start UNIT ROOT: the command line, its binary moved under ROOT
  sed -n 's/^ExecStart=//p' "$1" | sed "s|^/|$2/|"
}
notify_reader() {  # notify_reader SOCKET OUT: prints the first datagram to OUT (background)
  python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM); s.bind(sys.argv[1])
open(sys.argv[2],"w").write(s.recv(4096).decode())' "$1" "$2" &
  track_bg $!
  wait_until 10 test -S "$1" || fail "notify socket $1 not bound"
}
run_unit() {  # run_unit NS UNIT ROOT LOG NOTIFY: the unit's command in NS with its environment
  local ns=$1 unit=$2 root=$3 log=$4 notify=$5 cmd
  cmd=$(exec_start "$unit" "$root")
  # shellcheck disable=SC2086 # the command line is split as systemd splits it (no quotes in it)
  (set -a; . "$unit.env"; set +a; exec nsenter --net="/run/netns/$ns" -- env NOTIFY_SOCKET="$notify" $cmd) >"$log" 2>&1 &
  _SERVER_PIDS+=($!)
}
notify_reader "$TEST_TMP/srv.notify" "$TEST_TMP/srv.ready"
run_unit "$SNS" "$UNIT" "$SR" "$TEST_TMP/server.log" "$TEST_TMP/srv.notify"
_SERVER_LOGS+=("$TEST_TMP/server.log")
eventually_eq "kite-server told systemd READY=1" 60 "READY=1" cat "$TEST_TMP/srv.ready"
KC=$SD/kubeconfig.yaml
eventually_eq "/readyz through the address it picked (no default route: the first global one)" 30 ok \
  kubectl_in "$SNS" "$KC" --server https://10.77.0.1:6443 get --raw /readyz
TOKEN=$(cat "$SD/server/token")

# --- the agent: install in agent mode with the server's token, run its unit ---------------------
# One machine here: the agent needs a name of its own (KITE_NODE_NAME), as a second Pi would have.
AGENT_NODE=kite-e2e-agent-$$
out=$(INSTALL_KITE_ROOT=$AR KITE_DATA_DIR=$AD KITE_URL=https://10.77.0.1:6443 KITE_TOKEN=$TOKEN KITE_NODE_NAME=$AGENT_NODE \
  INSTALL_KITE_SKIP_CHECKS=true sh "$B/install.sh" 2>&1) || fail "install.sh (agent): $out"
AUNIT=$AR/etc/systemd/system/kite-agent.service
[[ -f $AUNIT && ! -e $AR/etc/systemd/system/kite.service ]] || fail "agent mode did not write kite-agent.service alone"
expect_eq "the agent's environment file holds KITE_URL, KITE_TOKEN, KITE_NODE_NAME" "3" grep -cE '^KITE_(URL|TOKEN|NODE_NAME)=' "$AUNIT.env"
verify=$(verify_unit "$AUNIT" "$AR") ||
  fail "systemd-analyze verify kite-agent.service: $verify"
echo "ok - systemd-analyze verify kite-agent.service"
notify_reader "$TEST_TMP/agt.notify" "$TEST_TMP/agt.ready"
run_unit "$ANS" "$AUNIT" "$AR" "$TEST_TMP/agent.log" "$TEST_TMP/agt.notify"
_SERVER_LOGS+=("$TEST_TMP/agent.log")
eventually_eq "kite-agent told systemd READY=1 (its Node registered)" 90 "READY=1" cat "$TEST_TMP/agt.ready"
k_srv() { kubectl_in "$SNS" "$KC" "$@"; }
eventually_eq "both nodes Ready" 120 "True True" \
  k_srv get nodes -o 'jsonpath={.items[*].status.conditions[?(@.type=="Ready")].status}'
expect_eq "the agent's node address: its only global address (no default route)" "10.77.0.2" \
  k_srv get node "$AGENT_NODE" -o 'jsonpath={.status.addresses[?(@.type=="InternalIP")].address}'
expect_eq "the config file's node-label on the server's node" "bundle" \
  k_srv get nodes -l kite.test/installed=bundle -o 'jsonpath={.items[0].metadata.labels.kite\.test/installed}'
eventually_eq "kite-dns Running from the bundled image (auto-deployed manifest)" 180 "Running" \
  k_srv get pods -n kube-system -l k8s-app=kube-dns -o 'jsonpath={.items[0].status.phase}'

# --- uninstall: nothing left --------------------------------------------------------------------
in_ns "$ANS" "$AR/usr/local/bin/kite-uninstall.sh" >"$TEST_TMP/uninstall-agent.log" 2>&1 ||
  fail "kite-uninstall.sh (agent): $(cat "$TEST_TMP/uninstall-agent.log")"
in_ns "$SNS" "$SR/usr/local/bin/kite-uninstall.sh" >"$TEST_TMP/uninstall-server.log" 2>&1 ||
  fail "kite-uninstall.sh (server): $(cat "$TEST_TMP/uninstall-server.log")"
for pid in "${_SERVER_PIDS[@]}"; do wait_until 20 sh -c "! kill -0 $pid" || fail "process $pid outlived the uninstall"; done
expect_eq "no data dir or state dir left" "" sh -c "ls -d '$SD' '$AD' '$SRUN' '$ARUN' 2>/dev/null"
expect_eq "no process of the install left" "" pgrep -f -- "$SR/|$AR/|$SD/|$AD/"
snapshot "$SNS" "$SR" >"$TEST_TMP/srv.after"
snapshot "$ANS" "$AR" >"$TEST_TMP/agt.after"
expect_eq "server: files, links, iptables, mounts as before the install" "" diff "$TEST_TMP/srv.before" "$TEST_TMP/srv.after"
expect_eq "agent: files, links, iptables, mounts as before the install" "" diff "$TEST_TMP/agt.before" "$TEST_TMP/agt.after"
echo "PASS"
