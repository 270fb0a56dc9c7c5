#!/usr/bin/env bash
# Bad input to the Kubernetes API: each gets a proper Status (code, reason, message), nothing is
# stored, and the server keeps serving. Raw requests go through curl with the admin client
# certificate, so the exact body and Content-Type reach the server.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
CURL=${CURL:-curl}
require_tool "$CURL"
start_kite_api

admin_cert_files

# req METHOD PATH CONTENT-TYPE BODY-FILE — prints "<http code> <reason>" from the Status.
req() {
  local method=$1 path=$2 type=$3 body=$4
  admin_curl 20 "$method" "$path" "$type" "$body"
  local reason
  reason=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("kind"), d.get("reason"))' "$TEST_TMP/resp" 2>/dev/null ||
    echo "not-a-Status")
  echo "$(cat "$TEST_TMP/code") $reason"
}
body() { printf '%s' "$1" >"$TEST_TMP/body"; }
CM=/api/v1/namespaces/default/configmaps

body '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"'
expect_exact "malformed JSON is 400" "400 Status BadRequest" -- req POST $CM application/json "$TEST_TMP/body"
body $'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: [unclosed'
expect_exact "malformed YAML is 400" "400 Status BadRequest" -- req POST $CM application/yaml "$TEST_TMP/body"
printf 'k8s\0\x0a\xff\xff' >"$TEST_TMP/body"
expect_exact "malformed protobuf is 400" "400 Status BadRequest" -- req POST $CM application/vnd.kubernetes.protobuf "$TEST_TMP/body"
printf 'nope' >"$TEST_TMP/body"
expect_exact "protobuf without the envelope is 400" "400 Status BadRequest" -- req POST $CM application/vnd.kubernetes.protobuf "$TEST_TMP/body"
body '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"strict"},"bogus":1}'
expect_exact "unknown field under Strict is 400" "400 Status BadRequest" -- req POST "$CM?fieldValidation=Strict" application/json "$TEST_TMP/body"
body '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Not_Valid"}}'
expect_exact "invalid name is 422" "422 Status Invalid" -- req POST $CM application/json "$TEST_TMP/body"
body '{"apiVersion":"v1","kind":"Secret","metadata":{"name":"wrongkind"}}'
expect_exact "wrong kind for the URL is 400" "400 Status BadRequest" -- req POST $CM application/json "$TEST_TMP/body"
body '{"apiVersion":"apps/v1","kind":"ConfigMap","metadata":{"name":"wronggroup"}}'
expect_exact "wrong apiVersion for the URL is 400" "400 Status BadRequest" -- req POST $CM application/json "$TEST_TMP/body"
python3 -c 'import json; print(json.dumps({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"huge"},"data":{"a":"x"*(3*1024*1024+10)}}))' >"$TEST_TMP/big"
expect_exact "body over 3 MiB is 413" "413 Status RequestEntityTooLarge" -- req POST $CM application/json "$TEST_TMP/big"
body '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"typed"},"data":{"a":1}}'
expect_exact "wrong JSON type is 400" "400 Status BadRequest" -- req POST $CM application/json "$TEST_TMP/body"
body '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}'
expect_exact "unsupported media type is 415" "415 Status UnsupportedMediaType" -- req POST $CM text/plain "$TEST_TMP/body"
body ''
expect_exact "bad label selector is 400" "400 Status BadRequest" -- req GET "$CM?labelSelector=a%20in%20(" application/json "$TEST_TMP/body"
expect_exact "bad field selector is 400" "400 Status BadRequest" -- req GET "$CM?fieldSelector=spec.nope%3Dx" application/json "$TEST_TMP/body"
expect_exact "bad limit is 400" "400 Status BadRequest" -- req GET "$CM?limit=four" application/json "$TEST_TMP/body"
# Upstream pages only for a positive limit: a negative one lists everything.
expect_exact "negative limit lists all" "200 ConfigMapList None" -- req GET "$CM?limit=-4" application/json "$TEST_TMP/body"
expect_exact "bad continue token is 400" "400 Status BadRequest" -- req GET "$CM?limit=1&continue=garbage" application/json "$TEST_TMP/body"

# Patches against a real object.
k create configmap target --from-literal=a=1 >/dev/null
body '[{"op":"nonsense","path":"/data/a"}]'
expect_exact "bad JSON patch op" "422 Status Invalid" -- req PATCH "$CM/target" application/json-patch+json "$TEST_TMP/body"
body '{"data":'
expect_exact "malformed merge patch" "400 Status BadRequest" -- req PATCH "$CM/target" application/merge-patch+json "$TEST_TMP/body"
body '{"data":{"$patch":"explode"}}'
expect_exact "bad strategic merge directive" "422 Status Invalid" -- req PATCH "$CM/target" application/strategic-merge-patch+json "$TEST_TMP/body"
body '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"target"},"data":{"a":"2"}}'
expect_exact "apply without fieldManager is 422" "422 Status Invalid" -- req PATCH "$CM/target" application/apply-patch+yaml "$TEST_TMP/body"
body '{"metadata":{"name":"renamed"}}'
expect_exact "patch renaming the object is 400" "400 Status BadRequest" -- req PATCH "$CM/target" application/merge-patch+json "$TEST_TMP/body"

# Nothing of the above was stored, and the one object is unchanged (kube-root-ca.crt is the
# root CA publisher's).
expect_exact "only the target configmap exists" "kube-root-ca.crt target" -- k get configmaps -o 'jsonpath={.items[*].metadata.name}'
expect_exact "target unchanged" "1" -- k get configmap target -o 'jsonpath={.data.a}'
expect "server still ready" '^ok$' -- k get --raw /readyz

finish
