#!/usr/bin/env bash
# kite-cni (agent/cni/plugin.h) run as the runtime runs it, in network namespaces of this test's
# own: a "node" namespace (where the bridge and the host ends live, as the agent's) and pod
# namespaces. Shows: bridge ADD gives each pod eth0 with the next address, the default route via
# the gateway on the bridge, hairpin on its port and host-local's files; pods reach each other
# and themselves; a second ADD of the same container is refused; DEL removes the pair and frees
# the address, and again (or with the namespace gone) is no error; an ADD that fails inside the
# pod leaves neither pair nor address; the real host-local and bridge
# then share the allocations with it; loopback sets lo up; portmap without mappings passes the
# previous result on, with mappings hands on to the system plugin (its DNAT chains appear in the
# node namespace only, and go with DEL); a configuration it does not do (ipMasq) is the system
# bridge's answer; bad input gets the CNI error format. Nothing outside the namespaces changes.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces)"
for t in ip iptables busybox python3; do command -v "$t" >/dev/null || skip "$t is not installed"; done
SYS=/usr/lib/cni
[[ -x $SYS/bridge && -x $SYS/host-local && -x $SYS/portmap ]] || skip "the CNI plugins are not in $SYS"
CNI=$(dirname "$KITE_SERVER")/kite-cni
[[ -x $CNI ]] || fail "no kite-cni beside $KITE_SERVER"
sweep_leftovers

BIN=$TEST_TMP/bin
mkdir -p "$BIN"
for p in bridge loopback portmap; do ln -s "$CNI" "$BIN/$p"; done
ln -s "$SYS/host-local" "$BIN/host-local"
ln -s "$SYS" "$BIN/system"
new_netns cni-node
NODE=$REPLY
PODS=()
pod_ns() { ip netns add "$E2E_PREFIX-$1-$$"; _NETNS+=("$E2E_PREFIX-$1-$$"); PODS+=("$1"); }
for p in a b c d e; do pod_ns "$p"; done
BR=kitecnitest0
DATA=$TEST_TMP/networks
conf() {  # conf [EXTRA JSON MEMBERS]: the bridge configuration kite writes
  printf '{"cniVersion":"1.0.0","name":"kite-pod-network","type":"bridge","bridge":"%s","isGateway":true,"ipMasq":false,"hairpinMode":true,"mtu":1450%s,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.77.0.0/24"}]],"routes":[{"dst":"0.0.0.0/0"}],"dataDir":"%s"}}' \
    "$BR" "${1:-}" "$DATA"
}
cni() {  # cni COMMAND PLUGIN POD ID IFNAME [BINDIR]: stdin is the configuration
  nsenter --net="/run/netns/$NODE" env CNI_COMMAND="$1" CNI_CONTAINERID="$4" CNI_NETNS="/run/netns/$E2E_PREFIX-$3-$$" \
    CNI_IFNAME="$5" CNI_PATH="${6:-$BIN}" "${6:-$BIN}/$2"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }

OUT=$(conf | cni ADD bridge a ida eth0)
expect_eq "ADD a: its address" "10.77.0.2/24 10.77.0.1" json 'd["ips"][0]["address"], d["ips"][0]["gateway"]' <<<"$OUT"
expect_eq "ADD a: interfaces bridge, host veth, eth0 in the pod" "kitecnitest0 True eth0 /run/netns/$E2E_PREFIX-a-$$" \
  json 'd["interfaces"][0]["name"], d["interfaces"][1]["name"].startswith("veth"), d["interfaces"][2]["name"], d["interfaces"][2]["sandbox"]' <<<"$OUT"
