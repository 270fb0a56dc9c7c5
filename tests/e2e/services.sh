#!/usr/bin/env bash
# Services on one real node (kite-server with its embedded agent and service proxy, its own
# containerd, inside a network namespace; every iptables rule is that namespace's). Shows: the
# `kubernetes` Service at 10.43.0.1 has its chain and answers; a ClusterIP Service of busybox
# httpd pods answers from the node and from a pod; NodePort on the node's address; a
# LoadBalancer Service gets the node's address as ingress (ServiceLB) and answers there;
# scaling changes the rules; a pod whose readiness probe fails leaves the rotation; rules
# deleted by hand come back at the next sync; a pod's hostPort answers on the node's address and
# its DNAT goes with the pod; deleted Services leave no rule; /healthz and the
# kubeproxy_* metrics on 10256.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
command -v curl >/dev/null || skip "curl is not installed"
sweep_leftovers

new_netns svc 10.99.0.1
NS=$REPLY
new_node_dir svc
D=$REPLY
NODE=kite-e2e-svc
NODE_IP=10.99.0.1
IMAGE=kite.local/busybox:1.35
KC=$TEST_TMP/kubeconfig
k() { kubectl_in "$NS" "$KC" "$@"; }
jp() { k get "$@"; }
nat() { in_ns "$NS" iptables-save -t nat; }
# A periodic (full) sync every 3 s, so rules deleted by hand come back quickly.
start_node_server --node-ip "$NODE_IP" --iptables-sync-period 3s --proxy-full-sync-period 3s \
  --disable kite-dns,traefik  # the chains counted below are the kubernetes Service's only (e2e_cluster_dns has DNS, e2e_ingress kite-ingress)
eventually_eq "node Ready" 90 True jp node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

