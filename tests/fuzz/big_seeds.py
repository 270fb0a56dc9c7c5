#!/usr/bin/env python3
"""Seed inputs at the API server's body limit (3 MiB) for the fuzz targets that parse request
bodies: the 64 KiB runs never reach a megabyte scalar or a patch whose copies double a document.

Usage: big_seeds.py OUT_DIR — writes OUT_DIR/<target>/<seed> for each target below.
packaging/dev.sh fuzz runs each of those targets a few hundred times from these seeds with
-max_len=3145728.
"""
import json
import struct
import os
import sys

LIMIT = 3 * 1024 * 1024


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, payload):  # a length-delimited protobuf field
    if isinstance(payload, str):
        payload = payload.encode()
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def protobuf_configmap(value_len):
    type_meta = field(1, "v1") + field(2, "ConfigMap")
    entry = field(1, "a") + field(2, "x" * value_len)
    configmap = field(1, field(1, "big")) + field(2, entry)
    return b"k8s\0" + field(1, type_meta) + field(2, configmap)


def b64url(data):
    import base64
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def jwt_of(claims_text):
    return b64url(b'{"alg":"ES256","kid":"k"}') + b"." + b64url(claims_text.encode()) + b"." + b64url(b"s" * 64)


def jwt_of_size(n):
    # A token whose claims hold one long string, padded to exactly n bytes.
    base = len(jwt_of('{"sub":""}'))
    fill = max(0, (n - base) * 3 // 4)
    tok = jwt_of('{"sub":"' + "x" * fill + '"}')
    while len(tok) < n:
        fill += 1
        tok = jwt_of('{"sub":"' + "x" * fill + '"}')
    return tok[:n]


def seeds():
    fill = LIMIT - 4096
    yield "api_yaml_json_fuzz", "digits", ("apiVersion: v1\nkind: ConfigMap\nimmutable: " + "1" * fill + "\n").encode()
    yield "api_yaml_json_fuzz", "float", ("immutable: 1." + "5" * fill + "\n").encode()
    yield "api_yaml_json_fuzz", "string", ("data:\n  a: " + "ab" * (fill // 2) + "\n").encode()
    doc = json.dumps({"metadata": {"name": "bomb"}, "data": {"seed": "x" * 1000}})
    bomb = json.dumps([{"op": "copy", "from": "", "path": "/c%d" % i} for i in range(30)])
    yield "api_json_patch_fuzz", "bomb", (doc + "\0" + bomb).encode()
    big_doc = json.dumps({"data": {"a": "y" * (LIMIT // 2)}})
    copies = json.dumps([{"op": "copy", "from": "/data/a", "path": "/data/b%d" % i} for i in range(4)])
    yield "api_json_patch_fuzz", "big-copies", (big_doc + "\0" + copies).encode()
    many = json.dumps([{"op": "add", "path": "/a/-", "value": i} for i in range(10000)])
    yield "api_json_patch_fuzz", "many-ops", ('{"a":[]}\0' + many).encode()
    yield "api_merge_patch_fuzz", "big-string", ('{"a":{"b":1}}\0' + json.dumps({"a": {"c": "z" * fill}})).encode()
    containers = [{"name": "c%d" % i, "image": "i"} for i in range(40000)]
    smp = json.dumps({"spec": {"template": {"spec": {"containers": containers}}}})
    yield "api_strategic_merge_fuzz", "many-containers", smp.encode()
    yield "api_strategic_merge_fuzz", "big-string", json.dumps({"metadata": {"labels": {"a": "q" * fill}}}).encode()
    yield "api_protobuf_decode_fuzz", "big-configmap", protobuf_configmap(fill)
    # Bearer tokens: at the parser's own limit (16 KiB), one byte over, and a header-sized one.
    for name, n in (("at-limit", 16 * 1024), ("over-limit", 16 * 1024 + 1), ("huge", LIMIT // 4)):
        yield "serviceaccount_jwt_fuzz", name, jwt_of_size(n)
    yield "serviceaccount_jwt_fuzz", "deep", jwt_of(("[" * 5000) + ("]" * 5000))
    # Well-formed bound and legacy claims, so mutations start from tokens that get past the parser.
    bound = {"aud": ["https://kubernetes.default.svc.cluster.local"], "exp": 1700003600, "iat": 1700000000,
             "iss": "https://kubernetes.default.svc.cluster.local", "jti": "j", "nbf": 1700000000,
             "kubernetes.io": {"namespace": "d", "serviceaccount": {"name": "a", "uid": "u"}, "pod": {"name": "p", "uid": "q"}},
             "sub": "system:serviceaccount:d:a"}
    yield "serviceaccount_jwt_fuzz", "bound", jwt_of(json.dumps(bound))
    legacy = {"iss": "kubernetes/serviceaccount", "kubernetes.io/serviceaccount/namespace": "d",
              "kubernetes.io/serviceaccount/secret.name": "s", "kubernetes.io/serviceaccount/service-account.name": "a",
              "kubernetes.io/serviceaccount/service-account.uid": "u", "sub": "system:serviceaccount:d:a"}
    yield "serviceaccount_jwt_fuzz", "legacy", jwt_of(json.dumps(legacy))
    # An extension server's discovery document at the limit: one resource with a huge kind, and
    # the most resources the aggregator accepts, each with many verbs.
    yield "aggregator_discovery_fuzz", "huge-kind", json.dumps(
        {"resources": [{"name": "flunders", "kind": "F" * fill, "verbs": ["get"]}]}).encode()
    many_resources = [{"name": "r%d" % i, "kind": "K%d" % i, "namespaced": True, "verbs": ["get", "list"] * 40,
                       "shortNames": ["s%d" % i]} for i in range(1000)]
    many_resources += [{"name": "r%d/status" % i, "kind": "K%d" % i, "verbs": ["get"]} for i in range(1000)]
    yield "aggregator_discovery_fuzz", "many", json.dumps({"resources": many_resources}).encode()
    # SPDY from a kubelet: a data frame of nearly the body limit after a small one, read in
    # pieces of 256 bytes (the first byte), and a frame header announcing 16 MiB with little behind.
    small = struct.pack(">II", 3, 5) + b"hello"
    big_len = fill
    yield "spdy_frame_fuzz", "big-data", b"\xff" + small + struct.pack(">II", 5, (1 << 24) | big_len) + b"d" * big_len
    yield "spdy_frame_fuzz", "announced-16m", b"\x00" + struct.pack(">II", 0x80030001, 0xffffff) + b"s" * 1024
    # A NetworkPolicy at the limit, as every node's policy controller reads it: tens of thousands
    # of ports and peers (the rules' expansion must stay bounded), and one huge selector value.
    ports = [{"port": i % 65535 + 1, "endPort": 65535} for i in range(40000)]
    peers = [{"ipBlock": {"cidr": "10.%d.%d.0/24" % (i // 256 % 256, i % 256), "except": ["10.0.0.0/32"]}}
             for i in range(10000)]
    peers += [{"podSelector": {}}, {"namespaceSelector": {}}]
    yield "netpol_rules_fuzz", "many-ports-peers", json.dumps(
        {"podSelector": {}, "ingress": [{"from": peers, "ports": ports}], "egress": [{"ports": ports[:10000]}]}).encode()
    yield "netpol_rules_fuzz", "huge-label", json.dumps(
        {"podSelector": {"matchLabels": {"app": "x" * fill}}, "policyTypes": ["Ingress", "Egress"]}).encode()
    # An Ingress at the limit: tens of thousands of paths on hosts (the table and its sort), and
    # one huge host and path, each followed by requests to match.
    many = [{"host": "h%d.test" % (i % 500), "http": {"paths": [
        {"path": "/p/%d" % j, "pathType": "Prefix" if j % 2 else "Exact",
         "backend": {"service": {"name": "web", "port": {"number": 80}}}} for j in range(40)]}} for i in range(600)]
    yield "ingress_routes_fuzz", "many-paths", (json.dumps({"rules": many}) + "\0h7.test /p/3/x\nh7.test /p/2\n").encode()
    huge = "/" + "a/" * (fill // 6)
    yield "ingress_routes_fuzz", "huge-host-path", (json.dumps({"rules": [{"host": "h" * (fill // 4), "http": {"paths": [
        {"path": huge, "pathType": "Prefix", "backend": {"service": {"name": "web", "port": {"name": "http"}}}}]}}]}) +
        "\0" + "h" * 100 + " " + huge + "x\n").encode()
    # What containerd sends kite-cni, at the limit: a previous result with tens of thousands of
    # addresses (portmap passes it on), and a bridge configuration with a huge name.
    ips = [{"address": "10.%d.%d.%d/24" % (i // 65536 % 256, i // 256 % 256, i % 256), "gateway": "10.42.0.1"} for i in range(40000)]
    yield "cni_config_fuzz", "big-prev-result", json.dumps({"cniVersion": "1.0.0", "name": "n", "type": "portmap",
                                                             "prevResult": {"cniVersion": "1.0.0", "ips": ips}}).encode()
    yield "cni_config_fuzz", "huge-name", json.dumps({"cniVersion": "1.0.0", "name": "n" * fill, "type": "bridge",
        "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.42.0.0/24"}]]}}).encode() + b"\0IP=;K8S_POD_NAME=" + b"p" * 1000


def main():
    out = sys.argv[1]
    for target, name, data in seeds():
        assert len(data) <= LIMIT, (target, name, len(data))
        os.makedirs(os.path.join(out, target), exist_ok=True)
        with open(os.path.join(out, target, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
