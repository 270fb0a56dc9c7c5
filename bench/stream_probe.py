#!/usr/bin/env python3
"""Probes for bench/run_exec.sh that need no kubectl (Python 3 standard library only).

exec URL PROTOCOL CA CERT KEY
    One WebSocket remote-command session (URL: an exec URL of the API server or of a kubelet,
    PROTOCOL: v5.channel.k8s.io / v4.channel.k8s.io), read until the server closes it. Prints
    "connect tls upgrade session total" in ms: TCP connect, TLS handshake, request to the
    101 answer, 101 to the close (the command's run and its status), and all of it. Fails (exit 1)
    unless the status on channel 3 says Success.

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


if __name__ == "__main__":
    if len(sys.argv) == 7 and sys.argv[1] == "exec":
        exec_session(*sys.argv[2:7])
    elif len(sys.argv) >= 4 and sys.argv[1] == "count":
        count(int(sys.argv[2]), sys.argv[3:])
    else:
        sys.exit(__doc__)
