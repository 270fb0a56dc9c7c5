#!/usr/bin/env bash
# Service-account tokens with the real kubectl: `kubectl create token` (TokenRequest) with
# --duration and --audience, the token used with --token (kubectl auth whoami, 401 when it is no
# longer good), tokens bound to a pod or secret that stop working once it is deleted, a token whose
# account is re-created, the legacy token Secret filled by the token controller, TokenReview,
# OIDC discovery, and the ServiceAccount admission plugin's token volume.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
start_kite_api
admin_cert_files
M=$TEST_TMP/manifests
mkdir -p "$M"

# kt TOKEN ARGS... — kubectl with only a bearer token (no client certificate).
kt() {
  local token=$1
  shift
  timeout 60 "$KUBECTL_BIN" --kubeconfig /dev/null --server "$BASE" --certificate-authority "$TEST_TMP/ca.crt" \
    --token "$token" --cache-dir "$TEST_TMP/kubectl-cache-token" "$@" </dev/null
}
# claims TOKEN — the token's payload as JSON.
claims() {
  python3 -c 'import base64,sys; p=sys.argv[1].split(".")[1]; print(base64.urlsafe_b64decode(p+"="*(-len(p)%4)).decode())' "$1"
}
header() {
  python3 -c 'import base64,sys; p=sys.argv[1].split(".")[0]; print(base64.urlsafe_b64decode(p+"="*(-len(p)%4)).decode())' "$1"
}
# gone KIND NAME — prints "gone" once the object does not exist.
gone() { k get "$1" "$2" >/dev/null 2>&1 || echo gone; }
# b64field SECRET JSONPATH — a secret's data field, decoded.
b64field() { k get secret "$1" -o "jsonpath=$2" | base64 -d; }
groups_of() { kt "$1" auth whoami -o 'jsonpath={.status.userInfo.groups}' | tr -d '[]"'; }
field() {  # field JSON PYTHON-EXPR(c)
  python3 -c 'import json,sys; c=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

eventually "default service account exists" '^default$' 30 -- k get sa default -o 'jsonpath={.metadata.name}'
expect "create a service account" 'serviceaccount/bot created' -- k create sa bot

# TokenRequest through kubectl create token.
TOKEN=$(k create token bot --duration=10m)
C=$(claims "$TOKEN")
expect_exact "token subject" "system:serviceaccount:default:bot" -- field "$C" 'c["sub"]'
expect_exact "token issuer" "https://kubernetes.default.svc.cluster.local" -- field "$C" 'c["iss"]'
expect_exact "token lifetime is --duration" "600" -- field "$C" 'c["exp"]-c["iat"]'
expect_exact "default audiences are the API server's" "['https://kubernetes.default.svc.cluster.local', 'k3s']" -- field "$C" 'c["aud"]'
expect_exact "kubernetes.io claim names the account" "default bot $(k get sa bot -o 'jsonpath={.metadata.uid}')" -- \
  field "$C" 'c["kubernetes.io"]["namespace"]+" "+c["kubernetes.io"]["serviceaccount"]["name"]+" "+c["kubernetes.io"]["serviceaccount"]["uid"]'
expect_exact "signed with ES256" "ES256" -- field "$(header "$TOKEN")" 'c["alg"]'
expect_exact "whoami with the token" "system:serviceaccount:default:bot" -- \
  kt "$TOKEN" auth whoami -o 'jsonpath={.status.userInfo.username}'
expect "groups of a service account" 'system:serviceaccounts,system:serviceaccounts:default,system:authenticated' -- \
  groups_of "$TOKEN"
expect_fail "a token is refused for other users' resources (authenticated, not authorized)" 'Forbidden|forbidden' -- \
  kt "$TOKEN" get secrets

XTOKEN=$(k create token bot --duration=10m --audience=x)
expect_exact "--audience sets aud" "['x']" -- field "$(claims "$XTOKEN")" 'c["aud"]'
expect_fail "a token for another audience does not authenticate to the API" 'Unauthorized|must be logged in' -- \
  kt "$XTOKEN" auth whoami
expect_fail "--duration below 10 minutes is refused" 'may not specify a duration less than 10 minutes' -- \
  k create token bot --duration=1m
expect_fail "a missing service account" 'serviceaccounts "nobody" not found' -- k create token nobody
expect_fail "garbage is 401" 'Unauthorized|must be logged in' -- kt "a.b.c" auth whoami
# The same token with its payload changed (signature kept) is refused.
FORGED=$(python3 -c '
import base64,json,sys
h,p,s=sys.argv[1].split(".")
c=json.loads(base64.urlsafe_b64decode(p+"="*(-len(p)%4)))
c["sub"]="system:serviceaccount:kube-system:admin"
print(h+"."+base64.urlsafe_b64encode(json.dumps(c).encode()).decode().rstrip("=")+"."+s)' "$TOKEN")
expect_fail "a forged token is 401" 'Unauthorized|must be logged in' -- kt "$FORGED" auth whoami

# TokenReview answers for service-account tokens too. (--validate=false: /openapi/v3 does not
# describe authentication.k8s.io/v1 yet, so kubectl cannot validate a TokenReview.)
cat >"$M/review.yaml" <<YAML
apiVersion: authentication.k8s.io/v1
kind: TokenReview
spec: {token: "$TOKEN"}
YAML
expect_exact "TokenReview authenticates the token" "true system:serviceaccount:default:bot" -- \
  k create --validate=false -f "$M/review.yaml" -o 'jsonpath={.status.authenticated} {.status.user.username}'
cat >"$M/review-x.yaml" <<YAML
apiVersion: authentication.k8s.io/v1
kind: TokenReview
spec: {token: "$XTOKEN", audiences: [x]}
YAML
expect_exact "TokenReview with the token's audience" "true x" -- \
  k create --validate=false -f "$M/review-x.yaml" -o 'jsonpath={.status.authenticated} {.status.audiences[0]}'

# Bound to a pod: valid while the pod exists, 401 once it is deleted.
cat >"$M/pod.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: worker}
spec:
  serviceAccountName: bot
  containers: [{name: c, image: busybox}]
YAML
k apply -f "$M/pod.yaml" >/dev/null
PTOKEN=$(k create token bot --bound-object-kind=Pod --bound-object-name=worker --duration=10m)
expect_exact "pod-bound token names the pod" "worker $(k get pod worker -o 'jsonpath={.metadata.uid}')" -- \
  field "$(claims "$PTOKEN")" 'c["kubernetes.io"]["pod"]["name"]+" "+c["kubernetes.io"]["pod"]["uid"]'
expect_exact "pod-bound token authenticates, with the pod in extra" "system:serviceaccount:default:bot [\"worker\"]" -- \
  kt "$PTOKEN" auth whoami -o 'jsonpath={.status.userInfo.username} {.status.userInfo.extra.authentication\.kubernetes\.io/pod-name}'
expect_fail "a pod of another account cannot be bound" 'different serviceaccount name' -- \
  k create token default --bound-object-kind=Pod --bound-object-name=worker
expect_fail "a wrong uid is a conflict" 'does not match the UID in record' -- \
  k create token bot --bound-object-kind=Pod --bound-object-name=worker --bound-object-uid=00000000-0000-4000-8000-000000000000
k delete pod worker --grace-period=0 --force --wait=true >/dev/null 2>&1
eventually "pod deleted" '^gone$' 30 -- gone pod worker
expect_fail "the pod-bound token stops working once the pod is gone" 'Unauthorized|must be logged in' -- \
  kt "$PTOKEN" auth whoami
k apply -f "$M/pod.yaml" >/dev/null
expect_fail "...and a new pod of the same name does not revive it" 'Unauthorized|must be logged in' -- \
  kt "$PTOKEN" auth whoami

# Bound to a secret.
k create secret generic anchor --from-literal=a=b >/dev/null
STOKEN=$(k create token bot --bound-object-kind=Secret --bound-object-name=anchor)
expect_exact "secret-bound token authenticates" "system:serviceaccount:default:bot" -- \
  kt "$STOKEN" auth whoami -o 'jsonpath={.status.userInfo.username}'
k delete secret anchor >/dev/null
expect_fail "secret-bound token stops with the secret" 'Unauthorized|must be logged in' -- kt "$STOKEN" auth whoami

# The account deleted, then made again with the same name: old tokens stay dead.
k create sa temp >/dev/null
TTOKEN=$(k create token temp)
expect_exact "token of temp works" "system:serviceaccount:default:temp" -- kt "$TTOKEN" auth whoami -o 'jsonpath={.status.userInfo.username}'
k delete sa temp >/dev/null
expect_fail "deleting the account invalidates its tokens" 'Unauthorized|must be logged in' -- kt "$TTOKEN" auth whoami
k create sa temp >/dev/null
expect_fail "re-creating it (new uid) does not revive them" 'Unauthorized|must be logged in' -- kt "$TTOKEN" auth whoami

# The legacy token Secret, made by hand.
k create sa legacy >/dev/null
cat >"$M/legacy.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: legacy-token
  annotations: {kubernetes.io/service-account.name: legacy}
type: kubernetes.io/service-account-token
YAML
k apply -f "$M/legacy.yaml" >/dev/null
eventually "token controller fills the legacy secret" '^[A-Za-z0-9+/=]{100,}$' 30 -- k get secret legacy-token -o 'jsonpath={.data.token}'
LTOKEN=$(k get secret legacy-token -o 'jsonpath={.data.token}' | base64 -d)
expect_exact "legacy secret has namespace" "default" -- b64field legacy-token '{.data.namespace}'
expect "legacy secret has the CA" 'BEGIN CERTIFICATE' -- b64field legacy-token '{.data.ca\.crt}'
expect_exact "legacy secret has the account's uid" "$(k get sa legacy -o 'jsonpath={.metadata.uid}')" -- \
  k get secret legacy-token -o 'jsonpath={.metadata.annotations.kubernetes\.io/service-account\.uid}'
expect_exact "legacy token issuer" "kubernetes/serviceaccount" -- field "$(claims "$LTOKEN")" 'c["iss"]'
expect_exact "legacy token authenticates" "system:serviceaccount:default:legacy" -- \
  kt "$LTOKEN" auth whoami -o 'jsonpath={.status.userInfo.username}'
k delete secret legacy-token >/dev/null
expect_fail "legacy token stops with its secret" 'Unauthorized|must be logged in' -- kt "$LTOKEN" auth whoami
cat >"$M/orphan.yaml" <<YAML
apiVersion: v1
kind: Secret
metadata:
  name: orphan-token
  annotations: {kubernetes.io/service-account.name: ghost}
type: kubernetes.io/service-account-token
YAML
k apply -f "$M/orphan.yaml" >/dev/null
eventually "a token secret of a missing account is deleted" '^gone$' 30 -- gone secret orphan-token

# OIDC discovery.
expect_exact "openid-configuration issuer" "https://kubernetes.default.svc.cluster.local" -- \
  field "$(k get --raw /.well-known/openid-configuration)" 'c["issuer"]'
expect_exact "openid-configuration jwks_uri" "$BASE/openid/v1/jwks" -- \
  field "$(k get --raw /.well-known/openid-configuration)" 'c["jwks_uri"]'
KID=$(field "$(header "$TOKEN")" 'c["kid"]')
expect_exact "jwks holds the signing key" "True EC P-256" -- \
  field "$(k get --raw /openid/v1/jwks)" '" ".join([str(any(x["kid"]=="'"$KID"'" for x in c["keys"])), c["keys"][0]["kty"], c["keys"][0]["crv"]])'
# The JWK set verifies the token (an outside party's check).
expect_exact "the token verifies with the published key" "verified" -- python3 - "$TOKEN" "$(k get --raw /openid/v1/jwks)" <<'PY'
import base64, json, subprocess, sys, tempfile
tok, jwks = sys.argv[1], json.loads(sys.argv[2])
b = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))
h, p, s = tok.split(".")
kid = json.loads(b(h))["kid"]
k = [x for x in jwks["keys"] if x["kid"] == kid][0]
x, y, sig = b(k["x"]), b(k["y"]), b(s)
# SubjectPublicKeyInfo DER for a P-256 point, and the r||s signature as DER.
spki = bytes.fromhex("3059301306072a8648ce3d020106082a8648ce3d030107034200") + b"\x04" + x + y
def der_int(v):
    v = v.lstrip(b"\x00") or b"\x00"
    if v[0] & 0x80: v = b"\x00" + v
    return b"\x02" + bytes([len(v)]) + v
