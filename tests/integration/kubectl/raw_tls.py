#!/usr/bin/env python3
"""Raw TLS clients for the robustness tests: what curl and kubectl cannot send.

  raw_tls.py PORT CA CERT KEY request-line-size N   -> "<code> <reason>" for a GET whose URL is N bytes
  raw_tls.py PORT CA CERT KEY header-size N         -> "<code> <reason>" for a GET with an N-byte header
  raw_tls.py PORT CA CERT KEY slowloris SECONDS     -> seconds until the server closed a connection that
                                                        sends its headers a byte a second (or "open")
  raw_tls.py PORT CA - - idle-connections N SECONDS -> opens N anonymous TLS connections that send nothing,
                                                        holds them SECONDS, prints "<opened> <refused>"
  raw_tls.py PORT CA - - burst N PATH TOKEN         -> N concurrent GETs of PATH with a bearer token;
                                                        prints "<code>=<count> ..." and the Retry-After seen
  raw_tls.py PORT CA CERT KEY fault KIND            -> "<code> <reason>" for a request asking the server
                                                        (started with KITE_FAULT_INJECTION=1) to throw KIND
  raw_tls.py PORT CA - - load N PATH TOKEN SECONDS  -> N clients in one asyncio process, each GETting PATH
                                                        again and again on its own connection for SECONDS,
                                                        waiting Retry-After after a 429 (as client-go does);
                                                        prints "<code>=<count> ..." (cheap on the CPU, so
                                                        a latency probe beside it measures the server)
  raw_tls.py PORT CA CERT KEY probe PATH INTERVAL SECONDS keepalive|new
                                                    -> GETs PATH every INTERVAL seconds for SECONDS, over one
                                                        kept-alive connection or a new one each time (the
                                                        handshake counted); prints each latency in ms, one a
                                                        line (a failed request: 99000)
Every connection goes to 127.0.0.1 only, and every wait is bounded.
"""
import asyncio
import json
import socket
import ssl
import sys
import threading
import time


def context(ca, cert, key):
    ctx = ssl.create_default_context(cafile=ca)
    ctx.check_hostname = False
    if cert != "-":
        ctx.load_cert_chain(cert, key)
    return ctx


def connect(port, ctx, timeout=20):
    raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    return ctx.wrap_socket(raw, server_hostname="127.0.0.1")


def read_response(s):
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length, chunked = 0, False
        for line in head.split(b"\r\n")[1:]:
            k, _, v = line.partition(b":")
            if k.strip().lower() == b"content-length":
                length = int(v.strip())
            if k.strip().lower() == b"transfer-encoding" and b"chunked" in v.lower():
                chunked = True
        while len(body) < length:
            chunk = s.recv(65536)
            if not chunk:
                break
            body += chunk
        if chunked:  # read to the last chunk and join the chunks' data (JSON has no raw CR/LF)
            while not (body.endswith(b"\r\n0\r\n\r\n") or body == b"0\r\n\r\n"):
                chunk = s.recv(65536)
                if not chunk:
                    break
                body += chunk
            joined, rest = b"", body
            while rest:
                size_line, _, rest = rest.partition(b"\r\n")
                size = int(size_line.split(b";")[0] or b"0", 16)
                if size == 0:
                    break
                joined, rest = joined + rest[:size], rest[size + 2:]
            body = joined
            data = head + b"\r\n\r\n" + body
    except (ConnectionError, socket.timeout, ssl.SSLError):
        pass
    if not data:
        return "closed", "", {}
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    code = lines[0].split()[1].decode()
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode()
    try:
        reason = json.loads(body).get("reason", "")
    except ValueError:
        reason = "not-a-Status"
    return code, reason, headers


def one(port, ctx, request):
    s = connect(port, ctx)
    try:
        s.sendall(request)
        code, reason, _ = read_response(s)
    except (ConnectionError, ssl.SSLError):
        code, reason = "closed", ""
    s.close()
    return f"{code} {reason}".strip()


