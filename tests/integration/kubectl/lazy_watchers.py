#!/usr/bin/env python3
"""Watch clients that never read: opens --count TLS connections to the Kubernetes API on the
loopback (client certificate auth), sends one watch request on each and reads nothing.

Prints "connected N" once every request is sent, then takes commands on stdin, one per line:
  ended K SECONDS   reads the first K connections to their end (EOF or a reset), all within
                    SECONDS, and prints "ended X of K": X connections had been ended by the server
  quit              closes everything and exits (as does the end of stdin)
Used by tests/integration/kubectl/robust_watch.sh and bench/run_watch_memory.sh.
"""
import argparse
import socket
import ssl
import sys
import time


def connect(args, ctx):
    raw = socket.create_connection(("127.0.0.1", args.port), timeout=30)
    conn = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
    request = (f"GET {args.path} HTTP/1.1\r\nHost: 127.0.0.1:{args.port}\r\n"
               "Accept: application/json\r\nUser-Agent: lazy-watcher\r\n\r\n")
    conn.sendall(request.encode())
    return conn


def read_to_end(conn, deadline):
    """True when the server ended the connection before the deadline."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        conn.settimeout(left)
        try:
            if not conn.recv(1 << 16):
                return True
        except socket.timeout:
            return False
        except (ssl.SSLError, OSError):
            return True  # reset or a truncated TLS record: the server dropped it


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--path", default="/api/v1/configmaps?watch=1")
    p.add_argument("--count", type=int, default=100)
    args = p.parse_args()

    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=args.ca)
    ctx.check_hostname = False  # the CA is checked; the serving certificate's names are not the point
    ctx.load_cert_chain(args.cert, args.key)
    conns = [connect(args, ctx) for _ in range(args.count)]
    print(f"connected {len(conns)}", flush=True)

    for line in sys.stdin:
        words = line.split()
        if not words or words[0] == "quit":
            break
        if words[0] == "ended":
            k, secs = int(words[1]), float(words[2])
            deadline = time.monotonic() + secs
            n = sum(1 for c in conns[:k] if read_to_end(c, deadline))
            print(f"ended {n} of {k}", flush=True)
    for c in conns:
        c.close()


if __name__ == "__main__":
    main()
