#!/usr/bin/env bash
# NetworkPolicies enforced on a real node (kite-server's embedded agent on its own containerd, in
# a network namespace; agent/netpol/): pods of one node talk over the bridge, and a policy decides
# which may open connections, as k3s's embedded kube-router does.
# - No policy: every client reaches the web pod.
# - Ingress from a podSelector on port 80: the labelled client of the namespace gets through; a
#   client without the label, one with it in another namespace, and another port do not.
# - A namespaceSelector adds the other namespace; an ipBlock with an except is honoured.
# - Egress: a pod allowed only to web:80 reaches it and nothing else.
# - FORWARD's first rule is the jump to KUBE-ROUTER-FORWARD (also after something else is
#   inserted above it); policies deleted: every connection works again and no chain of ours for
#   them is left.
# - --disable-network-policy (a second server): no chain, every connection through.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
sweep_leftovers

one_node netpol
start_node_server
eventually_eq "node Ready" 90 True jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

k create namespace other >/dev/null
k label namespace other team=blue >/dev/null
cat >"$TEST_TMP/pods.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - name: c
    image: $IMAGE
    command: [sh, -c, 'mkdir -p /www && echo hello-web >/www/index.html && httpd -p 8080 -h /www && exec httpd -f -p 80 -h /www']
    ports: [{name: http, containerPort: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: front, labels: {role: frontend}}
spec:
  containers:
  - {name: c, image: $IMAGE, command: [sh, -c, 'mkdir -p /www && echo hello-front >/www/index.html && exec httpd -f -p 80 -h /www']}
---
apiVersion: v1
kind: Pod
metadata: {name: stranger, labels: {role: other}}
spec:
  containers:
  - {name: c, image: $IMAGE, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Pod
metadata: {name: outsider, namespace: other, labels: {role: frontend}}
spec:
  containers:
  - {name: c, image: $IMAGE, command: [sleep, "3600"]}
YAML
k apply -f "$TEST_TMP/pods.yaml" >/dev/null
for p in web front stranger; do eventually_eq "pod $p Running" 90 Running jp pod "$p" -o 'jsonpath={.status.phase}'; done
eventually_eq "pod other/outsider Running" 90 Running jp pod -n other outsider -o 'jsonpath={.status.phase}'
WEB=$(jp pod web -o 'jsonpath={.status.podIP}')
FRONT=$(jp pod front -o 'jsonpath={.status.podIP}')

# reach [-n NS] POD URL: the pod fetches URL (busybox wget, bounded by the timeout applet).
reach() {
  local ns=default
  if [[ $1 == -n ]]; then ns=$2; shift 2; fi
  k exec -n "$ns" "$1" -- timeout 4 wget -q -O - "$2" 2>/dev/null | grep -q '^hello-'
}
blocked() { ! reach "$@"; }
expect_ok() { eventually "$1" 30 reach "${@:2}"; }
expect_blocked() { eventually "$1" 30 blocked "${@:2}"; }

expect_ok "no policy: front reaches web" front "http://$WEB/"
expect_ok "no policy: stranger reaches web" stranger "http://$WEB/"
expect_ok "no policy: other/outsider reaches web" -n other outsider "http://$WEB/"

cat >"$TEST_TMP/allow-front.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-frontend}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {role: frontend}}}]
    ports: [{port: http}]
YAML
k apply -f "$TEST_TMP/allow-front.yaml" >/dev/null
expect_blocked "ingress policy: stranger (no label) is dropped" stranger "http://$WEB/"
expect_ok "…front (role=frontend) still reaches web:80 (the named port)" front "http://$WEB/"
expect_blocked "…front on port 8080 (not allowed) is dropped" front "http://$WEB:8080/"
expect_blocked "…other/outsider (the label, another namespace) is dropped" -n other outsider "http://$WEB/"
expect_ok "…web itself is not isolated for egress" web "http://$FRONT/"
first_forward() { in_ns "$NS" iptables -S FORWARD | grep '^-A' | head -1 | grep -q -- '-j KUBE-ROUTER-FORWARD$'; }
eventually "FORWARD's first rule jumps to KUBE-ROUTER-FORWARD" 30 first_forward
in_ns "$NS" iptables -I FORWARD 1 -m comment --comment kite-e2e-netpol-above -j ACCEPT
eventually "…and is first again after another rule is inserted above it (next sync)" 45 first_forward
in_ns "$NS" iptables -D FORWARD -m comment --comment kite-e2e-netpol-above -j ACCEPT

cat >"$TEST_TMP/allow-ns.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-from-blue-team}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: blue}}}]
YAML
k apply -f "$TEST_TMP/allow-ns.yaml" >/dev/null
expect_ok "a namespaceSelector policy too: other/outsider reaches web (policies add up)" -n other outsider "http://$WEB/"
expect_blocked "…stranger still dropped" stranger "http://$WEB/"

STRANGER=$(jp pod stranger -o 'jsonpath={.status.podIP}')
cat >"$TEST_TMP/ipblock.yaml" <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: front-from-pods-but-stranger}
spec:
  podSelector: {matchLabels: {role: frontend}}
  ingress:
  - from: [{ipBlock: {cidr: 10.42.0.0/16, except: [$STRANGER/32]}}]
YAML
k apply -f "$TEST_TMP/ipblock.yaml" >/dev/null
expect_blocked "ipBlock with except: stranger (excepted) is dropped by front" stranger "http://$FRONT/"
expect_ok "…web (in the block) reaches front" web "http://$FRONT/"
k delete networkpolicy front-from-pods-but-stranger >/dev/null

cat >"$TEST_TMP/egress.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: locked, labels: {role: frontend, tier: locked}}
spec:
  containers:
  - {name: c, image: $IMAGE, command: [sleep, "3600"]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: locked-only-to-web}
spec:
  podSelector: {matchLabels: {tier: locked}}
  policyTypes: [Egress]
  egress:
  - to: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 80}]
YAML
k apply -f "$TEST_TMP/egress.yaml" >/dev/null
eventually_eq "pod locked Running" 90 Running jp pod locked -o 'jsonpath={.status.phase}'
expect_ok "egress policy: locked reaches web:80 (its egress and web's ingress allow it)" locked "http://$WEB/"
expect_blocked "…and nothing else: front:80 is dropped on the way out" locked "http://$FRONT/"
expect_ok "…web, which no egress policy selects, still reaches front" web "http://$FRONT/"
chains() { in_ns "$NS" iptables-save -t filter | grep -c '^:KUBE-POD-\(IN\|EG\)-' || true; }
expect_eq "chains: ingress of web, egress of locked" 2 chains

k delete networkpolicy --all >/dev/null
expect_ok "policies deleted: stranger reaches web again" stranger "http://$WEB/"
expect_ok "…locked reaches front again" locked "http://$FRONT/"
eventually_eq "…and no pod chain is left" 30 0 chains

# The policy back, then the server restarted with --disable-network-policy: the rules go.
k apply -f "$TEST_TMP/allow-front.yaml" >/dev/null
expect_blocked "policy again: stranger dropped" stranger "http://$WEB/"
stop_pid "$SERVER_PID"
start_node_server --disable-network-policy
eventually_eq "node Ready after the restart" 90 True jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
expect_ok "--disable-network-policy: stranger reaches web (the policy is not enforced)" stranger "http://$WEB/"
no_chain() { ! in_ns "$NS" iptables-save -t filter | grep -q 'KUBE-ROUTER-FORWARD\|KUBE-POD-'; }
eventually "…no chain or jump of ours is left" 30 no_chain
echo "PASS"
