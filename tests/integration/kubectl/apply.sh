#!/usr/bin/env bash
# Manifests with the real kubectl: create -f, client-side apply (strategic merge patches),
# server-side apply (managedFields, conflicts, --force-conflicts), apply -k, replace, edit,
# patch (strategic, merge, json), diff, and the dry-run=client | apply pipe.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"

cat >"$M/pod.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: busy
  labels: {app: busy}
spec:
  containers:
  - name: busy
    image: busybox:1.36
    command: ["sleep", "3600"]
    ports:
    - containerPort: 8080
YAML
expect "create -f" '^pod/busy created$' -- k create -f "$M/pod.yaml"
expect_exact "pod defaults: protocol, restartPolicy, dnsPolicy" "TCP Always ClusterFirst default-scheduler" -- \
  k get pod busy -o 'jsonpath={.spec.containers[0].ports[0].protocol} {.spec.restartPolicy} {.spec.dnsPolicy} {.spec.schedulerName}'
expect "get pod table" '^busy +0/1 +Pending +0 +[0-9]+s$' -- k get pod busy
# seccompProfile is validated as upstream does: a known type, localhostProfile with Localhost only,
# as a descending relative path
seccomp_pod() { # NAME SECCOMP_PROFILE_JSON: a pod whose container asks for that profile
  printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s"},"spec":{"securityContext":{"seccompProfile":{"type":"RuntimeDefault"}},"containers":[{"name":"c","image":"busybox:1.36","securityContext":{"seccompProfile":%s}}]}}' "$1" "$2" >"$M/$1.json"
}
seccomp_pod sc-type '{"type":"Strict"}'
expect_fail "seccompProfile: unknown type" 'spec.containers\[0\].securityContext.seccompProfile.type: Unsupported value: "Strict": supported values: "Localhost", "RuntimeDefault", "Unconfined"' -- k create -f "$M/sc-type.json"
seccomp_pod sc-local '{"type":"Localhost"}'
expect_fail "seccompProfile: Localhost needs localhostProfile" 'seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost' -- k create -f "$M/sc-local.json"
seccomp_pod sc-up '{"type":"Localhost","localhostProfile":"a/../../etc/shadow"}'
expect_fail "seccompProfile: no backsteps" "seccompProfile.localhostProfile: Invalid value: \"a/../../etc/shadow\": must not contain '..'" -- k create -f "$M/sc-up.json"
seccomp_pod sc-other '{"type":"RuntimeDefault","localhostProfile":"x.json"}'
expect_fail "seccompProfile: localhostProfile only with Localhost" 'can only be set when seccomp type is Localhost' -- k create -f "$M/sc-other.json"
seccomp_pod sc-ok '{"type":"Localhost","localhostProfile":"profiles/audit.json"}'
expect "seccompProfile: a good Localhost profile" '^pod/sc-ok created$' -- k create -f "$M/sc-ok.json"
k delete pod sc-ok --wait=false >/dev/null
printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"aa"},"spec":{"securityContext":{"appArmorProfile":{"type":"Localhost","localhostProfile":" k8s-nginx"}},"containers":[{"name":"c","image":"busybox:1.36","securityContext":{"appArmorProfile":{"type":"Unconfined","localhostProfile":"x"}}}]}}' >"$M/aa.json"
expect_fail "appArmorProfile: a padded profile name" \
  'spec.securityContext.appArmorProfile.localhostProfile: Invalid value: " k8s-nginx": must not be padded with whitespace' -- k create -f "$M/aa.json"
expect_fail "appArmorProfile: localhostProfile only with Localhost" \
  'spec.containers\[0\].securityContext.appArmorProfile.localhostProfile: Invalid value: "x": can only be set when AppArmor type is Localhost' \
  -- k create -f "$M/aa.json"
printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"aa-ann","annotations":{"container.apparmor.security.beta.kubernetes.io/c":"enforce","container.apparmor.security.beta.kubernetes.io/nope":"unconfined"}},"spec":{"containers":[{"name":"c","image":"busybox:1.36"}]}}' >"$M/aa-ann.json"
expect_fail "the deprecated AppArmor annotation: a known profile" \
  'metadata.annotations\[container.apparmor.security.beta.kubernetes.io/c\]: Invalid value: "enforce": invalid AppArmor profile name: "enforce"' \
  -- k create -f "$M/aa-ann.json"
expect_fail "the deprecated AppArmor annotation: a container of the pod" \
  'metadata.annotations\[container.apparmor.security.beta.kubernetes.io/nope\]: Invalid value: "nope": container not found' \
  -- k create -f "$M/aa-ann.json"

expect "get pod wide" '^busy +0/1 +Pending +0 +[0-9]+s +<none> +<none> +<none> +<none>$' -- k get pod busy -o wide

cat >"$M/app.yaml" <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
  labels: {app: app}
spec:
  replicas: 2
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: app
        image: nginx:1.26
        env:
        - {name: A, value: "1"}
        - {name: B, value: "1"}
      - name: sidecar
        image: busybox:1.36
YAML
expect "apply creates" '^deployment.apps/app created$' -- k apply -f "$M/app.yaml"
expect "apply again is unchanged" '^deployment.apps/app unchanged$' -- k apply -f "$M/app.yaml"
sed -i 's/replicas: 2/replicas: 3/; s/{name: A, value: "1"}/{name: A, value: "2"}/; s/nginx:1.26/nginx:1.27/' "$M/app.yaml"
expect "apply configures" '^deployment.apps/app configured$' -- k apply -f "$M/app.yaml"
expect_exact "apply merged containers by name" "3 nginx:1.27 2 1 busybox:1.36" -- \
  k get deployment app -o 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image} {.spec.template.spec.containers[0].env[0].value} {.spec.template.spec.containers[0].env[1].value} {.spec.template.spec.containers[1].image}'
expect_exact "generation bumped by spec changes" "2" -- k get deployment app -o 'jsonpath={.metadata.generation}'
# Removing a container from the manifest removes it from the object (last-applied diff).
python3 - "$M/app.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
s = s[:s.index("      - name: sidecar")]
open(p, "w").write(s)
PY
expect "apply removes a container" '^deployment.apps/app configured$' -- k apply -f "$M/app.yaml"
expect_exact "one container left" "app" -- k get deployment app -o 'jsonpath={.spec.template.spec.containers[*].name}'

# --- strategic merge from the commands that send it
expect "set image" '^deployment.apps/app image updated$' -- k set image deployment/app app=nginx:1.28
expect_exact "image set" "nginx:1.28" -- k get deployment app -o 'jsonpath={.spec.template.spec.containers[0].image}'
expect "patch (strategic)" '^deployment.apps/app patched$' -- \
  k patch deployment app -p '{"spec":{"template":{"spec":{"containers":[{"name":"app","env":[{"name":"C","value":"3"}]}]}}}}'
# Upstream puts items the patch adds before the existing ones when no $setElementOrder is given.
expect_exact "strategic patch merged env by name" "C A B" -- k get deployment app -o 'jsonpath={.spec.template.spec.containers[0].env[*].name}'
expect "patch --type=merge" '^deployment.apps/app patched$' -- k patch deployment app --type=merge -p '{"metadata":{"labels":{"merged":"yes"}}}'
expect_exact "merge patch applied" "yes" -- k get deployment app -o 'jsonpath={.metadata.labels.merged}'
expect "patch --type=json" '^deployment.apps/app patched$' -- k patch deployment app --type=json -p '[{"op":"replace","path":"/spec/replicas","value":4}]'
expect_exact "json patch applied" "4" -- k get deployment app -o 'jsonpath={.spec.replicas}'
expect_fail "json patch test failure" 'The request is invalid: testing value /spec/replicas failed' -- k patch deployment app --type=json -p '[{"op":"test","path":"/spec/replicas","value":9}]'
expect "patch no-op" 'patched \(no change\)' -- k patch deployment app --type=merge -p '{"spec":{"replicas":4}}'

