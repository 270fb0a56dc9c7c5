#!/usr/bin/env bash
# Ingress, end to end on a real node, as a k3s user writes it: kite-server deploys the kite-ingress
# add-on (its image from the offline archives) behind its LoadBalancer Service on the node's
# port 80 (ServiceLB and the service proxy), and it serves the cluster's Ingresses:
# - an Ingress with no class (ours: IngressClass traefik is the default) and one naming
#   traefik, host and path rules (Prefix element by element, Exact, the longest path first),
#   a Service port by number and by name, reached on the node's address with the Host header;
# - another class's Ingress is not served (404), an unknown host is 404, a missing Service 503;
# - an edited rule takes effect; a 20 MiB download arrives whole;
# - HTTPS on the node's port 443: the certificate of the Secret the Ingress's spec.tls names for
#   that host (by SNI), the default self-signed one for other names; Traefik's
#   router.entrypoints/router.tls annotations keep an Ingress to HTTPS;
# - the Ingresses' status carries the node's address (the published Service's);
# - its /metrics (Traefik's names) count the requests, and `promtool check metrics` is clean.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
[[ -f $KITE_IMAGES/kite-ingress.tar ]] || skip "no kite-ingress image archive in $KITE_IMAGES"
sweep_leftovers

one_node ing
NODE_IP=10.99.0.1  # one_node's node address
start_node_server --node-ip $NODE_IP
eventually_eq "node Ready" 90 True k get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
ingress_ready() { [[ $(k get deploy -n kube-system kite-ingress -o 'jsonpath={.status.readyReplicas}') == 1 ]]; }
if ! wait_until 120 ingress_ready; then
  k get pods -A -o wide || true
  k describe pod -n kube-system -l app.kubernetes.io/name=kite-ingress | tail -30 || true
  k logs -n kube-system -l app.kubernetes.io/name=kite-ingress --tail 30 || true
  fail "the kite-ingress add-on is not Ready within 120 s"
fi
echo "ok - the kite-ingress add-on is Ready (routes loaded through the API, its own token)"
eventually_eq "its LoadBalancer Service has the node's address (ServiceLB)" 30 $NODE_IP \
  k get svc -n kube-system kite-ingress -o 'jsonpath={.status.loadBalancer.ingress[0].ip}'

cat >"$TEST_TMP/apps.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: a, labels: {app: a}}
spec:
  containers:
  - name: httpd
    image: $IMAGE
    imagePullPolicy: Never
    command: [sh, -c, "mkdir -p /www/app && echo a-root >/www/index.html && echo a-app >/www/app/index.html && echo a-appx >/www/appx && head -c 20971520 /dev/zero >/www/big && exec httpd -f -p 80 -h /www"]
---
apiVersion: v1
kind: Pod
metadata: {name: b, labels: {app: b}}
spec:
  containers:
  - name: httpd
    image: $IMAGE
    imagePullPolicy: Never
    command: [sh, -c, "mkdir -p /www/app/b && echo b-app-b >/www/app/b/index.html && echo b-exact >/www/exact && echo b-root >/www/index.html && exec httpd -f -p 80 -h /www"]
---
apiVersion: v1
kind: Service
metadata: {name: a}
spec:
  selector: {app: a}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: b}
