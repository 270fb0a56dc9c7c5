#!/usr/bin/env python3
"""Prometheus's Kubernetes service discovery for a Prometheus built without it.

Debian's prometheus package (2.42) is built without `kubernetes_sd_configs` (its Go client
library is not packaged), so tests/e2e/prometheus.sh cannot run the shipped configuration
as is. This stands in for that one piece: `rewrite` turns every `kubernetes_sd_configs` entry of
a configuration into an `http_sd_configs` entry pointing here, and `serve` answers those with the
target groups and `__meta_kubernetes_*` labels Prometheus's Kubernetes discovery gives for the
roles node, pod, endpoints and service (as its documentation lists them), read from the API
server named in the entry with the entry's own token and CA. Everything else in the
configuration (relabelling, scheme, credentials, paths) is Prometheus's own.

  kubernetes_sd.py rewrite IN OUT PORT     the configuration with http_sd_configs
  kubernetes_sd.py serve PORT IN           the discovery endpoint for IN's kubernetes_sd_configs
"""
import http.server
import json
import re
import ssl
import sys
import urllib.request

import yaml


def sanitize(name):
    return re.sub(r"[^a-zA-Z0-9_]", "_", name)


def meta_map(prefix, values):
    labels = {}
    for k, v in (values or {}).items():
        labels[prefix + "_" + sanitize(k)] = v
        labels[prefix + "present_" + sanitize(k)] = "true"
    return labels


class Api:
    def __init__(self, entry):
        self.base = entry["api_server"].rstrip("/")
        self.token = open(entry["authorization"]["credentials_file"]).read().strip()
        self.ctx = ssl.create_default_context(cafile=entry["tls_config"]["ca_file"])

    def list(self, path):
        req = urllib.request.Request(self.base + path, headers={"Authorization": "Bearer " + self.token})
        with urllib.request.urlopen(req, context=self.ctx, timeout=10) as r:
            return json.load(r)["items"]


def node_address(node):
    # Prometheus's order of preference for a node's address.
    by_type = {}
    for a in node.get("status", {}).get("addresses", []):
        by_type.setdefault(a["type"], a["address"])
    for t in ("InternalIP", "InternalDNS", "ExternalIP", "ExternalDNS", "LegacyHostIP", "Hostname"):
        if t in by_type:
            return by_type[t], by_type
    return None, by_type


def nodes(api):
    groups = []
    for n in api.list("/api/v1/nodes"):
        addr, by_type = node_address(n)
        if addr is None:
            continue
        port = n.get("status", {}).get("daemonEndpoints", {}).get("kubeletEndpoint", {}).get("Port", 10250)
        name = n["metadata"]["name"]
        labels = {"__meta_kubernetes_node_name": name, "instance": name}
        labels.update(meta_map("__meta_kubernetes_node_label", n["metadata"].get("labels")))
        labels.update(meta_map("__meta_kubernetes_node_annotation", n["metadata"].get("annotations")))
        for t, a in by_type.items():
            labels["__meta_kubernetes_node_address_" + t] = a
        groups.append({"targets": ["%s:%d" % (addr, port)], "labels": labels})
    return groups


def pod_labels(p):
    m, s = p["metadata"], p.get("status", {})
    ready = next((c["status"].lower() for c in s.get("conditions", []) if c["type"] == "Ready"), "unknown")
    labels = {
        "__meta_kubernetes_namespace": m["namespace"],
        "__meta_kubernetes_pod_name": m["name"],
        "__meta_kubernetes_pod_ip": s.get("podIP", ""),
        "__meta_kubernetes_pod_node_name": p["spec"].get("nodeName", ""),
        "__meta_kubernetes_pod_host_ip": s.get("hostIP", ""),
        "__meta_kubernetes_pod_uid": m.get("uid", ""),
        "__meta_kubernetes_pod_phase": s.get("phase", ""),
        "__meta_kubernetes_pod_ready": ready,
    }
    labels.update(meta_map("__meta_kubernetes_pod_label", m.get("labels")))
    labels.update(meta_map("__meta_kubernetes_pod_annotation", m.get("annotations")))
    for o in m.get("ownerReferences", []):
        if o.get("controller"):
            labels["__meta_kubernetes_pod_controller_kind"] = o["kind"]
            labels["__meta_kubernetes_pod_controller_name"] = o["name"]
    return labels


def pods(api):
    groups = []
    for p in api.list("/api/v1/pods"):
        ip = p.get("status", {}).get("podIP")
        if not ip:
            continue
        base = pod_labels(p)
        for c in p["spec"]["containers"]:
            for port in c.get("ports") or [None]:
                labels = dict(base, __meta_kubernetes_pod_container_name=c["name"],
                              __meta_kubernetes_pod_container_image=c.get("image", ""),
                              __meta_kubernetes_pod_container_init="false")
                target = ip
                if port:
                    target = "%s:%d" % (ip, port["containerPort"])
                    labels["__meta_kubernetes_pod_container_port_name"] = port.get("name", "")
                    labels["__meta_kubernetes_pod_container_port_number"] = str(port["containerPort"])
                    labels["__meta_kubernetes_pod_container_port_protocol"] = port.get("protocol", "TCP")
                groups.append({"targets": [target], "labels": labels})
    return groups