# --- the kubernetes Service
expect_eq "kubernetes Service at 10.43.0.1" 10.43.0.1 jp svc kubernetes -o 'jsonpath={.spec.clusterIP}'
has_kubernetes_chain() { nat | grep -- '-A KUBE-SERVICES .*"default/kubernetes:https cluster IP".* -j KUBE-SVC-NPX46M4PTMTKRN6Y' >/dev/null; }
eventually "KUBE-SERVICES sends 10.43.0.1:443 to KUBE-SVC-NPX46M4PTMTKRN6Y (upstream's name)" 30 has_kubernetes_chain
api_answers() { [[ $(in_ns "$NS" curl -sk -m 3 -o /dev/null -w '%{http_code}' https://10.43.0.1/readyz) != 000 ]]; }
eventually "the API server answers on https://10.43.0.1" 30 api_answers

# --- health and metrics
expect_eq "/healthz on 10256" 200 in_ns "$NS" curl -s -m 3 -o /dev/null -w '%{http_code}' http://127.0.0.1:10256/healthz
in_ns "$NS" curl -s -m 3 http://127.0.0.1:10256/healthz | grep '"nodeHealthy":true' >/dev/null || fail "/healthz does not say healthy"
metrics=$(in_ns "$NS" curl -s -m 3 http://127.0.0.1:10256/metrics)
for m in kubeproxy_sync_proxy_rules_duration_seconds_count kubeproxy_sync_proxy_rules_last_timestamp_seconds \
  kubeproxy_network_programming_duration_seconds_bucket kubeproxy_sync_proxy_rules_iptables_total; do
  grep -q "^$m" <<<"$metrics" || fail "metric $m missing"
done
echo "ok - kubeproxy_* metrics served"

# --- a Deployment of httpd pods that say their name; /cgi-bin/unready makes one fail its
# readiness probe.
web_deployment "$IMAGE" >"$TEST_TMP/web.yaml"
k apply -f "$TEST_TMP/web.yaml" >/dev/null
eventually_eq "deployment web 2/2 ready" 120 2 jp deployment web -o 'jsonpath={.status.readyReplicas}'
k expose deployment web --port=80 >/dev/null
k expose deployment web --name=web-np --type=NodePort --port=80 >/dev/null
k expose deployment web --name=web-lb --type=LoadBalancer --port=8080 --target-port=80 >/dev/null
CIP=$(k get svc web -o 'jsonpath={.spec.clusterIP}')
NP=$(k get svc web-np -o 'jsonpath={.spec.ports[0].nodePort}')
[[ $NP -ge 30000 && $NP -le 32767 ]] || fail "nodePort $NP outside 30000-32767"
PODS=$(k get pods -l app=web -o 'jsonpath={.items[*].metadata.name}')
is_pod_name() { local got; got=$(in_ns "$NS" curl -s -m 3 "$1") && [[ " $PODS " == *" $got "* ]]; }
eventually "ClusterIP $CIP:80 answers from the node (a web pod's name)" 30 is_pod_name "http://$CIP/"
eventually "NodePort $NODE_IP:$NP answers" 30 is_pod_name "http://$NODE_IP:$NP/"
eventually_eq "LoadBalancer ingress is the node's InternalIP (ServiceLB)" 30 "$NODE_IP" \
  jp svc web-lb -o 'jsonpath={.status.loadBalancer.ingress[*].ip}'
eventually "LoadBalancer $NODE_IP:8080 answers" 30 is_pod_name "http://$NODE_IP:8080/"
# Both pods are picked over a few requests (random choice, 1/2 each: 40 misses in a row is 1e-12).
seen_both() {
  local names="" i
  for i in $(seq 1 40); do names+=" $(in_ns "$NS" curl -s -m 3 "http://$CIP/")"; done
  local p
  for p in $PODS; do [[ $names == *"$p"* ]] || return 1; done
}
eventually "ClusterIP spreads over both pods" 30 seen_both

# --- from a pod: the ClusterIP and the NodePort. busybox nc, not wget: the test image's static
# busybox nc dies (exit 139/1) before connecting, whatever the address.
get_in_pod() { echo "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 3 $1 $2 | grep -q '^web-'"; }
k run client --image="$IMAGE" --restart=Never -- sh -c "$(get_in_pod "$CIP" 80) && $(get_in_pod "$NODE_IP" "$NP")" >/dev/null
eventually_eq "a pod reaches the ClusterIP and the NodePort (busybox nc)" 90 Succeeded jp pod client -o 'jsonpath={.status.phase}'

# --- scaling changes the rules: one KUBE-SEP jump per ready endpoint in web's KUBE-SVC chain
svc_eps() { nat | grep -c -- '-A KUBE-SVC-[A-Z0-9]* -m comment --comment "\?default/web -> ' || true; }
expect_eq "two endpoints in web's chain" 2 svc_eps
k scale deployment web --replicas=3 >/dev/null
eventually_eq "scaled to 3: three endpoints in the rules" 90 3 svc_eps
k scale deployment web --replicas=2 >/dev/null
eventually_eq "scaled to 2: two endpoints in the rules" 90 2 svc_eps

# --- a failing readiness probe takes a pod out of rotation
eventually_eq "two ready pods" 60 2 jp deployment web -o 'jsonpath={.status.readyReplicas}'
web_pods() { k get pods -l app=web -o name | wc -l; }
eventually_eq "the third pod is gone" 60 2 web_pods
OUT=$(k get pods -l app=web -o 'jsonpath={.items[0].metadata.name} {.items[0].status.podIP}')
OUT_NAME=${OUT% *} OUT_IP=${OUT#* }
in_ns "$NS" curl -s -m 3 "http://$OUT_IP/cgi-bin/unready" | grep unready >/dev/null || fail "cgi-bin/unready did not run"
eventually_eq "pod $OUT_NAME not Ready" 30 False jp pod "$OUT_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
eventually_eq "the unready pod leaves the rules" 30 1 svc_eps
never_out() {
  local i
  for i in $(seq 1 20); do [[ $(in_ns "$NS" curl -s -m 3 "http://$CIP/") != "$OUT_NAME" ]] || return 1; done
}
never_out || fail "the unready pod still gets traffic"
echo "ok - the unready pod gets no traffic"

# --- rules deleted by hand come back at the next (full) sync
in_ns "$NS" iptables -t nat -F KUBE-SVC-NPX46M4PTMTKRN6Y
in_ns "$NS" iptables -t nat -D KUBE-SERVICES -m comment --comment "default/kubernetes:https cluster IP" -m tcp -p tcp \
  -d 10.43.0.1/32 --dport 443 -j KUBE-SVC-NPX46M4PTMTKRN6Y
has_kubernetes_eps() { nat | grep -- '-A KUBE-SVC-NPX46M4PTMTKRN6Y .*-j KUBE-SEP-' >/dev/null; }
eventually "flushed chain and deleted rule come back" 30 has_kubernetes_chain
eventually "flushed chain refilled" 30 has_kubernetes_eps
in_ns "$NS" iptables -t nat -D PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES
jump_back() { in_ns "$NS" iptables -t nat -C PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES; }
eventually "the PREROUTING jump comes back" 30 jump_back

# --- a pod's hostPort: the CRI port mapping, portmap's DNAT on the node (kite-cni hands a pod
# with mappings to the system's portmap plugin), gone with the pod
cat <<YAML | k apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: hp}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - name: httpd
    image: $IMAGE
    command: [sh, -c, "mkdir -p /w && echo hostport > /w/index.html && exec httpd -f -p 80 -h /w"]
    ports: [{containerPort: 80, hostPort: 18081}]
YAML
eventually_eq "pod hp Running" 90 Running jp pod hp -o 'jsonpath={.status.phase}'
hp_answers() { [[ $(in_ns "$NS" curl -s -m 3 "http://$NODE_IP:18081/") == hostport ]]; }
eventually "hostPort 18081 on the node's address reaches the pod" 30 hp_answers
k delete pod hp --wait=true >/dev/null
no_hp_rule() { ! nat | grep -- '--dport 18081' >/dev/null; }
eventually "the hostPort's DNAT goes with the pod" 60 no_hp_rule

# --- deleted Services leave no rule behind
k delete svc web web-np web-lb >/dev/null
no_web_rules() { ! in_ns "$NS" iptables-save | grep 'default/web' >/dev/null; }
eventually "no rule mentions default/web after the Services are deleted" 30 no_web_rules
count_chains() { nat | grep -c '^:KUBE-S[EV][PC]-' || true; }
eventually_eq "only the kubernetes Service's chains are left" 30 2 count_chains
echo "PASS"
