#!/usr/bin/env python3
"""Probes for bench/run_exec.sh that need no kubectl (Python 3 standard library only).

exec URL PROTOCOL CA CERT KEY
    One WebSocket remote-command session (URL: an exec URL of the API server or of a kubelet,
    PROTOCOL: v5.channel.k8s.io / v4.channel.k8s.io), read until the server closes it. Prints
    "connect tls upgrade session total" in ms: TCP connect, TLS handshake, request to the
    101 answer, 101 to the close (the command's run and its status), and all of it. Fails (exit 1)
    unless the status on channel 3 says Success.

fakelog PORT LINES CERT KEY
    Serves, on 127.0.0.1:PORT over TLS until killed, just what `kubectl logs logger` asks for
    (discovery, the pod, its log): the log is LINES 100-byte lines, already in memory, sent in
    64 KiB chunks. kubectl's own floor for reading a log: what it costs with a server that costs
    nothing.

count LINES CMD...
    Runs CMD and reads its output until LINES lines arrived, then ends CMD; prints "first_ms
    last_ms pid" (the first byte's and the last line's arrival since CMD started; CMD's pid
    is printed first on its own line, as soon as it runs): a follower's throughput without its
    start-up.
"""
import base64
import os
import socket
import ssl
import struct
import sys
import time
import urllib.parse


def _read(sock, n, buf):
    while len(buf) < n:
        data = sock.recv(65536)
        if not data:
            raise EOFError("connection closed")
        buf += data
    return buf


def exec_session(url, protocol, ca, cert, key):
    u = urllib.parse.urlsplit(url)
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False  # kite's serving certificates name IPs; the CA is what is checked
    ctx.load_cert_chain(cert, key)
    t0 = time.perf_counter()
    raw = socket.create_connection((u.hostname, u.port))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    t1 = time.perf_counter()
    s = ctx.wrap_socket(raw, server_hostname=u.hostname)
    t2 = time.perf_counter()
    key64 = base64.b64encode(os.urandom(16)).decode()
    target = u.path + ("?" + u.query if u.query else "")
    s.sendall((f"GET {target} HTTP/1.1\r\nHost: {u.netloc}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
               f"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key64}\r\n"
               f"Sec-WebSocket-Protocol: {protocol}\r\n\r\n").encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = s.recv(65536)
        if not data:
            raise EOFError("no answer")
        buf += data
    head, buf = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 101"):
        sys.exit("answer: " + head.decode(errors="replace") + "\n" + buf.decode(errors="replace"))
    t3 = time.perf_counter()
    status = b""
    while True:
        buf = _read(s, 2, buf)
        op, n, at = buf[0] & 15, buf[1] & 127, 2
        if n == 126:
            buf = _read(s, 4, buf)
            n, at = struct.unpack(">H", buf[2:4])[0], 4
        elif n == 127:
            buf = _read(s, 10, buf)
            n, at = struct.unpack(">Q", buf[2:10])[0], 10
        buf = _read(s, at + n, buf)
        payload, buf = buf[at:at + n], buf[at + n:]
        if op == 8:
            break
        if op == 2 and payload[:1] == b"\x03":
            status += payload[1:]
    t4 = time.perf_counter()
    s.sendall(bytes([0x88, 0x82, 0, 0, 0, 0, 0x03, 0xE8]))  # our close (masked, 1000)
    s.close()
    if b'"Success"' not in status:
        sys.exit("status: " + status.decode(errors="replace"))
    ms = lambda a, b: (b - a) * 1000
    print(f"{ms(t0, t1):.2f} {ms(t1, t2):.2f} {ms(t2, t3):.2f} {ms(t3, t4):.2f} {ms(t0, t4):.2f}")


def count(total, cmd):
    import subprocess
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE)
    print(proc.pid, flush=True)
    first = None
    got = 0
    try:
        while got < total:
            data = proc.stdout.read1(1 << 20)
            if not data:
                sys.exit(f"{cmd[0]} ended after {got} of {total} lines")
            if first is None:
                first = time.perf_counter()
            got += data.count(b"\n")
    finally:
        proc.kill()
        proc.wait()
    last = time.perf_counter()
    print(f"{(first - start) * 1000:.1f} {(last - start) * 1000:.1f}")


def fake_log_server(port, lines, cert, key):
    import http.server
    import json
    import socketserver

    body = (b"0" * 99 + b"\n") * lines
    pod = {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": "logger", "namespace": "default", "uid": "u"},
           "spec": {"containers": [{"name": "logger", "image": "x"}]}, "status": {"phase": "Running"}}
    answers = {
        "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
        "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
        "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
            {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "verbs": ["get", "list"]},
            {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]}]},
        "/api/v1/namespaces/default/pods/logger": pod,
    }

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            path = self.path.split("?")[0]
            if path == "/api/v1/namespaces/default/pods/logger/log":
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                view = memoryview(body)
                for i in range(0, len(body), 65536):
                    chunk = view[i:i + 65536]
                    self.wfile.write(b"%x\r\n" % len(chunk) + bytes(chunk) + b"\r\n")
                self.wfile.write(b"0\r\n\r\n")
                return
            data = json.dumps(answers[path]).encode() if path in answers else b""
            self.send_response(200 if data else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
        daemon_threads = True

    server = Server(("127.0.0.1", int(port)), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "exec":
        exec_session(*sys.argv[2:7])
    elif len(sys.argv) == 6 and sys.argv[1] == "fakelog":
        fake_log_server(sys.argv[2], int(sys.argv[3]), *sys.argv[4:6])
    elif len(sys.argv) >= 4 and sys.argv[1] == "count":
        count(int(sys.argv[2]), sys.argv[3:])
    else:
        sys.exit(__doc__)
