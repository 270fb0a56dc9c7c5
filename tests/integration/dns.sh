#!/usr/bin/env bash
# kite-dns against a real kite-server, checked the way a user would, with the real kubectl and
# dig: Services, EndpointSlices and a pod made with kubectl are answered on a loopback port
# (A/AAAA, headless, hostnames, SRV, pod records, PTR, ExternalName), NXDOMAIN and NODATA carry
# the SOA, EDNS0 and truncation with TCP fallback behave, changes show up, and every other name
# is forwarded to a dnsmasq on another loopback port (started here with its own configuration)
# through the cache, negative answers included. Malformed packets do not stop the server.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"
source "$HERE/kubectl/lib_kubectl.sh"
KITE_DNS=${KITE_DNS:-./bin/kite-dns}
DIG=${DIG:-dig}
DNSMASQ=${DNSMASQ:-$(command -v dnsmasq || echo /usr/sbin/dnsmasq)}
require_tool "$KITE_DNS"
require_tool "$DIG"
require_tool "$DNSMASQ"
require_tool python3
start_kite_api

# wait_until SECONDS CMD...: until CMD succeeds (quietly); false after SECONDS.
wait_until() {
  local secs=$1
  shift
  local deadline=$((SECONDS + secs))
  while ((SECONDS < deadline)); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# --- the upstream: dnsmasq, authoritative for upstream.test so its negative answers carry a SOA
UP_PORT=$(free_port)
# many.upstream.test has 100 addresses: more than fit the 1232 octets kite-dns asks for over UDP.
for i in $(seq 1 100); do echo "198.51.100.$i many.upstream.test"; done >"$TEST_TMP/many.hosts"
_spawn "$TEST_TMP/dnsmasq.log" "$DNSMASQ" --keep-in-foreground --conf-file=/dev/null --no-resolv --no-hosts \
  --addn-hosts="$TEST_TMP/many.hosts" --listen-address=127.0.0.1 --bind-interfaces --port="$UP_PORT" --pid-file= \
  --user="$(id -un)" \
  --log-queries --log-facility=- --auth-zone=upstream.test --auth-server=ns.upstream.test,lo --auth-ttl=60 \
  --host-record=www.upstream.test,192.0.2.10 --host-record=big.upstream.test,192.0.2.20
wait_until 10 "$DIG" @127.0.0.1 -p "$UP_PORT" +time=1 +tries=1 upstream.test SOA || fail "dnsmasq did not start"

# --- the cluster's objects
cat >"$TEST_TMP/objects.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: prod}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  ports: [{name: http, port: 80, protocol: TCP}, {name: alt, port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: prod}
spec:
  clusterIP: None
  ports: [{name: pg, port: 5432}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: db-1, namespace: prod, labels: {kubernetes.io/service-name: db}}
addressType: IPv4
ports: [{name: pg, port: 5432, protocol: TCP}]
endpoints:
- {addresses: [10.42.1.5], hostname: db-0, conditions: {ready: true}}
- {addresses: [10.42.1.6], conditions: {ready: true}}
- {addresses: [10.42.1.7], hostname: db-2, conditions: {ready: false}}
---
apiVersion: v1
kind: Service
metadata: {name: ext, namespace: default}
spec: {type: ExternalName, externalName: www.upstream.test}
---
apiVersion: v1
kind: Pod
metadata: {name: p1, namespace: default}
spec: {containers: [{name: c, image: busybox}]}
YAML
{
  echo "---"
  echo "apiVersion: v1"
  echo "kind: Service"
  echo "metadata: {name: many, namespace: default}"
  echo "spec: {clusterIP: None}"
  echo "---"
  echo "apiVersion: discovery.k8s.io/v1"
  echo "kind: EndpointSlice"
  echo "metadata: {name: many-1, namespace: default, labels: {kubernetes.io/service-name: many}}"
  echo "addressType: IPv4"
  echo "endpoints:"
  for i in $(seq 1 60); do echo "- {addresses: [10.42.7.$i]}"; done
} >>"$TEST_TMP/objects.yaml"
k apply -f "$TEST_TMP/objects.yaml" >/dev/null || fail "kubectl apply failed"
k patch pod p1 --subresource=status --type=merge \
  -p '{"status":{"phase":"Running","podIP":"10.42.0.9","podIPs":[{"ip":"10.42.0.9"}]}}' >/dev/null ||
  fail "could not set the pod's IP"
WEB_IP=$(k get svc web -o 'jsonpath={.spec.clusterIP}')
[[ -n $WEB_IP ]] || fail "web has no ClusterIP"

# --- kite-dns
DNS_PORT=$(free_port)
HEALTH_PORT=$(free_port)
READY_PORT=$(free_port)
METRICS_PORT=$(free_port)
_spawn "$TEST_TMP/kite-dns.log" "$KITE_DNS" --kubeconfig "$TEST_TMP/kubeconfig" --dns-address 127.0.0.1 \
  --dns-port "$DNS_PORT" --upstream "127.0.0.1:$UP_PORT" --health-listen "127.0.0.1:$HEALTH_PORT" \
  --ready-listen "127.0.0.1:$READY_PORT" --metrics-listen "127.0.0.1:$METRICS_PORT"
DNS_PID=$LAST_PID
ready() { [[ $("${CURL:-curl}" -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$READY_PORT/ready") == 200 ]]; }
wait_until 30 ready || fail "kite-dns not ready"

d() { "$DIG" @127.0.0.1 -p "$DNS_PORT" +time=2 +tries=1 "$@"; }
answer() { d +noall +answer "$@" | awk '{print $1, $4, $5}' | sort; }
# status NAME TYPE: "STATUS flags: ...; ANSWER n; AUTHORITY-TYPE"
status() {
  local out
  out=$(d "$@")
  printf '%s %s ANSWER:%s AUTH:%s\n' "$(grep -o 'status: [A-Z]*' <<<"$out" | cut -d' ' -f2)" \
    "$(grep -o 'flags: [a-z ]*' <<<"$out" | cut -d' ' -f2- | xargs)" \
    "$(grep -o 'ANSWER: [0-9]*' <<<"$out" | cut -d' ' -f2)" \
    "$(d +noall +authority "$@" | awk '{print $1, $4}' | xargs)"
}
metric() { "${CURL:-curl}" -s "http://127.0.0.1:$METRICS_PORT/metrics" | grep -E "^$1" | awk '{s += $2} END {print s + 0}'; }

# --- cluster names
expect_exact "ClusterIP Service: A" "web.default.svc.cluster.local. A $WEB_IP" -- answer web.default.svc.cluster.local A
expect_exact "authoritative answer" "NOERROR qr aa rd ra ANSWER:1 AUTH:" -- status web.default.svc.cluster.local A
expect_exact "NODATA (AAAA of an IPv4 Service) carries the SOA" "NOERROR qr aa rd ra ANSWER:0 AUTH:cluster.local. SOA" -- \
  status web.default.svc.cluster.local AAAA
expect_exact "NXDOMAIN carries the SOA" "NXDOMAIN qr aa rd ra ANSWER:0 AUTH:cluster.local. SOA" -- \
  status missing.default.svc.cluster.local A
expect_exact "an empty non-terminal is NODATA" "NOERROR qr aa rd ra ANSWER:0 AUTH:cluster.local. SOA" -- \
  status prod.svc.cluster.local A
expect_exact "the SOA's negative TTL" "5" -- sh -c "$DIG @127.0.0.1 -p $DNS_PORT +noall +authority missing.default.svc.cluster.local | awk '{print \$NF}'"
expect_exact "headless Service: the ready endpoints" $'db.prod.svc.cluster.local. A 10.42.1.5\ndb.prod.svc.cluster.local. A 10.42.1.6' -- \
  answer db.prod.svc.cluster.local A
expect_exact "endpoint hostname" "db-0.db.prod.svc.cluster.local. A 10.42.1.5" -- answer db-0.db.prod.svc.cluster.local A
expect_exact "a not-ready endpoint's hostname is unknown" "NXDOMAIN qr aa rd ra ANSWER:0 AUTH:cluster.local. SOA" -- \
  status db-2.db.prod.svc.cluster.local A
expect_exact "SRV of a headless named port" \
  $'_pg._tcp.db.prod.svc.cluster.local. SRV 0\n_pg._tcp.db.prod.svc.cluster.local. SRV 0' -- answer _pg._tcp.db.prod.svc.cluster.local SRV
expect "SRV targets" '^0 50 5432 10-42-1-6\.db\.prod\.svc\.cluster\.local\.$' -- d +short _pg._tcp.db.prod.svc.cluster.local SRV
expect "SRV targets' addresses in the additional section" '^db-0\.db\.prod\.svc\.cluster\.local\.[[:space:]]+5[[:space:]]+IN[[:space:]]+A[[:space:]]+10\.42\.1\.5$' -- \
  d +noall +additional _pg._tcp.db.prod.svc.cluster.local SRV
expect_exact "SRV of a ClusterIP named port" "0 100 80 web.default.svc.cluster.local." -- d +short _http._tcp.web.default.svc.cluster.local SRV
expect_exact "pod A record" "10.42.0.9" -- d +short 10-42-0-9.default.pod.cluster.local A
expect_exact "no pod with that IP" "NXDOMAIN qr aa rd ra ANSWER:0 AUTH:cluster.local. SOA" -- status 10-42-0-8.default.pod.cluster.local A
expect_exact "PTR of a ClusterIP" "web.default.svc.cluster.local." -- d +short -x "$WEB_IP"
expect_exact "PTR of a pod IP" "10-42-0-9.default.pod.cluster.local." -- d +short -x 10.42.0.9
expect_exact "PTR of a headless endpoint" "db-0.db.prod.svc.cluster.local." -- d +short -x 10.42.1.5
expect_exact "ExternalName: CNAME" "ext.default.svc.cluster.local. CNAME www.upstream.test." -- \
  sh -c "$DIG @127.0.0.1 -p $DNS_PORT +noall +answer ext.default.svc.cluster.local A | awk '\$4 == \"CNAME\" {print \$1, \$4, \$5}'"
expect "letter case of the question kept" '^WeB\.DeFault\.svc\.cluster\.local\.[[:space:]]+5[[:space:]]+IN[[:space:]]+A[[:space:]]' -- d +noall +answer WeB.DeFault.svc.cluster.local A

# --- EDNS0, truncation and TCP
expect "EDNS0: our payload size in the OPT" 'udp: 1232' -- d web.default.svc.cluster.local A
expect "no EDNS0 asked, none given" '^$' -- sh -c "$DIG @127.0.0.1 -p $DNS_PORT +noedns web.default.svc.cluster.local A | grep -i 'OPT PSEUDOSECTION' || true"
expect_exact "60 addresses over UDP without EDNS0: truncated" "NOERROR qr aa tc rd ra ANSWER:0 AUTH:" -- status +noedns +ignore many.default.svc.cluster.local A
expect_exact "... and whole over TCP" "60" -- sh -c "$DIG @127.0.0.1 -p $DNS_PORT +tcp +short many.default.svc.cluster.local A | wc -l"
expect_exact "... and whole after dig's own TCP fallback" "60" -- sh -c "$DIG @127.0.0.1 -p $DNS_PORT +noedns +short many.default.svc.cluster.local A | wc -l"
expect_exact "... and within a 1232-octet EDNS0 payload over UDP" "60" -- sh -c "$DIG @127.0.0.1 -p $DNS_PORT +ignore +bufsize=4096 +short many.default.svc.cluster.local A | wc -l"

# --- forwarding, cache, negative cache
expect_exact "an outside name through the upstream" "192.0.2.10" -- d +short www.upstream.test A
expect_exact "again, from the cache" "192.0.2.10" -- d +short WWW.upstream.test A
expect_exact "the upstream was asked once" "1" -- sh -c "grep -c '\[A\] www.upstream.test from' $TEST_TMP/dnsmasq.log"
expect_exact "cache hit counted" "1" -- metric 'coredns_cache_hits_total\{.*type="success"'
expect_exact "outside NXDOMAIN with the upstream's SOA" "NXDOMAIN qr rd ra ANSWER:0 AUTH:upstream.test. SOA" -- status nope.upstream.test A
expect_exact "... negatively cached" "NXDOMAIN qr rd ra ANSWER:0 AUTH:upstream.test. SOA" -- status nope.upstream.test A
expect_exact "... the upstream asked once" "1" -- sh -c "grep -c '\[A\] nope.upstream.test from' $TEST_TMP/dnsmasq.log"
# (status asks twice: the first of the four questions missed, three hit)
expect_exact "denial cache hits counted" "3" -- metric 'coredns_cache_hits_total\{.*type="denial"'
expect_exact "an outside name over TCP" "192.0.2.20" -- d +tcp +short big.upstream.test A
expect "upstream's truncated answer: TC to a UDP client" 'flags: qr tc rd ra;' -- d +ignore +noedns many.upstream.test A
expect_exact "... and whole to a TCP client (kite-dns asks the upstream again over TCP)" "100" -- \
  sh -c "$DIG @127.0.0.1 -p $DNS_PORT +tcp +short many.upstream.test A | wc -l"

# --- the cluster changes
k delete svc web >/dev/null
gone() { [[ $(status web.default.svc.cluster.local A) == NXDOMAIN* ]]; }
if wait_until 10 gone; then _report ok "a deleted Service's name goes away"; else _report fail "a deleted Service's name goes away"; fi
k create service clusterip fresh --tcp=81:81 >/dev/null
FRESH_IP=$(k get svc fresh -o 'jsonpath={.spec.clusterIP}')
appeared() { [[ $(d +short fresh.default.svc.cluster.local A) == "$FRESH_IP" ]]; }
if wait_until 10 appeared; then _report ok "a new Service's name appears"; else _report fail "a new Service's name appears"; fi

# --- malformed packets: dropped or FORMERR, the server carries on
expect_exact "malformed packets" "formerr=1 formerr=1 dropped dropped alive" -- python3 - "$DNS_PORT" <<'PY'
import socket, struct, sys
port = int(sys.argv[1])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
def ask(pkt):
    s.sendto(pkt, ("127.0.0.1", port))
    try:
        data, _ = s.recvfrom(65535)
        return "formerr=%d" % (struct.unpack("!H", data[2:4])[0] & 0xF) if data[:2] == pkt[:2] else "other"
    except socket.timeout:
        return "dropped"
q = b"\x03web\x07default\x03svc\x07cluster\x05local\x00\x00\x01\x00\x01"
out = [ask(struct.pack("!HHHHHH", 7, 0x0100, 2, 0, 0, 0) + q + q),       # two questions
       ask(struct.pack("!HHHHHH", 8, 0x0100, 1, 0, 0, 0) + b"\xc0\x0c"),  # a pointer loop
       ask(b"\x00\x09\x01"),                                               # no header
       ask(struct.pack("!HHHHHH", 10, 0x8100, 1, 0, 0, 0) + q)]           # a response
ok = ask(struct.pack("!HHHHHH", 11, 0x0100, 1, 0, 0, 0) + b"\x05fresh\x07default\x03svc\x07cluster\x05local\x00\x00\x01\x00\x01")
out.append("alive" if ok == "formerr=0" else ok)
print(" ".join(out))
PY
kill -0 "$DNS_PID" 2>/dev/null && _report ok "kite-dns still running" || _report fail "kite-dns still running"

# --- health, readiness, metrics under CoreDNS's names
expect_exact "/health" "200" -- "${CURL:-curl}" -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$HEALTH_PORT/health"
for m in coredns_dns_requests_total coredns_dns_responses_total coredns_dns_request_duration_seconds_bucket \
  coredns_cache_hits_total coredns_cache_misses_total coredns_forward_requests_total; do
  expect "metric $m" "^$m\\{" -- "${CURL:-curl}" -s "http://127.0.0.1:$METRICS_PORT/metrics"
done
expect_exact "NXDOMAIN responses counted" "1" -- sh -c "[ \$(curl -s http://127.0.0.1:$METRICS_PORT/metrics | grep -E '^coredns_dns_responses_total\\{.*rcode=\"NXDOMAIN\"' | awk '{print \$2}') -ge 5 ] && echo 1 || echo 0"

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
