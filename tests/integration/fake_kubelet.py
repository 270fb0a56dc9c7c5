#!/usr/bin/env python3
"""A stand-in for a kubelet's HTTPS server that serves only /metrics/resource, for the metrics
server's tests until the real kubelet server lands. It asks for a client certificate signed by
--client-ca (as a kubelet does) and answers Prometheus text with the kubelet's metric names
and timestamps. The load is read from --load (JSON) at every request, so a test can change it:
  {"node": {"cpu": <cores>, "memory": <bytes>},
   "containers": [{"namespace": .., "pod": .., "container": .., "cpu": <cores>, "memory": <bytes>}]}
Cumulative CPU is cores x seconds since this process started, computed in whole nanoseconds
from a millisecond clock, so the rate between two scrapes is exactly the configured cores.
Prints "listening <port>" once ready."""
import argparse
import http.server
import json
import ssl
import sys
import time

START_MS = int(time.time() * 1000)


def render(load, now_ms):
    elapsed_ms = now_ms - START_MS
    start_s = START_MS / 1000.0

    def cpu(cores):
        return "%.9f" % (round(cores * 1e9) * elapsed_ms // 1000 / 1e9)

    lines = ["# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds",
             "# TYPE node_cpu_usage_seconds_total counter"]
    node = load.get("node")
    if node:
        lines.append("node_cpu_usage_seconds_total %s %d" % (cpu(node["cpu"]), now_ms))
        lines.append("# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes")
        lines.append("# TYPE node_memory_working_set_bytes gauge")
        lines.append("node_memory_working_set_bytes %d %d" % (node["memory"], now_ms))
    for family, kind in (("container_cpu_usage_seconds_total", "counter"),
                         ("container_memory_working_set_bytes", "gauge"),
                         ("container_start_time_seconds", "gauge")):
        lines.append("# TYPE %s %s" % (family, kind))
        for c in load.get("containers", []):
            labels = 'container="%s",namespace="%s",pod="%s"' % (c["container"], c["namespace"], c["pod"])
            if family.startswith("container_cpu"):
                value = cpu(c["cpu"])
            elif family.startswith("container_memory"):
                value = "%d" % c["memory"]
            else:
                value = "%.3f" % start_s
            lines.append("%s{%s} %s %d" % (family, labels, value, now_ms))
    lines.append("# TYPE resource_scrape_error gauge")
    lines.append("resource_scrape_error 0")
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--client-ca", required=True)
    p.add_argument("--load", required=True)
    p.add_argument("--log", default="")
    a = p.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/metrics/resource":
                self.send_error(404)
                return
            with open(a.load) as f:
                load = json.load(f)
            body = render(load, int(time.time() * 1000)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            if a.log:
                with open(a.log, "a") as f:
                    f.write("scraped\n")

        def log_message(self, *args):
            pass

    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    ctx.load_verify_locations(a.client_ca)
    ctx.verify_mode = ssl.CERT_REQUIRED
    server = http.server.ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print("listening %d" % a.port, flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
