#!/usr/bin/env bash
# The audit log with the real kubectl: --audit-policy-file in upstream's Policy format decides
# the level per request (first matching rule: users, userGroups, verbs, resources, namespaces,
# nonResourceURLs, omitStages), --audit-log-path gets audit.k8s.io/v1 Events as JSON lines — who
# (user, impersonatedUser, sourceIPs, userAgent) did what (verb, objectRef, requestURI) with
# which outcome (responseStatus, the authorization decision) — and --audit-log-maxsize /
# --audit-log-maxbackup rotate it.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
LOG=$TEST_TMP/audit/audit.log
cat >"$TEST_TMP/tokens.csv" <<'CSV'
jane-token,jane,uid-jane,"devs"
CSV
cat >"$TEST_TMP/policy.yaml" <<'YAML'
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [Panic]
rules:
# kite's own components and health probes: not audited.
- level: None
  users: [system:kube-controller-manager, system:kube-scheduler, system:apiserver, system:metrics-server]
# (the controllers write as their own service accounts, as upstream's
# --use-service-account-credentials)
- level: None
  userGroups: [system:serviceaccounts:kube-system]
- level: None
  nonResourceURLs: [/readyz, /livez*, /healthz*]
# Secrets: who touched which, never their data.
- level: Metadata
  resources: [{group: "", resources: [secrets]}]
# Pods in "audited": everything, request and response.
- level: RequestResponse
  namespaces: [audited]
  resources: [{group: "", resources: [pods, pods/status]}]
# ConfigMaps: the request body, without the RequestReceived stage.
- level: Request
  resources: [{group: "", resources: [configmaps]}]
  omitStages: [RequestReceived]
# The devs group: metadata of everything.
- level: Metadata
  userGroups: [devs]
- level: Metadata
  verbs: [create, delete, update, patch]
YAML
KITE_ARGS=(--audit-log-path "$LOG" --audit-policy-file "$TEST_TMP/policy.yaml" --audit-log-maxsize 1
  --audit-log-maxbackup 2 --token-auth-file "$TEST_TMP/tokens.csv")
start_kite_api
admin_cert_files

