#!/usr/bin/env bash
# kite-ingress against nginx as the reverse proxy, side by side in one run, with wrk on the same
# routes (bench/RESULTS.md, "The Ingress controller").
#
# Starts a kite-server (API only: --disable-agent) whose Service range is a loopback one
# (--service-cidr 127.43.0.0/16), so a Service's cluster IP is a local address and the backend,
# an nginx serving a 100-byte answer (/small) and a 1 MiB file (/big), listens on it: both
# proxies then reach the backend as kite-ingress reaches a cluster IP, with no node needed. One
# Ingress routes host bench.test to that Service; kite-ingress (--kubeconfig, one proxy thread)
# serves it, and an nginx with one worker proxies the same host to the same address, setting the
# same forwarded headers and, as kite-ingress does, opening one backend connection per request.
# Both proxies are pinned to CPU 0; wrk and the backend to CPU 1. Each round (alternating which
# proxy goes first) runs wrk with keep-alive connections for --seconds on each route through each
# proxy, and once straight to the backend (the floor). Besides what wrk saw, each proxy's own
# CPU time during the run gives requests per CPU-second, the capacity of one core given to it
# alone. Prints a table of medians over the rounds and the kite-ingress/nginx ratio.
#
# Usage: bench/run_ingress.sh [options]      (run from the repository root; root not needed)
#   --build DIR        holds bin/kite-server and bin/kite-ingress (default: build)
#   --rounds N         (default 3)
#   --seconds S        length of each wrk run (default 5)
#   --connections N    wrk's keep-alive connections (default 32)
set -euo pipefail

BUILD=build
ROUNDS=3
SECONDS_PER_RUN=5
CONNECTIONS=32
PROXY_CPU=0
CLIENT_CPU=1
while [[ $# -gt 0 ]]; do
  case $1 in
    --build) BUILD=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --seconds) SECONDS_PER_RUN=$2; shift 2 ;;
    --connections) CONNECTIONS=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
for tool in "$BUILD/bin/kite-server" "$BUILD/bin/kite-ingress"; do
  [[ -x $tool ]] || { echo "missing $tool (build it first)" >&2; exit 1; }
done
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
for tool in kubectl wrk curl taskset "$NGINX"; do
  command -v "$tool" >/dev/null || { echo "missing $tool (packaging/deps.txt: nginx-light wrk)" >&2; exit 1; }
done

WORK_NAME=kite-ingress-bench
source "$(dirname "${BASH_SOURCE[0]}")/lib_bench.sh"
chmod 755 "$WORK"  # nginx's workers (nobody, when run as root) read the backend's files

# --- kite-server, the Service (a loopback cluster IP), the Ingress
API_PORT=$(free_port)
echo "{}" >"$WORK/empty.yaml"
taskset -c "$CLIENT_CPU" "$BUILD/bin/kite-server" --config "$WORK/empty.yaml" --data-dir "$WORK/data" \
  --etcd-listen "127.0.0.1:$(free_port)" --metrics-listen "127.0.0.1:$(free_port)" --bind-address 127.0.0.1 \
  --https-listen-port "$API_PORT" --write-kubeconfig "$WORK/kubeconfig" --disable-agent \
  --service-cidr 127.43.0.0/16 --disable kite-dns,traefik,runtimes >"$WORK/server.log" 2>&1 &
PIDS+=($!)
k() { timeout 120 kubectl --kubeconfig "$WORK/kubeconfig" --cache-dir "$WORK/kcache" "$@" </dev/null; }
wait_for 60 k get --raw /readyz || { tail "$WORK/server.log"; echo "kite-server not ready" >&2; exit 1; }
BACKEND_IP=127.43.0.50
BACKEND_PORT=$(free_port)
cat >"$WORK/objects.yaml" <<YAML
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: bench
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: kite.io/ingress}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  clusterIP: $BACKEND_IP
  ports: [{port: $BACKEND_PORT}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: bench}
spec:
  rules:
  - host: bench.test
    http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: web, port: {number: $BACKEND_PORT}}}}
