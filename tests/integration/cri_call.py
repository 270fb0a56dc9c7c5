#!/usr/bin/env python3
"""A CRI v1 ImageService call over containerd's socket, with curl as the HTTP/2 (gRPC) client:
what crictl would do, for tests on machines without crictl. The messages are encoded by hand
from runtime.v1's field numbers (PullImageRequest: image=1 ImageSpec{image=1}, auth=2
AuthConfig{username=1, password=2}; ImageStatusRequest: image=1).

  cri_call.py SOCKET pull IMAGE [USERNAME PASSWORD]   -> "OK <image ref>" or "ERROR <code> <message>"
  cri_call.py SOCKET status IMAGE                     -> "PRESENT <id> <repo tags...>" or "ABSENT"
Exit 0 when the call itself got an answer (OK, ERROR, PRESENT, ABSENT), 2 when curl failed.
"""
import os
import struct
import subprocess
import sys
import tempfile
import urllib.parse


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, payload):
    return bytes([num << 3 | 2]) + varint(len(payload)) + payload


def fields(msg):
    """Yields (number, bytes) for the length-delimited fields of a message (others skipped)."""
    i = 0
    while i < len(msg):
        key = 0
        shift = 0
        while True:
            b = msg[i]
            i += 1
            key |= (b & 0x7F) << shift
            shift += 7
            if not b & 0x80:
                break
        num, wire = key >> 3, key & 7
        if wire == 2:
            n = 0
            shift = 0
            while True:
                b = msg[i]
                i += 1
                n |= (b & 0x7F) << shift
                shift += 7
                if not b & 0x80:
                    break
            yield num, msg[i:i + n]
            i += n
        elif wire == 0:
            while msg[i] & 0x80:
                i += 1
            i += 1
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError("unexpected wire type %d" % wire)


def call(sock, method, request):
    with tempfile.TemporaryDirectory() as d:
        req = os.path.join(d, "req")
        hdr = os.path.join(d, "hdr")
        resp = os.path.join(d, "resp")
        with open(req, "wb") as f:
            f.write(b"\x00" + struct.pack(">I", len(request)) + request)
        rc = subprocess.call(["curl", "-sS", "--http2-prior-knowledge", "--unix-socket", sock, "--max-time", "120",
                              "-H", "content-type: application/grpc", "-H", "te: trailers",
                              "--data-binary", "@" + req, "-D", hdr, "-o", resp,
                              "http://localhost/runtime.v1.ImageService/" + method])
        if rc != 0:
            print("curl failed with %d" % rc, file=sys.stderr)
            sys.exit(2)
        status, message = None, ""
        with open(hdr, encoding="utf-8", errors="replace") as f:
            for line in f:
                name, _, value = line.partition(":")
                if name.strip().lower() == "grpc-status":
                    status = int(value.strip())
                elif name.strip().lower() == "grpc-message":
                    message = urllib.parse.unquote(value.strip())
        with open(resp, "rb") as f:
            body = f.read()
        return status, message, body[5:]


def main():
    if len(sys.argv) < 4:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    sock, op, image = sys.argv[1], sys.argv[2], sys.argv[3]
    spec = field(1, image.encode())
    if op == "pull":
        request = field(1, spec)
        if len(sys.argv) == 6:
            request += field(2, field(1, sys.argv[4].encode()) + field(2, sys.argv[5].encode()))
        status, message, body = call(sock, "PullImage", request)
        if status != 0:
            print("ERROR %s %s" % (status, message))
            return
        ref = [v.decode() for n, v in fields(body) if n == 1]
        print("OK " + (ref[0] if ref else ""))
    elif op == "status":
        status, message, body = call(sock, "ImageStatus", field(1, spec))
        if status != 0:
            print("ERROR %s %s" % (status, message))
            return
        images = [v for n, v in fields(body) if n == 1]
        if not images:
            print("ABSENT")
            return
        parts = list(fields(images[0]))
        ident = [v.decode() for n, v in parts if n == 1]
        tags = [v.decode() for n, v in parts if n == 2]
        print("PRESENT %s %s" % (ident[0] if ident else "", " ".join(tags)))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