def service_labels(s):
    m = s["metadata"]
    labels = {"__meta_kubernetes_namespace": m["namespace"], "__meta_kubernetes_service_name": m["name"]}
    labels.update(meta_map("__meta_kubernetes_service_label", m.get("labels")))
    labels.update(meta_map("__meta_kubernetes_service_annotation", m.get("annotations")))
    return labels


def services(api):
    groups = []
    for s in api.list("/api/v1/services"):
        m, spec = s["metadata"], s["spec"]
        for port in spec.get("ports", []):
            labels = dict(service_labels(s),
                          __meta_kubernetes_service_port_name=port.get("name", ""),
                          __meta_kubernetes_service_port_number=str(port["port"]),
                          __meta_kubernetes_service_port_protocol=port.get("protocol", "TCP"),
                          __meta_kubernetes_service_type=spec.get("type", "ClusterIP"))
            if spec.get("clusterIP") and spec["clusterIP"] != "None":
                labels["__meta_kubernetes_service_cluster_ip"] = spec["clusterIP"]
            target = "%s.%s.svc:%d" % (m["name"], m["namespace"], port["port"])
            groups.append({"targets": [target], "labels": labels})
    return groups


def endpoints(api):
    svcs = {(s["metadata"]["namespace"], s["metadata"]["name"]): s for s in api.list("/api/v1/services")}
    pods_by = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in api.list("/api/v1/pods")}
    groups = []
    for e in api.list("/api/v1/endpoints"):
        m = e["metadata"]
        base = {"__meta_kubernetes_namespace": m["namespace"], "__meta_kubernetes_endpoints_name": m["name"]}
        base.update(meta_map("__meta_kubernetes_endpoints_label", m.get("labels")))
        svc = svcs.get((m["namespace"], m["name"]))
        if svc:
            base.update(service_labels(svc))
        for subset in e.get("subsets", []):
            for ready, key in (("true", "addresses"), ("false", "notReadyAddresses")):
                for addr in subset.get(key, []):
                    for port in subset.get("ports", []):
                        labels = dict(base, __meta_kubernetes_endpoint_port_name=port.get("name", ""),
                                      __meta_kubernetes_endpoint_port_protocol=port.get("protocol", "TCP"),
                                      __meta_kubernetes_endpoint_ready=ready)
                        if addr.get("nodeName"):
                            labels["__meta_kubernetes_endpoint_node_name"] = addr["nodeName"]
                        if addr.get("hostname"):
                            labels["__meta_kubernetes_endpoint_hostname"] = addr["hostname"]
                        ref = addr.get("targetRef") or {}
                        if ref:
                            labels["__meta_kubernetes_endpoint_address_target_kind"] = ref.get("kind", "")
                            labels["__meta_kubernetes_endpoint_address_target_name"] = ref.get("name", "")
                        key_ = (ref.get("namespace"), ref.get("name"))
                        if ref.get("kind") == "Pod" and key_ in pods_by:
                            labels.update(pod_labels(pods_by[key_]))
                        groups.append({"targets": ["%s:%d" % (addr["ip"], port["port"])], "labels": labels})
    return groups


ROLES = {"node": nodes, "pod": pods, "service": services, "endpoints": endpoints}


def entry_names(config):
    """(job, index, entry, name) for each kubernetes_sd_configs entry."""
    for job in config.get("scrape_configs", []):
        for i, entry in enumerate(job.get("kubernetes_sd_configs", [])):
            yield job, entry, "%s-%d-%s" % (job["job_name"], i, entry["role"])


def rewrite(src, dst, port):
    config = yaml.safe_load(open(src))
    for job, entry, name in list(entry_names(config)):
        job.setdefault("http_sd_configs", []).append(
            {"url": "http://127.0.0.1:%s/%s" % (port, name), "refresh_interval": "3s"})
    for job in config.get("scrape_configs", []):
        job.pop("kubernetes_sd_configs", None)
    yaml.safe_dump(config, open(dst, "w"), sort_keys=False)


def serve(port, src):
    entries = {name: entry for _, entry, name in entry_names(yaml.safe_load(open(src)))}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            entry = entries.get(self.path.strip("/"))
            if entry is None:
                self.send_error(404)
                return
            try:
                body = json.dumps(ROLES[entry["role"]](Api(entry))).encode()
            except Exception as e:  # the API server's answer or its absence: Prometheus retries
                self.send_error(503, str(e))
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    http.server.ThreadingHTTPServer(("127.0.0.1", int(port)), Handler).serve_forever()


if __name__ == "__main__":
    if sys.argv[1] == "rewrite":
        rewrite(sys.argv[2], sys.argv[3], sys.argv[4])
    else:
        serve(sys.argv[2], sys.argv[3])