OUT=$(conf | cni ADD bridge b idb eth0)
expect_eq "ADD b: the next address" "10.77.0.3/24" json 'd["ips"][0]["address"]' <<<"$OUT"
expect_eq "a's eth0: address and MTU" "10.77.0.2/24 mtu 1450" sh -c "echo \$(ip -n $E2E_PREFIX-a-$$ -o -4 addr show eth0 | awk '{print \$4}') \$(ip -n $E2E_PREFIX-a-$$ -o link show eth0 | grep -o 'mtu [0-9]*')"
expect_eq "a's default route via the gateway" "default via 10.77.0.1 dev eth0" sh -c "ip -n $E2E_PREFIX-a-$$ route show default | sed 's/ *$//'"
expect_eq "the gateway on the bridge" "10.77.0.1/24" sh -c "ip -n $NODE -o -4 addr show $BR | awk '{print \$4}'"
expect_eq "hairpin on both ports" "2" sh -c "ip -n $NODE -d link show master $BR | grep -c 'hairpin on'"
expect_eq "host-local's file" "ida\\r\\neth0" sh -c "od -An -c $DATA/kite-pod-network/10.77.0.2 | tr -d ' \\n'"
nsenter --net="/run/netns/$NODE" sh -c 'echo 1 > /proc/sys/net/bridge/bridge-nf-call-iptables' 2>/dev/null || true
ip netns exec "$E2E_PREFIX-b-$$" busybox ping -c1 -W2 10.77.0.2 >/dev/null || fail "b cannot reach a over the bridge"
echo "ok - b reaches a over the bridge"
echo '{"cniVersion":"1.0.0","name":"cni-loopback","type":"loopback"}' | cni ADD loopback a ida lo >/dev/null
expect_eq "loopback: lo up" "UP" sh -c "ip -n $E2E_PREFIX-a-$$ -o link show lo | grep -o '[<,]UP[,>]' | tr -d '<>,'"
ip netns exec "$E2E_PREFIX-a-$$" busybox ping -c1 -W2 127.0.0.1 >/dev/null || fail "a cannot reach 127.0.0.1"
echo "ok - a reaches its own lo"

OUT=$(conf | cni ADD bridge a ida eth0) && fail "a second ADD of a was accepted: $OUT"
expect_eq "a second ADD of one container: refused in the CNI format" "999 True" \
  json 'd["code"], "duplicate allocation is not allowed" in d["msg"]' <<<"$OUT"

conf | cni DEL bridge b idb eth0 >/dev/null
expect_eq "DEL b: its eth0 and host veth gone" "0 1" sh -c "echo \$(ip -n $E2E_PREFIX-b-$$ -o link | grep -c eth0) \$(ip -n $NODE -o link show master $BR | wc -l)"
[[ ! -e $DATA/kite-pod-network/10.77.0.3 ]] || fail "DEL left b's address allocated"
echo "ok - DEL b freed 10.77.0.3"
conf | cni DEL bridge b idb eth0 >/dev/null || fail "a second DEL failed"
conf | nsenter --net="/run/netns/$NODE" env CNI_COMMAND=DEL CNI_CONTAINERID=gone CNI_NETNS=/run/netns/no-such-ns CNI_IFNAME=eth0 "$BIN/bridge" ||
  fail "DEL with the namespace gone failed"
echo "ok - DEL again, and DEL of a gone namespace, succeed"

# An ADD that fails inside the pod (a route the kernel refuses) leaves neither the pair nor the
# address behind.
ports() { ip -n "$NODE" -o link show master "$BR" | wc -l; }
held() { ls "$DATA/kite-pod-network" | grep -c '^10\.' || true; }
BEFORE="$(ports) $(held)"
OUT=$(conf | sed 's|"routes":\[{"dst":"0.0.0.0/0"}\]|"routes":[{"dst":"0.0.0.0/0"},{"dst":"192.168.0.0/16","gw":"172.16.0.1"}]|' |
  cni ADD bridge e ide eth0) && fail "an ADD whose route the kernel refuses succeeded: $OUT"
expect_eq "a failed ADD: the CNI error names the route" "True" json '"add route 192.168.0.0/16" in d["msg"]' <<<"$OUT"
[[ "$(ports) $(held)" == "$BEFORE" ]] || fail "a failed ADD left a bridge port or an address: $(ports) $(held), before $BEFORE"
echo "ok - a failed ADD leaves no bridge port and no address"
expect_eq "a failed ADD leaves no eth0 in the pod" "0" sh -c "ip -n $E2E_PREFIX-e-$$ -o link | grep -c eth0 || true"

