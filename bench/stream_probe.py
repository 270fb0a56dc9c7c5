#!/usr/bin/env python3
"""Probes for bench/run_exec.sh that need no kubectl (Python 3 standard library only).

exec URL PROTOCOL CA CERT KEY
    One WebSocket remote-command session (URL: an exec URL of the API server or of a kubelet,
    PROTOCOL: v5.channel.k8s.io / v4.channel.k8s.io), read until the server closes it. Prints
    "connect tls upgrade session total" in ms: TCP connect, TLS handshake, request to the
    101 answer, 101 to the close (the command's run and its status), and all of it. Fails (exit 1)
    unless the status on channel 3 says Success.

fake PORT LINES BIG_MB CERT KEY
    A fake API server on 127.0.0.1:PORT over TLS, until killed, serving just what `kubectl logs
    logger` and `kubectl port-forward pod/p L:80` ask for: discovery, any pod (Running), the log
    of LINES 100-byte lines already in memory (64 KiB chunks), and port-forward over the WebSocket
    tunnel (`SPDY/3.1+portforward.k8s.io`) or SPDY/3.1, answering an HTTP GET of /big on the
    forwarded port with BIG_MB MiB of zeros (prebuilt frames) and any other GET with
    "hello-bench". kubectl's own floor: what a log or a forward costs it when the server costs
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


class _SpdyPeer:
    """The server's end of a SPDY/3.1 session (kubectl's port-forward), optionally inside the
    WebSocket tunnel. Only what a forward needs: SYN_STREAM gets a SYN_REPLY with no headers (one
    zlib stream per session, which Go reads without the SPDY dictionary since the header names
    none), the first DATA on a stream is the HTTP request to answer; everything else is read and
    dropped. No flow control: kubectl's spdystream does not do it either."""

    def __init__(self, sock, rfile, tunnel, big):
        import zlib
        self.sock, self.rfile, self.tunnel, self.big = sock, rfile, tunnel, big
        self.zlib = zlib.compressobj()
        self.pending = b""
        self.requests = {}

    def _ws_frame(self, data):
        n = len(data)
        if n < 126:
            return bytes([0x82, n]) + data
        if n < 65536:
            return bytes([0x82, 126]) + struct.pack(">H", n) + data
        return bytes([0x82, 127]) + struct.pack(">Q", n) + data

    def _wrap(self, frame):
        return self._ws_frame(frame) if self.tunnel else frame

    def _fill(self, n):  # the SPDY byte stream, unwrapped from WebSocket messages in a tunnel
        while len(self.pending) < n:
            if not self.tunnel:
                data = self.rfile.read1(65536)
                if not data:
                    raise EOFError
                self.pending += data
                continue
            head = self.rfile.read(2)
            if len(head) < 2:
                raise EOFError
            op, n2 = head[0] & 15, head[1] & 127
            if n2 == 126:
                n2 = struct.unpack(">H", self.rfile.read(2))[0]
            elif n2 == 127:
                n2 = struct.unpack(">Q", self.rfile.read(8))[0]
            mask = self.rfile.read(4) if head[1] & 128 else b"\0\0\0\0"
            payload = bytearray(self.rfile.read(n2))
            for i in range(len(payload)):
                payload[i] ^= mask[i & 3]
            if op == 8:
                raise EOFError
            if op in (0, 2):
                self.pending += bytes(payload)

    def _take(self, n):
        self._fill(n)
        data, self.pending = self.pending[:n], self.pending[n:]
        return data

    def _answer(self, stream, request):
        path = request.split(b" ", 2)[1] if request.count(b" ") >= 2 else b"/"
        body_len = self.big if path == b"/big" else len(b"hello-bench\n")
        head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % body_len
        sid = struct.pack(">I", stream)
        data = lambda payload: self._wrap(sid + struct.pack(">I", len(payload)) + payload)
        if path != b"/big":
            self.sock.sendall(data(head + b"hello-bench\n"))
            return
        self.sock.sendall(data(head))
        chunk = 256 * 1024
        full = data(b"\0" * chunk)
        for _ in range(body_len // chunk):
            self.sock.sendall(full)
        if body_len % chunk:
            self.sock.sendall(data(b"\0" * (body_len % chunk)))

    def run(self):
        try:
            while True:
                head = self._take(8)
                length = int.from_bytes(head[5:8], "big")
                body = self._take(length)
                if head[0] & 0x80:
                    if struct.unpack(">H", head[2:4])[0] == 1:  # SYN_STREAM: reply with no headers
                        stream = struct.unpack(">I", body[:4])[0] & 0x7FFFFFFF
                        block = self.zlib.compress(b"\0\0\0\0") + self.zlib.flush(__import__("zlib").Z_SYNC_FLUSH)
                        reply = struct.pack(">HHI", 0x8003, 2, len(block) + 4) + struct.pack(">I", stream) + block
                        self.sock.sendall(self._wrap(reply))
                    continue
                stream = struct.unpack(">I", head[:4])[0] & 0x7FFFFFFF
                got = self.requests.get(stream, b"") + body
                if b"\r\n\r\n" in got:
                    request, got = got.split(b"\r\n\r\n", 1)
                    self._answer(stream, request)
                self.requests[stream] = got
        except (EOFError, OSError):
            pass


def fake_api_server(port, lines, big_mb, cert, key):
    import hashlib
    import http.server
    import json
    import socketserver

    body = (b"0" * 99 + b"\n") * lines
    answers = {
        "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": []},
        "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": []},
        "/api/v1": {"kind": "APIResourceList", "groupVersion": "v1", "resources": [
            {"name": "pods", "singularName": "pod", "namespaced": True, "kind": "Pod", "verbs": ["get", "list"]},
            {"name": "pods/log", "singularName": "", "namespaced": True, "kind": "Pod", "verbs": ["get"]},
            {"name": "pods/portforward", "singularName": "", "namespaced": True, "kind": "PodPortForwardOptions",
             "verbs": ["create", "get"]}]},
    }
    pod_prefix = "/api/v1/namespaces/default/pods/"

    def pod(name):
        return {"kind": "Pod", "apiVersion": "v1", "metadata": {"name": name, "namespace": "default", "uid": "u"},
                "spec": {"containers": [{"name": name, "image": "x"}]}, "status": {"phase": "Running"}}

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def _forward(self, tunnel):
            if tunnel:
                accept = base64.b64encode(hashlib.sha1(
                    self.headers["Sec-WebSocket-Key"].encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
                self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
                                 b"Sec-WebSocket-Accept: " + accept + b"\r\n"
                                 b"Sec-WebSocket-Protocol: SPDY/3.1+portforward.k8s.io\r\n\r\n")
            else:
                self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
                                 b"X-Stream-Protocol-Version: portforward.k8s.io\r\n\r\n")
            self.wfile.flush()
            _SpdyPeer(self.connection, self.rfile, tunnel, big_mb * 1024 * 1024).run()
            self.close_connection = True

        def do_POST(self):
            if self.path.split("?")[0].endswith("/portforward"):
                return self._forward(False)
            self.send_error(404)

        def do_GET(self):
            path = self.path.split("?")[0]
            if path.endswith("/portforward"):
                if "SPDY/3.1+portforward.k8s.io" not in self.headers.get("Sec-WebSocket-Protocol", ""):
                    return self.send_error(400)
                return self._forward(True)
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
            answer = answers.get(path)
            if answer is None and path.startswith(pod_prefix) and "/" not in path[len(pod_prefix):]:
                answer = pod(path[len(pod_prefix):])
            data = json.dumps(answer).encode() if answer else b""
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
    elif len(sys.argv) == 7 and sys.argv[1] == "fake":
        fake_api_server(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), *sys.argv[5:7])
    elif len(sys.argv) >= 4 and sys.argv[1] == "count":
        count(int(sys.argv[2]), sys.argv[3:])
    else:
        sys.exit(__doc__)