body = der_int(sig[:32]) + der_int(sig[32:])
dsig = b"\x30" + bytes([len(body)]) + body
with tempfile.TemporaryDirectory() as d:
    open(d + "/k.der", "wb").write(spki); open(d + "/sig", "wb").write(dsig); open(d + "/in", "wb").write((h + "." + p).encode())
    r = subprocess.run(["openssl", "dgst", "-sha256", "-keyform", "DER", "-verify", d + "/k.der", "-signature", d + "/sig", d + "/in"], capture_output=True, text=True)
    print("verified" if r.returncode == 0 else r.stdout + r.stderr)
PY

# The ServiceAccount admission plugin.
cat >"$M/plain.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: plain}
spec:
  initContainers: [{name: init, image: busybox}]
  containers: [{name: a, image: busybox}, {name: b, image: busybox}]
YAML
k apply -f "$M/plain.yaml" >/dev/null
expect_exact "serviceAccountName defaults to default" "default" -- k get pod plain -o 'jsonpath={.spec.serviceAccountName}'
expect "the kube-api-access volume" '^kube-api-access-[bcdfghjklmnpqrstvwxz2456789]{5} 3607 token kube-root-ca.crt ca.crt metadata.namespace namespace 420$' -- \
  k get pod plain -o 'jsonpath={.spec.volumes[0].name} {.spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds} {.spec.volumes[0].projected.sources[0].serviceAccountToken.path} {.spec.volumes[0].projected.sources[1].configMap.name} {.spec.volumes[0].projected.sources[1].configMap.items[0].path} {.spec.volumes[0].projected.sources[2].downwardAPI.items[0].fieldRef.fieldPath} {.spec.volumes[0].projected.sources[2].downwardAPI.items[0].path} {.spec.volumes[0].projected.defaultMode}'