async def load(port, ctx, n, path, token, seconds):
    """The `load` mode: n keep-alive clients for `seconds`."""
    counts = {}
    stop = time.monotonic() + seconds
    auth = "" if token == "-" else f"Authorization: Bearer {token}\r\n"
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\n{auth}\r\n".encode()

    def count(key):
        counts[key] = counts.get(key, 0) + 1

    handshakes = asyncio.Semaphore(20)

    async def client():
        reader = writer = None
        while time.monotonic() < stop:
            try:
                if writer is None:
                    async with handshakes:  # a few at a time: the server allows 10 s for one
                        reader, writer = await asyncio.wait_for(
                            asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="127.0.0.1"), 30)
                writer.write(request)
                head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 60)
                lines = head.split(b"\r\n")
                code = lines[0].split()[1].decode()
                headers = {}
                for line in lines[1:]:
                    k, _, v = line.partition(b":")
                    headers[k.strip().lower()] = v.strip()
                if b"content-length" in headers:
                    await asyncio.wait_for(reader.readexactly(int(headers[b"content-length"])), 60)
                else:  # chunked
                    while True:
                        size = int((await asyncio.wait_for(reader.readuntil(b"\r\n"), 60)).split(b";")[0], 16)
                        await asyncio.wait_for(reader.readexactly(size + 2), 60)
                        if size == 0:
                            break
                count(code)
                if code == "429":
                    await asyncio.sleep(float(headers.get(b"retry-after", b"1")))
                if headers.get(b"connection", b"").lower() == b"close":
                    writer.close()
                    writer = None
            except (OSError, ssl.SSLError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, IndexError) as e:
                count("error:" + type(e).__name__)
                if writer is not None:
                    writer.close()
                writer = None
                await asyncio.sleep(0.1)
        if writer is not None:
            writer.close()

    await asyncio.gather(*(client() for _ in range(n)))
    return counts


def probe(port, ctx, path, interval, seconds, keepalive):
    """The `probe` mode: a small client's view of the server's latency."""
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
    stop = time.monotonic() + seconds
    s = None
    while time.monotonic() < stop:
        start = time.monotonic()
        try:
            if s is None:
                s = connect(port, ctx)
            s.sendall(request)
            code, _, headers = read_response(s)
            ok = code == "200"
        except (ConnectionError, ssl.SSLError, OSError):
            ok, headers = False, {}
        elapsed = (time.monotonic() - start) * 1000
        print(f"{elapsed:.1f}" if ok else "99000", flush=True)
        if not ok or not keepalive or headers.get("connection", "").lower() == "close":
            if s is not None:
                s.close()
            s = None
        time.sleep(max(0.0, interval - (time.monotonic() - start)))
    if s is not None:
        s.close()


def main():
    port, ca, cert, key, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
    args = sys.argv[6:]
    ctx = context(ca, cert, key)
    if mode == "request-line-size":
        path = "/api/v1/namespaces?x=" + "a" * int(args[0])
        print(one(port, ctx, f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode()))
    elif mode == "header-size":
        print(one(port, ctx, f"GET /version HTTP/1.1\r\nHost: x\r\nX-Big: {'b' * int(args[0])}\r\n\r\n".encode()))
    elif mode == "fault":
        print(one(port, ctx, f"GET /api/v1/namespaces HTTP/1.1\r\nHost: x\r\nX-Kite-Fault: {args[0]}\r\n\r\n".encode()))
    elif mode == "slowloris":
        limit = float(args[0])
        s = connect(port, ctx)
        start = time.monotonic()
        message = b"GET /version HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"z" * 10000
        s.settimeout(1.0)
        closed = None
        for i in range(len(message)):
            if time.monotonic() - start > limit:
                break
            try:
                s.sendall(message[i:i + 1])
                if s.recv(1) == b"":
                    closed = time.monotonic() - start
                    break
            except socket.timeout:
                continue
            except (ConnectionError, ssl.SSLError, OSError):
                closed = time.monotonic() - start
                break
        print("open" if closed is None else f"{closed:.0f}")
    elif mode == "idle-connections":
        n, hold = int(args[0]), float(args[1])
        socks, refused = [], 0
        for _ in range(n):
            try:
                socks.append(connect(port, ctx, timeout=5))
            except (ConnectionError, ssl.SSLError, OSError, socket.timeout):
                refused += 1
        time.sleep(hold)
        print(f"{len(socks)} {refused}")
        for s in socks:
            s.close()
    elif mode == "burst":
        n, path, token = int(args[0]), args[1], args[2]
        counts, retry = {}, set()
        lock = threading.Lock()
        barrier = threading.Barrier(n)

        def run():
            try:
                s = connect(port, ctx, timeout=60)
            except (ConnectionError, ssl.SSLError, OSError):
                with lock:
                    counts["connect-failed"] = counts.get("connect-failed", 0) + 1
                return
            try:
                barrier.wait(timeout=60)
            except threading.BrokenBarrierError:
                pass
            auth = "" if token == "-" else f"Authorization: Bearer {token}\r\n"
            s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n{auth}\r\n".encode())
            code, reason, headers = read_response(s)
            s.close()
            with lock:
                counts[code] = counts.get(code, 0) + 1
                if code == "429":
                    retry.add(f"{reason}/{headers.get('retry-after', '')}")

        threads = [threading.Thread(target=run) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())), " ".join(sorted(retry)))
    elif mode == "probe":
        probe(port, ctx, args[0], float(args[1]), float(args[2]), args[3] == "keepalive")
    elif mode == "load":
        counts = asyncio.run(load(port, ctx, int(args[0]), args[1], args[2], float(args[3])))
        print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
    else:
        sys.exit("unknown mode " + mode)


if __name__ == "__main__":
    main()