spec:
  selector: {app: b}
  ports: [{name: http, port: 8080, targetPort: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: site}
spec:
  rules:
  - host: site.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: a, port: {number: 80}}}}
      - {path: /app/b, pathType: Prefix, backend: {service: {name: b, port: {name: http}}}}
      - {path: /missing, pathType: Prefix, backend: {service: {name: nothing-here, port: {number: 80}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: exact}
spec:
  ingressClassName: traefik
  rules:
  - host: site.test
    http:
      paths:
      - {path: /exact, pathType: Exact, backend: {service: {name: b, port: {number: 8080}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: elsewhere}
spec:
  ingressClassName: nginx
  rules:
  - host: nginx.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: a, port: {number: 80}}}}
YAML
k create -f "$TEST_TMP/apps.yaml" >/dev/null
eventually_eq "a Ready" 60 True k get pod a -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
eventually_eq "b Ready" 60 True k get pod b -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'

# get HOST PATH: the body (and the status when not 200) of a GET to the node's port 80.
get() {
  in_ns "$NS" curl -s -m 10 -H "Host: $1" -w '%{http_code}' "http://$NODE_IP$2" | sed 's/200$//'
}
eventually_eq "site.test/ reaches a (no class: the default class is ours)" 30 a-root get site.test /
expect_eq "Prefix matches whole elements: /app/ on a" a-app get site.test /app/
expect_eq "Prefix matches whole elements: /appx is not /app" a-appx get site.test /appx
expect_eq "the longer path wins: /app/b/ on b, by its port's name" b-app-b get site.test /app/b/
expect_eq "Exact, from an Ingress naming traefik: /exact on b" b-exact get site.test /exact
expect_eq "the Host header's port and case do not matter" a-root get SITE.test:80 /
expect_eq "an unknown host: 404" "404 page not found
404" get nope.test /
expect_eq "another class's Ingress is not ours: 404" "404 page not found
404" get nginx.test /
expect_eq "a backend Service that does not exist: 503" "Service Unavailable
503" get site.test /missing
expect_eq "a 20 MiB download arrives whole" 20971520 \
  in_ns "$NS" curl -s -m 30 -o /dev/null -w '%{size_download}' -H 'Host: site.test' "http://$NODE_IP/big"

k patch ingress site --type=json -p '[{"op":"replace","path":"/spec/rules/0/http/paths/0/backend/service","value":{"name":"b","port":{"number":8080}}}]' >/dev/null
eventually_eq "an edited rule takes effect: site.test/ now on b" 30 b-root get site.test /

# HTTPS: a certificate for site.test in a kubernetes.io/tls Secret, named by the Ingress.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TEST_TMP/site.key" -out "$TEST_TMP/site.crt" \
  -days 1 -subj /CN=site.test -addext subjectAltName=DNS:site.test 2>/dev/null
k create secret tls site-tls --cert "$TEST_TMP/site.crt" --key "$TEST_TMP/site.key" >/dev/null
k patch ingress site --type=merge -p '{"spec":{"tls":[{"hosts":["site.test"],"secretName":"site-tls"}]}}' >/dev/null
tls_get() {  # tls_get NAME PATH CURL-ARGS...: the body over HTTPS to the node's 443 with SNI NAME
  local name=$1 path=$2
  shift 2
  in_ns "$NS" curl -s -m 10 --resolve "$name:443:$NODE_IP" "$@" "https://$name$path"
}
eventually_eq "HTTPS on the node's 443 with the Secret's certificate (verified against it)" 30 b-root \
  tls_get site.test / --cacert "$TEST_TMP/site.crt"
expect_eq "HTTPS routes by path as HTTP does: /exact on b" b-exact \
  tls_get site.test /exact --cacert "$TEST_TMP/site.crt"
default_cert() { in_ns "$NS" curl -sk -m 10 -v --resolve "nope.test:443:$NODE_IP" https://nope.test/ 2>&1 | sed -n 's/.*subject: //p'; }
expect_eq "another name gets the default certificate (and 404)" "CN=kite-ingress default certificate" default_cert
k apply -f - >/dev/null <<YAML
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: secure-only
  annotations: {traefik.ingress.kubernetes.io/router.entrypoints: websecure, traefik.ingress.kubernetes.io/router.tls: "true"}
spec:
  rules:
  - host: secure.test
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: a, port: {number: 80}}}}]}
YAML
eventually_eq "Traefik's router.entrypoints: websecure and router.tls: served over HTTPS" 30 a-root tls_get secure.test / -k
expect_eq "and not over HTTP (404)" "404 page not found
404" get secure.test /

statuses() { k get ingress site exact -o 'jsonpath={.items[*].status.loadBalancer.ingress[0].ip}'; }
eventually_eq "our Ingresses' status: the node's address" 30 "$NODE_IP $NODE_IP" statuses
expect_eq "another class's Ingress is left alone" "" k get ingress elsewhere -o 'jsonpath={.status.loadBalancer.ingress}'

POD_IP=$(k get pod -n kube-system -l app.kubernetes.io/name=kite-ingress -o 'jsonpath={.items[0].status.podIP}')
in_ns "$NS" curl -s -m 10 "http://$POD_IP:9100/metrics" >"$TEST_TMP/metrics.txt"
grep -Eq 'traefik_entrypoint_requests_total\{code="404",entrypoint="web",method="GET",protocol="http"\} [1-9]' "$TEST_TMP/metrics.txt" ||
  fail "no 404s counted: $(grep traefik_entrypoint_requests_total "$TEST_TMP/metrics.txt")"
echo "ok - its metrics count the requests under Traefik's names"
grep -Eq 'traefik_service_requests_total\{code="200",method="GET",protocol="http",service="default/b:http"\} [1-9]' "$TEST_TMP/metrics.txt" ||
  fail "no requests counted for default/b:http: $(grep traefik_service_requests_total "$TEST_TMP/metrics.txt")"
echo "ok - and per Service"
LINT=$(promtool check metrics <"$TEST_TMP/metrics.txt" 2>&1) || fail "promtool check metrics: $LINT"
echo "ok - promtool check metrics: clean"
echo "PASS"