VOL=$(k get pod plain -o 'jsonpath={.spec.volumes[0].name}')
expect_exact "mounted read-only in every container" "$VOL /var/run/secrets/kubernetes.io/serviceaccount true|$VOL /var/run/secrets/kubernetes.io/serviceaccount true|$VOL /var/run/secrets/kubernetes.io/serviceaccount true|" -- \
  k get pod plain -o 'jsonpath={range .spec.initContainers[*]}{.volumeMounts[0].name} {.volumeMounts[0].mountPath} {.volumeMounts[0].readOnly}|{end}{range .spec.containers[*]}{.volumeMounts[0].name} {.volumeMounts[0].mountPath} {.volumeMounts[0].readOnly}|{end}'
k create sa quiet >/dev/null
k patch sa quiet -p '{"automountServiceAccountToken":false}' >/dev/null
cat >"$M/quiet.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: quiet}
spec:
  serviceAccountName: quiet
  containers: [{name: a, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: loud}
spec:
  serviceAccountName: quiet
  automountServiceAccountToken: true
  containers: [{name: a, image: busybox}]
---
apiVersion: v1
kind: Pod
metadata: {name: optout}
spec:
  automountServiceAccountToken: false
  containers: [{name: a, image: busybox}]
YAML
k apply -f "$M/quiet.yaml" >/dev/null
expect_exact "account's automount false: no volume" "" -- k get pod quiet -o 'jsonpath={.spec.volumes}'
expect "pod's automount true wins over the account's" 'kube-api-access-' -- k get pod loud -o 'jsonpath={.spec.volumes[*].name}'
expect_exact "pod's automount false: no volume" "" -- k get pod optout -o 'jsonpath={.spec.volumes}'
cat >"$M/ghost.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: ghost}
spec:
  serviceAccountName: ghost
  containers: [{name: a, image: busybox}]
YAML
expect_fail "a pod of a missing account is refused" 'pods "ghost" is forbidden: error looking up service account default/ghost: serviceaccount "ghost" not found' -- \
  k apply -f "$M/ghost.yaml"

finish