YAML
k apply -f "$WORK/objects.yaml" >/dev/null

# --- the backend (nginx, one worker, CPU 1)
mkdir -p "$WORK/www"
head -c 1048576 /dev/zero >"$WORK/www/big"
SMALL=$(printf 'x%.0s' $(seq 1 99))
nginx_conf() {  # nginx_conf NAME SERVER-BLOCK: a one-worker nginx writing only under $WORK
  cat >"$WORK/$1.conf" <<CONF
worker_processes 1;
daemon off;
pid $WORK/$1.pid;
error_log $WORK/$1.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $WORK/$1-body;
  proxy_temp_path $WORK/$1-proxy;
  fastcgi_temp_path $WORK/$1-fcgi;
  uwsgi_temp_path $WORK/$1-uwsgi;
  scgi_temp_path $WORK/$1-scgi;
  keepalive_requests 1000000;
  $2
}
CONF
}
nginx_conf backend "server { listen $BACKEND_IP:$BACKEND_PORT; sendfile on;
    location = /small { default_type text/plain; return 200 '$SMALL
'; }
    location / { root $WORK/www; } }"
taskset -c "$CLIENT_CPU" "$NGINX" -c "$WORK/backend.conf" -p "$WORK" >"$WORK/backend.log" 2>&1 &
PIDS+=($!)

# --- the proxies, on CPU 0
KITE_PORT=$(free_port)
PING_PORT=$(free_port)
taskset -c "$PROXY_CPU" "$BUILD/bin/kite-ingress" --kubeconfig "$WORK/kubeconfig" --address 127.0.0.1 \
  --http-port "$KITE_PORT" --https-port -1 --ping-listen "127.0.0.1:$PING_PORT" --metrics-listen "" --threads 1 \
  >"$WORK/kite-ingress.log" 2>&1 &
PIDS+=($!)
KITE_PID=$!
NGINX_PORT=$(free_port)
# As kite-ingress: the client's Host, the forwarded headers, HTTP/1.0 and a new connection per
# request to the backend (nginx's default), answers streamed (no buffering to disk).
nginx_conf proxy "server { listen 127.0.0.1:$NGINX_PORT; server_name bench.test;
    location / { proxy_pass http://$BACKEND_IP:$BACKEND_PORT; proxy_buffering off;
      proxy_set_header Host \$http_host; proxy_set_header X-Real-Ip \$remote_addr;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for; proxy_set_header X-Forwarded-Proto http;
      proxy_set_header X-Forwarded-Host \$http_host; } }"
taskset -c "$PROXY_CPU" "$NGINX" -c "$WORK/proxy.conf" -p "$WORK" >"$WORK/proxy.log" 2>&1 &
PIDS+=($!)
answers() { [[ $(curl -s -m 2 -H 'Host: bench.test' "http://127.0.0.1:$1/small") == "$SMALL" ]]; }
wait_for 60 answers "$KITE_PORT" || { tail "$WORK/kite-ingress.log"; echo "kite-ingress does not answer" >&2; exit 1; }
wait_for 30 answers "$NGINX_PORT" || { cat "$WORK/proxy.err" "$WORK/proxy.log"; echo "nginx does not answer" >&2; exit 1; }
NGINX_PID=$(pgrep -f "nginx: worker process" -P "$(cat "$WORK/proxy.pid")" | head -1)
[[ -n $NGINX_PID ]] || { echo "nginx's worker not found" >&2; exit 1; }

# to_ms VALUE: wrk's "812.00us" / "1.20ms" / "2.00s" in ms.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /us$/) n /= 1000; else if (v ~ /[^m]s$/) n *= 1000; printf "%.3f", n }'; }
# to_mib VALUE: wrk's "512.00KB" / "1.20GB" per second in MiB.
to_mib() { awk -v v="$1" 'BEGIN { n = v + 0; if (v ~ /KB$/) n /= 1024; else if (v ~ /GB$/) n *= 1024; else if (v ~ /^[0-9.]+B$/) n /= 1048576; printf "%.1f", n }'; }