# The real plugins on the same bridge and files: no address given twice.
OUT=$(conf | cni ADD bridge c idc eth0 "$SYS")
# (10.77.0.4 went to the failed ADD: host-local's search goes on after the last address handed out.)
expect_eq "the system bridge + host-local after kite-cni: the next free address" "10.77.0.5/24" json 'd["ips"][0]["address"]' <<<"$OUT"
OUT=$(conf | cni ADD bridge d idd eth0)
expect_eq "kite-cni after the system's: the next again" "10.77.0.6/24" json 'd["ips"][0]["address"]' <<<"$OUT"
ip netns exec "$E2E_PREFIX-d-$$" busybox ping -c1 -W2 10.77.0.5 >/dev/null || fail "d cannot reach c (the system plugin's pod)"
echo "ok - pods of both plugins reach each other"

PREV=$(conf | cni ADD bridge b idb2 eth0)
PM_NONE=$(python3 -c 'import json,sys; print(json.dumps({"cniVersion":"1.0.0","name":"kite-pod-network","type":"portmap","capabilities":{"portMappings":True},"prevResult":json.loads(sys.argv[1])}))' "$PREV")
OUT=$(cni ADD portmap b idb2 eth0 <<<"$PM_NONE")
expect_eq "portmap without mappings passes the previous result on" "$(json 'd["ips"], d["interfaces"]' <<<"$PREV")" \
  json 'd["ips"], d["interfaces"]' <<<"$OUT"
PM=$(python3 -c 'import json,sys; print(json.dumps({"cniVersion":"1.0.0","name":"kite-pod-network","type":"portmap","runtimeConfig":{"portMappings":[{"hostPort":18080,"containerPort":80,"protocol":"tcp"}]},"prevResult":json.loads(sys.argv[1])}))' "$PREV")
cni ADD portmap b idb2 eth0 <<<"$PM" >/dev/null
expect_eq "portmap with a mapping: the system plugin's DNAT to b's port 80 for 18080 in the node namespace" "1" \
  sh -c "ip netns exec $NODE iptables -t nat -S | grep 'dport 18080' | grep -c 'to-destination $(json 'd["ips"][0]["address"].split("/")[0]' <<<"$PREV"):80'"
cni DEL portmap b idb2 eth0 <<<"$PM" >/dev/null
expect_eq "portmap DEL: the DNAT gone" "0" sh -c "ip netns exec $NODE iptables -t nat -S | grep -c 'dport 18080' || true"

OUT=$(conf ',"ipMasq":true' | sed 's/"ipMasq":false,//' | cni ADD bridge c idc-masq net1) || fail "ipMasq ADD (handed on) failed: $OUT"
expect_eq "ipMasq: handed on to the system bridge (its masquerade chain)" "1" \
  sh -c "ip netns exec $NODE iptables -t nat -S POSTROUTING | grep -c 'idc-masq'"

OUT=$(echo '{"cniVersion":"0.2.0","name":"x","type":"bridge"}' | cni ADD bridge a idx eth1) && fail "an old version was accepted"
expect_eq "an unsupported version: code 1" "1" json 'd["code"]' <<<"$OUT"
OUT=$(echo 'not json' | cni ADD bridge a idx eth1) && fail "junk was accepted"
expect_eq "junk: code 6" "6" json 'd["code"]' <<<"$OUT"
OUT=$(conf | nsenter --net="/run/netns/$NODE" env CNI_COMMAND=ADD CNI_NETNS=/run/netns/$E2E_PREFIX-a-$$ CNI_IFNAME=eth1 "$BIN/bridge") &&
  fail "ADD without CNI_CONTAINERID was accepted"
expect_eq "no CNI_CONTAINERID: code 4" "4" json 'd["code"]' <<<"$OUT"
expect_eq "VERSION" "['0.3.0', '0.3.1', '0.4.0', '1.0.0']" sh -c "CNI_COMMAND=VERSION $BIN/loopback </dev/null | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"supportedVersions\"])'"
echo "PASS"