# --- replace and edit
k get deployment app -o yaml >"$M/app-live.yaml"
sed -i 's/replicas: 4/replicas: 5/' "$M/app-live.yaml"
expect "replace" '^deployment.apps/app replaced$' -- k replace -f "$M/app-live.yaml"
expect_fail "replace with a stale resourceVersion" 'Conflict' -- k replace -f "$M/app-live.yaml"
cat >"$TEST_TMP/editor.sh" <<'SH'
#!/bin/sh
sed -i 's/replicas: 5/replicas: 6/' "$1"
SH
chmod +x "$TEST_TMP/editor.sh"
expect "edit with KUBE_EDITOR" '^deployment.apps/app edited$' -- env KUBE_EDITOR="$TEST_TMP/editor.sh" \
  timeout 60 "$KUBECTL_BIN" --kubeconfig "$TEST_TMP/kubeconfig" --cache-dir "$TEST_TMP/kubectl-cache" edit deployment app
expect_exact "edit stored" "6" -- k get deployment app -o 'jsonpath={.spec.replicas}'

# --- server-side apply
cat >"$M/ssa.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: ssa
data:
  owner: me
  size: "1"
YAML
expect "apply --server-side creates" '^configmap/ssa serverside-applied$' -- k apply --server-side -f "$M/ssa.yaml"
expect "managedFields records the manager" 'manager: kubectl' -- k get configmap ssa -o yaml --show-managed-fields
expect "update by another manager" '^configmap/ssa patched$' -- k patch configmap ssa --type=merge -p '{"data":{"size":"2"}}'
expect_fail "apply conflicts with the other manager" 'Apply failed with 1 conflict: conflict with "kubectl-patch"' -- \
  k apply --server-side -f "$M/ssa.yaml"
expect "apply --force-conflicts" '^configmap/ssa serverside-applied$' -- k apply --server-side --force-conflicts -f "$M/ssa.yaml"
expect_exact "forced value" "1" -- k get configmap ssa -o 'jsonpath={.data.size}'
sed -i '/owner: me/d' "$M/ssa.yaml"
expect "apply drops a field it no longer applies" '^configmap/ssa serverside-applied$' -- k apply --server-side -f "$M/ssa.yaml"
expect_exact "field removed" "" -- k get configmap ssa -o 'jsonpath={.data.owner}'

# --- kustomize, diff, the dry-run pipe
mkdir -p "$M/kust"
cat >"$M/kust/kustomization.yaml" <<'YAML'
namePrefix: k-
commonLabels: {stack: kust}
resources: [cm.yaml]
YAML
cat >"$M/kust/cm.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {mode: fast}
YAML
expect "apply -k" '^configmap/k-settings created$' -- k apply -k "$M/kust"
expect "kustomize labels" 'stack=kust' -- k get configmap k-settings --show-labels
sed -i 's/mode: fast/mode: slow/' "$M/kust/cm.yaml"
expect_fail "diff shows the change (exit 1)" '\+  mode: slow' -- k diff -k "$M/kust"
expect "dry-run=client piped to apply" '^deployment.apps/piped created$' -- bash -c \
  "timeout 60 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' --cache-dir '$TEST_TMP/kubectl-cache' create deployment piped --image=nginx --dry-run=client -o yaml | timeout 60 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' --cache-dir '$TEST_TMP/kubectl-cache' apply -f -"

# --- validation on the way in
cat >"$M/unknown.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: strict}
data: {a: b}
bogus: 1
YAML
expect_fail "unknown field under Strict" 'strict decoding error: unknown field "bogus"' -- k create -f "$M/unknown.yaml"
expect "unknown field with --validate=false is dropped" '^configmap/strict created$' -- k create -f "$M/unknown.yaml" --validate=false
cat >"$M/badname.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: Bad_Name}
YAML
expect_fail "invalid name is 422" 'The ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"' -- k create -f "$M/badname.yaml"

finish