# run NAME PORT PID ROUTE ROUND: one wrk run; appends
# "name route round req_s p50_ms p99_ms mib_s req_per_cpu_second" to results.
run() {
  local name=$1 port=$2 pid=$3 route=$4 round=$5 out="$WORK/wrk-$1-$4-$5.txt"
  local t0=0 t1=0
  [[ -n $pid ]] && t0=$(cpu_ticks "$pid")
  taskset -c "$CLIENT_CPU" timeout $((SECONDS_PER_RUN + 30)) wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --latency \
    -H 'Host: bench.test' "http://$6:$port/$route" >"$out" 2>&1
  [[ -n $pid ]] && t1=$(cpu_ticks "$pid")
  local rps p50 p99 mib total per_cpu
  rps=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
  p50=$(to_ms "$(awk '$1 == "50%" {print $2}' "$out")")
  p99=$(to_ms "$(awk '$1 == "99%" {print $2}' "$out")")
  mib=$(to_mib "$(awk '/^Transfer\/sec:/ {print $2}' "$out")")
  total=$(awk '/requests in/ {print $1}' "$out")
  per_cpu=$(awk -v d="${total:-0}" -v t=$((t1 - t0)) -v hz="$TICKS" 'BEGIN {printf "%.0f", (t > 0 ? d * hz / t : 0)}')
  if grep -q "Non-2xx\|Socket errors" "$out"; then
    echo "$name $route: $(grep "Non-2xx\|Socket errors" "$out")" >&2
  fi
  echo "$name $route $round ${rps:-0} $p50 $p99 $mib $per_cpu" | tee -a "$WORK/results" >&2
}
for round in $(seq 1 "$ROUNDS"); do
  for route in small big; do
    if ((round % 2)); then
      run kite-ingress "$KITE_PORT" "$KITE_PID" "$route" "$round" 127.0.0.1
      run nginx "$NGINX_PORT" "$NGINX_PID" "$route" "$round" 127.0.0.1
    else
      run nginx "$NGINX_PORT" "$NGINX_PID" "$route" "$round" 127.0.0.1
      run kite-ingress "$KITE_PORT" "$KITE_PID" "$route" "$round" 127.0.0.1
    fi
    run direct "$BACKEND_PORT" "" "$route" "$round" "$BACKEND_IP"
  done
done

col() { awk -v n="$1" -v r="$2" -v c="$3" '$1 == n && $2 == r {print $c}' "$WORK/results" | median; }
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
echo
echo "kite-ingress vs nginx: $ROUNDS rounds of ${SECONDS_PER_RUN}s, each proxy on CPU $PROXY_CPU, wrk and the backend on CPU $CLIENT_CPU (-c $CONNECTIONS, keep-alive), load $(cut -d' ' -f1-3 /proc/loadavg), commit $commit"
printf '| %-36s | %12s | %12s | %8s | %12s |\n' "median of $ROUNDS" kite-ingress nginx ratio "direct"
printf '|%s|%s|%s|%s|%s|\n' "--------------------------------------" "--------------" "--------------" "----------" "--------------"
row() {  # row LABEL ROUTE COLUMN
  local a b d
  a=$(col kite-ingress "$2" "$3"); b=$(col nginx "$2" "$3"); d=$(col direct "$2" "$3")
  printf '| %-36s | %12s | %12s | %8s | %12s |\n' "$1" "$a" "$b" \
    "$(awk -v a="$a" -v b="$b" 'BEGIN {printf (b > 0 ? "%.2fx" : "-"), a / b}')" "$([[ $3 == 8 ]] && echo - || echo "$d")"
}
row "100 B: requests/s" small 4
row "100 B: requests per proxy CPU-second" small 8
row "100 B: p50 latency (ms)" small 5
row "100 B: p99 latency (ms)" small 6
row "1 MiB: MiB/s" big 7
row "1 MiB: requests per proxy CPU-second" big 8
row "1 MiB: p99 latency (ms)" big 6