# events FILTER — the events (current file and rotated ones) a Python expression over `e` keeps,
# printed one per line as "stage verb resource name code user".
events() {
  python3 - "$TEST_TMP/audit" "$1" <<'PY'
import glob, json, os, sys
d, filt = sys.argv[1], sys.argv[2]
files = sorted(glob.glob(os.path.join(d, "audit-*.log"))) + [os.path.join(d, "audit.log")]
for f in files:
    if not os.path.exists(f):
        continue
    for line in open(f):
        e = json.loads(line)
        try:
            keep = eval(filt)
        except KeyError:  # e.g. a failed authentication's event has no username
            keep = False
        if keep:
            r = e.get("objectRef", {})
            print(e["stage"], e["verb"], r.get("resource", "-"), r.get("name", "-"), e.get("responseStatus", {}).get("code", "-"), e["user"].get("username", "-"))
PY
}
# event_json FILTER — the first matching event's JSON.
event_json() {
  python3 - "$TEST_TMP/audit" "$1" <<'PY'
import glob, json, os, sys
d, filt = sys.argv[1], sys.argv[2]
for f in sorted(glob.glob(os.path.join(d, "audit-*.log"))) + [os.path.join(d, "audit.log")]:
    if os.path.exists(f):
        for line in open(f):
            e = json.loads(line)
            try:
                keep = eval(filt)
            except KeyError:
                keep = False
            if keep:
                print(json.dumps(e)); sys.exit(0)
sys.exit(1)
PY
}
count_events() { events "$1" | wc -l; }
impersonation() {
  local j
  j=$(event_json 'e.get("impersonatedUser") and e["stage"]=="ResponseComplete"')
  field "$j" 'e["user"]["username"]+" "+e["impersonatedUser"]["username"]+" "+str(e["responseStatus"]["code"])'
}
field() { python3 -c 'import json,sys; e=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"; }
kj() { timeout 60 "$KUBECTL_BIN" --kubeconfig /dev/null --server "$BASE" --certificate-authority "$TEST_TMP/ca.crt" --token jane-token --cache-dir "$TEST_TMP/kubectl-cache-jane" "$@" </dev/null; }

k create namespace audited >/dev/null
k -n audited run p1 --image=busybox --restart=Never >/dev/null
k create secret generic s1 --from-literal=password=hunter2-audit >/dev/null
k create configmap c1 --from-literal=k=v >/dev/null
kj get pods -n audited >/dev/null 2>&1 || true
k get pods -n audited --as=jane >/dev/null 2>&1 || true
k get --raw /readyz >/dev/null

POD_FILTER='e["verb"]=="create" and e.get("objectRef",{}).get("resource")=="pods" and e["stage"]=="ResponseComplete"'
eventually "who created the pod, and how it ended" "^ResponseComplete create pods p1 201 system:admin$" 10 -- events "$POD_FILTER"
POD=$(event_json "$POD_FILTER")
expect_exact "an audit.k8s.io/v1 Event at the rule's level" "Event audit.k8s.io/v1 RequestResponse" -- field "$POD" 'e["kind"]+" "+e["apiVersion"]+" "+e["level"]'
expect_exact "objectRef names namespace and version" "audited v1" -- field "$POD" 'e["objectRef"]["namespace"]+" "+e["objectRef"]["apiVersion"]'
expect_exact "the admin's groups" "True" -- field "$POD" '"system:masters" in e["user"]["groups"]'
expect_exact "sourceIPs has the client's address" "127.0.0.1" -- field "$POD" 'e["sourceIPs"][0]'
expect "userAgent is kubectl's" "^kubectl" -- field "$POD" 'e["userAgent"]'
expect_exact "requestURI" "/api/v1/namespaces/audited/pods" -- field "$POD" 'e["requestURI"].split("?")[0]'
expect_exact "the request body (kubectl's protobuf, decoded)" "p1 busybox" -- field "$POD" 'e["requestObject"]["metadata"]["name"]+" "+e["requestObject"]["spec"]["containers"][0]["image"]'
expect_exact "the response body has the stored object" "True" -- field "$POD" 'len(e["responseObject"]["metadata"]["uid"])==36'
expect_exact "timestamps with microseconds" "True" -- field "$POD" 'len(e["requestReceivedTimestamp"])==27 and e["stageTimestamp"]>=e["requestReceivedTimestamp"]'
expect_exact "authorization annotations" "allow" -- field "$POD" 'e["annotations"]["authorization.k8s.io/decision"]'
POD_ID=$(field "$POD" 'e["auditID"]')
expect_exact "RequestReceived shares the auditID" "1" -- count_events "e['auditID']=='$POD_ID' and e['stage']=='RequestReceived'"
expect "Metadata for secrets: who and which (the name from the answer)" "^ResponseComplete create secrets s1 201 system:admin$" -- events 'e.get("objectRef",{}).get("resource")=="secrets"'
expect_exact "never the secret's data" "0" -- bash -c "cat $TEST_TMP/audit/*.log | grep -c -e hunter2-audit -e $(printf hunter2-audit | base64) || true"
SECRET=$(event_json 'e.get("objectRef",{}).get("resource")=="secrets" and e["stage"]=="ResponseComplete"')
expect_exact "Metadata level has no request or response object" "False False" -- field "$SECRET" 'str("requestObject" in e)+" "+str("responseObject" in e)'
CM=$(event_json 'e.get("objectRef",{}).get("resource")=="configmaps" and e["verb"]=="create"')
expect_exact "Request level: the request object, no response object" "c1 False ResponseComplete" -- field "$CM" 'e["requestObject"]["metadata"]["name"]+" "+str("responseObject" in e)+" "+e["stage"]'
expect_exact "omitStages leaves RequestReceived out for configmaps" "0" -- count_events 'e.get("objectRef",{}).get("resource")=="configmaps" and e["stage"]=="RequestReceived"' 
expect "a forbidden request: who tried" "^ResponseComplete list pods - 403 jane$" -- events 'e["user"]["username"]=="jane"'
JANE=$(event_json 'e["user"]["username"]=="jane" and e["stage"]=="ResponseComplete" and e["verb"]=="list"')
expect_exact "forbid, with upstream's 403 Status" "forbid Forbidden" -- field "$JANE" 'e["annotations"]["authorization.k8s.io/decision"]+" "+e["responseStatus"]["reason"]'
expect "impersonation: the admin acting as jane" "^system:admin jane 403$" -- impersonation
expect_exact "None: health probes and kite's own components are not logged" "0" -- count_events 'e["requestURI"]=="/readyz" or e["user"]["username"]=="system:kube-scheduler"' 
expect "the Audit-ID header is answered" "^[Aa]udit-[Ii][Dd]: " -- bash -c "curl -sS -D - -o /dev/null --cacert $TEST_TMP/ca.crt --cert $TEST_TMP/client.crt --key $TEST_TMP/client.key $BASE/api/v1/namespaces/audited/pods"

# Failed authentication (401): audited as upstream's failed-authentication filter, one event at
# ResponseStarted with no user and the kinds of credentials tried; the policy is evaluated without
# a user (here the RequestResponse rule for pods in "audited" matches).
HDRS=$(curl -sS -D - -o /dev/null --cacert "$TEST_TMP/ca.crt" -H "Authorization: Bearer not-a-token" "$BASE/api/v1/namespaces/audited/pods")
expect "a bad token gets 401" "^HTTP/[0-9.]+ 401" -- echo "$HDRS"
BAD_ID=$(printf '%s\n' "$HDRS" | tr -d '\r' | awk -F': ' 'tolower($1)=="audit-id" {print $2}')
expect "the 401 carries an Audit-ID" "^[0-9a-f-]{36}$" -- echo "$BAD_ID"
eventually "the failed authentication is in the log" "^1$" 10 -- count_events "e['auditID']=='$BAD_ID'"
BAD=$(event_json "e['auditID']=='$BAD_ID'")
expect_exact "one event, at ResponseStarted, at the matching rule's level" "ResponseStarted RequestResponse" -- field "$BAD" 'e["stage"]+" "+e["level"]'
expect_exact "no user: authentication failed" "{}" -- field "$BAD" 'json.dumps(e["user"])'
expect_exact "401 and what was attempted, as upstream" "401 Authentication failed, attempted: bearer" -- field "$BAD" 'str(e["responseStatus"]["code"])+" "+e["responseStatus"]["message"]'
expect_exact "what was asked for" "list pods audited /api/v1/namespaces/audited/pods 127.0.0.1" -- field "$BAD" 'e["verb"]+" "+e["objectRef"]["resource"]+" "+e["objectRef"]["namespace"]+" "+e["requestURI"]+" "+e["sourceIPs"][0]'
# The real kubectl with a token the server does not know (--raw: no discovery first, whose
# non-resource requests this policy leaves out).
expect_fail "kubectl with a bad token is refused" "Unauthorized|must be logged in" -- timeout 60 "$KUBECTL_BIN" --kubeconfig /dev/null \
  --server "$BASE" --certificate-authority "$TEST_TMP/ca.crt" --token wrong-token --cache-dir "$TEST_TMP/kubectl-cache-wrong" \
  get --raw /api/v1/namespaces/default/configmaps
eventually "kubectl's failed attempt is audited" "^ResponseStarted list configmaps - 401 -$" 10 -- events 'e["responseStatus"]["code"]==401 and e.get("objectRef",{}).get("resource")=="configmaps"'
# No credentials at all: anonymous is on, so the request authenticates as system:anonymous and
# is refused by authorization, audited with that user as any other request.
curl -sS -o /dev/null --cacert "$TEST_TMP/ca.crt" "$BASE/api/v1/namespaces/audited/secrets"
eventually "an anonymous refusal is audited with system:anonymous" "^ResponseComplete list secrets - 401 system:anonymous$" 10 -- events 'e["user"].get("username")=="system:anonymous" and e["stage"]=="ResponseComplete"'

# Rotation: 1 MB files, two backups kept. Big ConfigMaps (Request level) fill them quickly.
head -c 400000 /dev/zero | tr '\0' 'x' >"$TEST_TMP/big.txt"
for i in 1 2 3 4 5 6 7 8; do k create configmap "big$i" --from-file=data="$TEST_TMP/big.txt" >/dev/null; done
eventually "the log rotated, two backups kept" "^2$" 10 -- bash -c "ls $TEST_TMP/audit | grep -cE '^audit-[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}\.[0-9]{3}\.log$'"
expect_exact "every file under the limit but one line" "ok" -- bash -c "for f in $TEST_TMP/audit/*.log; do [ \$(stat -c %s \$f) -le 1500000 ] || exit 1; done; echo ok"
expect "the newest events are in the current file" "big8" -- grep -o big8 "$LOG"
finish
