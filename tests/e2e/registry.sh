#!/usr/bin/env bash
# Pulls through registries.yaml and pull secrets, on a real node with no internet: Debian's
# docker-registry (htpasswd auth) inside the node's network namespace holds the test image,
# pushed with skopeo. kite-server's --private-registry points docker.io at it with credentials
# (k3s's registries.yaml format), so `image: busybox:1.35` (docker.io/library/busybox:1.35)
# with imagePullPolicy Always runs from the mirror; a pod naming the registry itself gets in with
# an imagePullSecret and fails ErrImagePull/ImagePullBackOff without one.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../integration/lib.sh"
source "$HERE/lib_node.sh"
require_node_tools
require_tool "$KITE_SERVER"
for t in docker-registry skopeo curl python3; do command -v "$t" >/dev/null || skip "$t is not installed"; done
sweep_leftovers

new_netns reg
NS=$REPLY
new_node_dir reg
D=$REPLY
rm -f "$D/agent/images/busybox.tar"  # only the pause image is local: busybox comes from the registry
NODE=e2e-reg
KC=$TEST_TMP/kubeconfig
REG=127.0.0.1:5000
k() { kubectl_in "$NS" "$KC" "$@"; }

python3 -W ignore -c 'import crypt; print("kite:" + crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH)))' \
  >"$TEST_TMP/htpasswd"
cat >"$TEST_TMP/registry.yml" <<YAML
version: 0.1
storage: {filesystem: {rootdirectory: $TEST_TMP/registry}}
http: {addr: "$REG"}
auth: {htpasswd: {realm: kite-e2e, path: $TEST_TMP/htpasswd}}
YAML
_spawn "$TEST_TMP/registry.log" nsenter --net="/run/netns/$NS" -- docker-registry serve "$TEST_TMP/registry.yml"
registry_up() { [[ $(in_ns "$NS" curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/") == 401 ]]; }
eventually "registry up (401 without credentials)" 30 registry_up
in_ns "$NS" skopeo copy -q --dest-tls-verify=false --dest-creds kite:s3cret "docker-archive:$KITE_IMAGES/busybox.tar" \
  "docker://$REG/library/busybox:1.35"
echo "ok - test image pushed to the registry"

cat >"$TEST_TMP/registries.yaml" <<YAML
mirrors:
  docker.io:
    endpoint: ["http://$REG"]
  "$REG":
    endpoint: ["http://$REG"]
configs:
  "$REG":
    auth: {username: kite, password: s3cret}
YAML
# The registry's own name gets no credentials from registries.yaml: those come from pull secrets.
cat >"$TEST_TMP/registries-nocreds.yaml" <<YAML
mirrors:
  docker.io:
    endpoint: ["http://$REG"]
  "$REG":
    endpoint: ["http://$REG"]
YAML

start_node_server --private-registry "$TEST_TMP/registries.yaml"
node_ready() { k get node "$NODE" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}' | grep True >/dev/null; }
eventually "node Ready" 90 node_ready

k run mirrored --image=busybox:1.35 --image-pull-policy=Always -- sleep 100000 >/dev/null
running() { [[ $(k get pod "$1" -o 'jsonpath={.status.phase}') == Running ]]; }
eventually "docker.io/library/busybox:1.35 pulled through the mirror in registries.yaml" 120 running mirrored
grep -q 'library/busybox/manifests' "$TEST_TMP/registry.log" || fail "the registry saw no manifest request"

# Restart without registries.yaml credentials: the pull secret is what gets in.
kill -TERM "$SERVER_PID"
for _ in $(seq 1 600); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done  # a pod in its grace period holds the stop
start_node_server --log "$TEST_TMP/kite2.log" --private-registry "$TEST_TMP/registries-nocreds.yaml"
eventually "node Ready again" 90 node_ready
# Another tag, so nothing is cached from the first pull.
in_ns "$NS" skopeo copy -q --src-tls-verify=false --dest-tls-verify=false --src-creds kite:s3cret --dest-creds kite:s3cret \
  "docker://$REG/library/busybox:1.35" "docker://$REG/private/busybox:secret"
k create secret docker-registry regcred --docker-server="$REG" --docker-username=kite --docker-password=s3cret >/dev/null
cat >"$TEST_TMP/pods.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: with-secret}
spec:
  imagePullSecrets: [{name: regcred}]
  containers: [{name: c, image: "$REG/private/busybox:secret", command: [sleep, "100000"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: without-secret}
spec:
  # Always: the image may already be on the node (the pod above), which IfNotPresent would use
  # without asking the registry, as upstream does.
  containers: [{name: c, image: "$REG/private/busybox:secret", imagePullPolicy: Always, command: [sleep, "100000"]}]
YAML
k apply -f "$TEST_TMP/pods.yaml" >/dev/null
eventually "a pull secret's credentials get the image" 120 running with-secret
pull_failed() {
  local r
  r=$(k get pod without-secret -o 'jsonpath={.status.containerStatuses[0].state.waiting.reason}')
  [[ $r == ErrImagePull || $r == ImagePullBackOff ]]
}
eventually "without the secret: ErrImagePull or ImagePullBackOff" 120 pull_failed
