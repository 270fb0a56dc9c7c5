#!/usr/bin/env python3
"""An admission webhook for tests/integration/kubectl/webhooks.sh: HTTPS on 127.0.0.1:PORT.

Paths:
  /validate  denies an object whose data has the key "forbidden" (code 403, a message), any
             DELETE of an object (the test's objectSelector picks which reach it) and a CONNECT
             whose command has the word "forbidden"; warns about data with the key "warn";
  /mutate    adds the label mutated=yes with a JSONPatch;
  /slow      answers after 3 s (past a 1 s timeoutSeconds);
  /bad-uid   answers with another uid.
Every request is appended to LOG as one line: path operation kind namespace/name user dryRun
timeout.

Usage: webhook_server.py PORT CERT KEY LOG
"""
import base64
import json
import ssl
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT, CERT, KEY, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]


class Hook(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        review = json.loads(body)
        req = review["request"]
        path = self.path.split("?")[0]
        obj = req.get("object") or {}
        with open(LOG, "a") as f:
            f.write("%s %s %s %s/%s %s %s %s\n" % (
                path, req["operation"], req["kind"]["kind"], req.get("namespace", ""), req.get("name", ""),
                req["userInfo"]["username"], str(req.get("dryRun", False)).lower(),
                "timeout=" + self.path.split("timeout=")[-1] if "timeout=" in self.path else "-"))
        resp = {"uid": req["uid"], "allowed": True}
        if path == "/validate":
            if req["operation"] == "CONNECT":
                if "forbidden" in obj.get("command", []):
                    resp = {"uid": req["uid"], "allowed": False,
                            "status": {"code": 403, "reason": "Forbidden", "message": "no forbidden commands"}}
            elif req["operation"] == "DELETE":
                resp = {"uid": req["uid"], "allowed": False,
                        "status": {"code": 403, "reason": "Forbidden", "message": "this object is protected"}}
            elif "forbidden" in (obj.get("data") or {}):
                resp = {"uid": req["uid"], "allowed": False,
                        "status": {"code": 403, "reason": "Forbidden", "message": "configmap has forbidden key"}}
            elif "warn" in (obj.get("data") or {}):
                resp["warnings"] = ["this configmap has a warn key"]
        elif path == "/mutate":
            labels = (obj.get("metadata") or {}).get("labels")
            patch = ([{"op": "add", "path": "/metadata/labels/mutated", "value": "yes"}] if labels
                     else [{"op": "add", "path": "/metadata/labels", "value": {"mutated": "yes"}}])
            resp["patchType"] = "JSONPatch"
            resp["patch"] = base64.b64encode(json.dumps(patch).encode()).decode()
        elif path == "/slow":
            time.sleep(3)
        elif path == "/bad-uid":
            resp["uid"] = "not-" + req["uid"]
        out = json.dumps({"apiVersion": review["apiVersion"], "kind": "AdmissionReview", "response": resp}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


server = ThreadingHTTPServer(("127.0.0.1", PORT), Hook)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(CERT, KEY)
server.socket = ctx.wrap_socket(server.socket, server_side=True)
server.serve_forever()
