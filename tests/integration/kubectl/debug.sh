#!/usr/bin/env bash
# `kubectl debug`'s API: the pods/ephemeralcontainers subresource (get, patch, update) as upstream
# serves it, with the real kubectl and no node (the kubelet's side is tests/e2e/streaming.sh).
# A write through it changes spec.ephemeralContainers and nothing else; an ephemeral container
# has a unique name, an image, none of the fields it may not have (ports, probes, resources, …)
# and a target that exists; existing ones are never removed or changed; a pod is never created
# with one, and the main resource never changes them. Each refusal is a 422 naming the field.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"
EC=/api/v1/namespaces/default/pods/web/ephemeralcontainers

cat >"$M/pod.json" <<'JSON'
{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"},
 "spec":{"initContainers":[{"name":"init","image":"busybox:1.36","command":["true"]}],
         "containers":[{"name":"app","image":"busybox:1.36","command":["sleep","3600"]}]}}
JSON
expect "create a pod" '^pod/web created$' -- k create -f "$M/pod.json"

expect "discovery lists pods/ephemeralcontainers with get, patch, update" \
  '"name":"pods/ephemeralcontainers".*"verbs":\["get","patch","update"\]' -- k get --raw /api/v1
expect "GET pods/ephemeralcontainers answers the Pod" '"kind":"Pod".*"name":"web"' -- k get --raw "$EC"

# kubectl debug: a strategic merge patch of the subresource (no -it: nothing waits for a node).
expect "kubectl debug adds an ephemeral container" 'Targeting container "app"' -- \
  k debug web --image=busybox:1.36 --target=app -c dbg -- sleep 60
expect_exact "the container is in the spec, defaulted, with its target" "dbg busybox:1.36 app File IfNotPresent" -- \
  k get pod web -o 'jsonpath={.spec.ephemeralContainers[0].name} {.spec.ephemeralContainers[0].image} {.spec.ephemeralContainers[0].targetContainerName} {.spec.ephemeralContainers[0].terminationMessagePolicy} {.spec.ephemeralContainers[0].imagePullPolicy}'
expect "kubectl debug without a name" 'Defaulting debug container name to debugger-[a-z0-9]{5}' -- \
  k debug web --image=busybox:1.36 -- true
expect "gets one made up" '^dbg debugger-[a-z0-9]{5}$' -- k get pod web -o 'jsonpath={.spec.ephemeralContainers[*].name}'

# CMD's output on one line (a 422 with several causes lists one per line).
flat() {
  local rc=0 out
  out=$("$@" 2>&1) || rc=$?
  tr '\n' ' ' <<<"$out"
  return $rc
}
# edit_json IN OUT PYTHON: the JSON object in IN, as `o`, changed by the Python statements, into
# OUT (python3 is a test dependency; jq is not).
edit_json() {
  python3 -c 'import json, sys
o = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(o, open(sys.argv[2], "w"))' "$1" "$2" "$3"
}
# PUT bodies: the pod as stored with spec.ephemeralContainers (`e`) edited.
put_body() {  # NAME PYTHON
  k get pod web -o json >"$M/stored.json"
  edit_json "$M/stored.json" "$M/$1.json" "e = o['spec'].setdefault('ephemeralContainers', []); $2"
}
put_body add-bad 'e.append({"name": "bad", "image": "busybox:1.36", "ports": [{"containerPort": 80}],
  "readinessProbe": {"exec": {"command": ["true"]}}, "resources": {"limits": {"cpu": "1"}}, "targetContainerName": "nope"})'
expect_fail "ports, a probe and resources are refused, and an unknown target" \
  'spec.ephemeralContainers\[2\].ports: Forbidden: cannot be set for an Ephemeral Container.*resources: Forbidden.*readinessProbe: Forbidden.*targetContainerName: Not found: "nope"' \
  -- flat k replace --raw "$EC" -f "$M/add-bad.json"
put_body add-dup 'e += [{"name": "app", "image": "busybox:1.36"}, {"name": "init", "image": "busybox:1.36"}]'
expect_fail "a name a container or an init container has is a duplicate" \
  'spec.ephemeralContainers\[2\].name: Duplicate value: "app".*spec.ephemeralContainers\[3\].name: Duplicate value: "init"' \
  -- flat k replace --raw "$EC" -f "$M/add-dup.json"
put_body add-noimage 'e.append({"name": "x"})'
expect_fail "an image is required" 'spec.ephemeralContainers\[2\].image: Required value' -- k replace --raw "$EC" -f "$M/add-noimage.json"
put_body remove 'del e[0]'
expect_fail "an existing ephemeral container is not removed" \
  'Forbidden: existing ephemeral containers "dbg" may not be removed' -- k replace --raw "$EC" -f "$M/remove.json"
put_body change 'e[0]["image"] = "busybox:1.35"'
expect_fail "nor changed" 'Forbidden: existing ephemeral containers "dbg" may not be changed' -- \
  k replace --raw "$EC" -f "$M/change.json"
put_body add-target-init 'e.append({"name": "on-init", "image": "busybox:1.36", "targetContainerName": "init", "stdin": True});
o["spec"]["containers"][0]["image"] = "evil:1"; o["metadata"]["labels"] = {"sneaked": "in"}'
expect "PUT adds one aimed at the init container" '"name":"on-init"' -- k replace --raw "$EC" -f "$M/add-target-init.json"
expect_exact "only spec.ephemeralContainers changed: image and labels as they were" "busybox:1.36" -- \
  k get pod web -o 'jsonpath={.spec.containers[0].image} {.metadata.labels.sneaked}'
expect "three ephemeral containers now" '^dbg debugger-[a-z0-9]{5} on-init$' -- k get pod web -o 'jsonpath={.spec.ephemeralContainers[*].name}'

# The main resource and a create never carry them.
put_body main 'e.append({"name": "sneak", "image": "busybox:1.36"})'
expect_fail "an update of the pod itself does not add one" 'pod updates may not change fields other than' -- \
  k replace -f "$M/main.json"
edit_json "$M/pod.json" "$M/born.json" 'o["metadata"] = {"name": "born-with"}; o["spec"]["ephemeralContainers"] = [{"name": "e", "image": "busybox:1.36"}]'
expect_fail "a pod is not created with one" 'spec.ephemeralContainers: Forbidden: cannot be set on create' -- k create -f "$M/born.json"

# A static pod's mirror takes none (upstream: static pods do not support ephemeral containers).
edit_json "$M/pod.json" "$M/mirror.json" 'o["metadata"] = {"name": "mirror", "annotations": {"kubernetes.io/config.mirror": "abc"}}'
expect "a mirror-like pod" '^pod/mirror created$' -- k create -f "$M/mirror.json"
expect_fail "kubectl debug of a static pod's mirror is refused" 'static pods do not support ephemeral containers' -- \
  k debug mirror --image=busybox:1.36 -c dbg -- true
expect_fail "the subresource of a pod that does not exist is 404" 'pods "nope" not found' -- \
  k debug nope --image=busybox:1.36 -- true
finish
