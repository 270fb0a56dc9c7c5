#!/usr/bin/env python3
"""An extension API server for tests/integration/kubectl/apiservices.sh (the group
wardle.example.com/v1alpha1, resource flunders, as upstream's sample server names it): HTTPS on
127.0.0.1:PORT that trusts a caller only by a client certificate of the request-header CA whose
name is in the allowed names, as an aggregated server reads them from the ConfigMap
kube-system/extension-apiserver-authentication; the user is then X-Remote-User / X-Remote-Group.

  GET  /apis/wardle.example.com/v1alpha1                       its APIResourceList
  GET  /apis/wardle.example.com/v1alpha1/namespaces/NS/flunders  a FlunderList of what was created
  GET  .../flunders/NAME                                       one, or a 404 Status
  POST .../flunders                                            stores the body, answers 201 with it

Every request is appended to LOG as one line: method path cn user groups authorization-header
("-" when absent).

Usage: extension_server.py PORT CERT KEY REQUEST_HEADER_CA ALLOWED_NAME LOG
"""
import json
import ssl
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, CERT, KEY, CLIENT_CA, ALLOWED, LOG = (int(sys.argv[1]),) + tuple(sys.argv[2:7])
GV = "/apis/wardle.example.com/v1alpha1"
FLUNDERS = {}


def cn_of(cert):
    for rdn in (cert or {}).get("subject", ()):
        for key, value in rdn:
            if key == "commonName":
                return value
    return ""


class Server(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, obj):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def status(self, code, reason, message):
        self.answer(code, {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                           "message": message, "reason": reason, "code": code})

    def who(self):
        cn = cn_of(self.connection.getpeercert())
        user = self.headers.get("X-Remote-User", "")
        groups = ",".join(self.headers.get_all("X-Remote-Group") or [])
        with open(LOG, "a") as f:
            f.write("%s %s %s %s %s %s\n" % (self.command, self.path, cn or "-", user or "-", groups or "-",
                                             self.headers.get("Authorization") or "-"))
            if self.headers.get("X-Forwarded-For"):
                f.write("XFF %s\n" % self.headers.get("X-Forwarded-For"))
        if cn != ALLOWED or not user:
            self.status(401, "Unauthorized", "Unauthorized")
            return None
        return user

    def do_GET(self):
        user = self.who()
        if user is None:
            return
        path = self.path.split("?")[0]
        if path == GV:
            self.answer(200, {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": "wardle.example.com/v1alpha1",
                              "resources": [
                                  {"name": "flunders", "singularName": "flunder", "namespaced": True, "kind": "Flunder",
                                   "verbs": ["create", "get", "list"], "shortNames": ["fl"]},
                                  {"name": "flunders/status", "singularName": "", "namespaced": True, "kind": "Flunder",
                                   "verbs": ["get"]}]})
            return
        parts = path[len(GV):].strip("/").split("/")
        if len(parts) >= 3 and parts[0] == "namespaces" and parts[2] == "flunders":
            ns = parts[1]
            if len(parts) == 3:
                items = [o for (n, _), o in sorted(FLUNDERS.items()) if n == ns]
                self.answer(200, {"kind": "FlunderList", "apiVersion": "wardle.example.com/v1alpha1",
                                  "metadata": {"resourceVersion": "1"}, "items": items})
                return
            obj = FLUNDERS.get((ns, parts[3]))
            if obj is not None:
                self.answer(200, obj)
                return
            self.status(404, "NotFound", 'flunders.wardle.example.com "%s" not found' % parts[3])
            return
        self.status(404, "NotFound", "the server could not find the requested resource")

    def do_POST(self):
        user = self.who()
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if user is None:
            return
        parts = self.path.split("?")[0][len(GV):].strip("/").split("/")
        if len(parts) != 3 or parts[0] != "namespaces" or parts[2] != "flunders":
            self.status(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
            return
        obj = json.loads(body)
        meta = obj.setdefault("metadata", {})
        meta["namespace"] = parts[1]
        meta.setdefault("annotations", {})["created-by"] = user
        meta["creationTimestamp"] = "2026-01-01T00:00:00Z"
        FLUNDERS[(parts[1], meta.get("name", ""))] = obj
        self.answer(201, obj)


ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
ctx.load_verify_locations(CLIENT_CA)
ctx.verify_mode = ssl.CERT_REQUIRED
httpd = ThreadingHTTPServer(("127.0.0.1", PORT), Server)
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
httpd.serve_forever()
