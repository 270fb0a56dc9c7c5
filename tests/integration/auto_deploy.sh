#!/usr/bin/env bash
# Auto-deploying manifests (addons/manifests/deployer.h), k3s's model: every *.yaml in
# <data-dir>/server/manifests/ is applied with server-side apply at start and when it changes; a
# deleted object comes back; FOO.yaml.skip disables FOO.yaml; the packaged kite-dns add-on is a
# file there, and --disable=kite-dns removes it. A restart with unchanged files re-applies nothing.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/lib.sh"
source "$HERE/kubectl/lib_kubectl.sh"

D=$TEST_TMP/kite-data/server/manifests
mkdir -p "$D"
# Present before the server starts: applied at start.
cat >"$D/app.yaml" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: deployed}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: deployed}
data: {color: blue}
YAML
cat >"$D/skipped.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: skipped}
data: {a: b}
YAML
touch "$D/skipped.yaml.skip"

start_kite_api
expect_exact "the packaged kite-dns manifest is written to the folder" "yes" -- \
  sh -c "[ -f '$D/kite-dns.yaml' ] && echo yes"
eventually "kite-dns applied from the folder" "^kube-dns$" 20 -- k get svc -n kube-system kube-dns -o 'jsonpath={.metadata.name}'
eventually "a manifest present at start is applied" "^blue$" 20 -- k get cm -n deployed settings -o 'jsonpath={.data.color}'
expect_exact "by server-side apply (field manager kite-deploy)" "kite-deploy Apply" -- \
  k get cm -n deployed settings --show-managed-fields -o 'jsonpath={.metadata.managedFields[0].manager} {.metadata.managedFields[0].operation}'
expect_fail "FOO.yaml.skip disables FOO.yaml" 'NotFound' -- k get cm -n default skipped

# A change while the server runs, and a new file.
sed -i 's/color: blue/color: green/' "$D/app.yaml"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: later}\ndata: {x: "1"}\n' >"$D/later.yml"
eventually "a changed manifest is applied again" "^green$" 20 -- k get cm -n deployed settings -o 'jsonpath={.data.color}'
eventually "a new manifest is applied (namespace default)" "^1$" 20 -- k get cm -n default later -o 'jsonpath={.data.x}'

# Deleted objects come back.
k delete cm -n deployed settings >/dev/null
k delete svc -n kube-system kube-dns >/dev/null
eventually "a deleted object comes back" "^green$" 20 -- k get cm -n deployed settings -o 'jsonpath={.data.color}'
eventually "a deleted add-on object comes back" "^kube-dns$" 20 -- k get svc -n kube-system kube-dns -o 'jsonpath={.metadata.name}'

# Removing .skip enables the file.
rm "$D/skipped.yaml.skip"
eventually "removing the .skip file applies it" "^b$" 20 -- k get cm -n default skipped -o 'jsonpath={.data.a}'

# A restart with the same files re-applies nothing: a user's edit survives (as in k3s).
k patch cm -n deployed settings --type merge -p '{"data":{"color":"red"}}' >/dev/null
stop_pid "$SERVER_PID" || true
start_kite_api
expect_exact "after a restart with unchanged files: the user's edit kept" "red" -- \
  k get cm -n deployed settings -o 'jsonpath={.data.color}'
expect_exact "and no deploy error logged" "0" -- sh -c "grep 'deploy: ' '$TEST_TMP/kite.log' | grep -vc 'deploy: created\\|deploy: applied' || true"

# --disable=kite-dns removes the packaged file (objects made before stay, as documented).
stop_pid "$SERVER_PID" || true
KITE_ARGS=(--disable=kite-dns)
start_kite_api
expect_exact "--disable=kite-dns removes its manifest from the folder" "gone" -- \
  sh -c "[ -e '$D/kite-dns.yaml' ] || echo gone"
stop_pid "$SERVER_PID" || true

echo "$PASSED passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
