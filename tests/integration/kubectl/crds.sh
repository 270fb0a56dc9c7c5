#!/usr/bin/env bash
# CustomResourceDefinitions with the real kubectl: a CRD is served at once (discovery, OpenAPI,
# explain), custom resources are validated and pruned against the schema, printed with their
# printer columns, scaled through the scale subresource, and go away with their CRD.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"

cat >"$M/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [cronSpec]
            properties:
              cronSpec: {type: string}
              image: {type: string}
              replicas: {type: integer, minimum: 1, maximum: 10}
          status:
            type: object
            properties:
              replicas: {type: integer}
YAML
cat >"$M/ct.yaml" <<'YAML'
apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: my-new-cron-object}
spec: {cronSpec: "* * * * */5", image: my-awesome-cron-image, replicas: 2}
YAML
expect "apply CRD" '^customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created$' -- k apply -f "$M/crd.yaml"
expect_exact "CRD is Established" "True" -- k get crd crontabs.stable.example.com -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}'
expect "api-resources lists the custom resource" '^crontabs +ct +stable.example.com/v1 +true +CronTab$' -- k api-resources --api-group=stable.example.com
expect "apply custom resource" '^crontab.stable.example.com/my-new-cron-object created$' -- k apply -f "$M/ct.yaml"
expect "printer columns" '^my-new-cron-object +\* \* \* \* \*/5 +2 +[0-9]+s$' -- k get crontabs
expect "short name" '^my-new-cron-object ' -- k get ct
expect "explain the custom resource" 'cronSpec[[:space:]]+<string> -required-' -- k explain crontab.spec
cat >"$M/bad-ct.yaml" <<'YAML'
apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: bad}
spec: {image: x, replicas: 50}
YAML
expect_fail "schema validation: required and maximum" 'spec.cronSpec: Required value' -- k create -f "$M/bad-ct.yaml"
cat >"$M/extra-ct.yaml" <<'YAML'
apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: extra}
spec: {cronSpec: "* * * * *", junk: 1}
YAML
expect_fail "unknown field under Strict" 'unknown field "spec.junk"' -- k create -f "$M/extra-ct.yaml"
expect "pruned with --validate=false" '^crontab.stable.example.com/extra created$' -- k create -f "$M/extra-ct.yaml" --validate=false
expect_exact "unknown field pruned" "" -- k get ct extra -o 'jsonpath={.spec.junk}'
expect "scale a custom resource" 'scaled' -- k scale crontab my-new-cron-object --replicas=3
expect_exact "scaled replicas" "3" -- k get ct my-new-cron-object -o 'jsonpath={.spec.replicas}'
expect "status subresource" 'patched' -- k patch ct my-new-cron-object --subresource=status --type=merge -p '{"status":{"replicas":3}}'
expect "delete the CRD" 'deleted' -- k delete crd crontabs.stable.example.com

# The scale subresource follows the CRD's own paths.
cat >"$M/widgets.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.size, statusReplicasPath: .status.count, labelSelectorPath: .status.selector}
    schema:
      openAPIV3Schema:
        type: object
        x-kubernetes-preserve-unknown-fields: true
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w1}
spec: {size: 1}
YAML
k apply -f "$M/widgets.yaml" >/dev/null 2>&1 || true  # the Widget may come before its CRD is served
eventually "CRD with custom scale paths is served" '^widget.example.com/w1$' 10 -- k apply -f "$M/widgets.yaml" -o name
expect "scale through specReplicasPath" 'scaled' -- k scale widget w1 --replicas=4
expect_exact "spec.size set, nothing at spec.replicas" "4:" -- k get widget w1 -o 'jsonpath={.spec.size}:{.spec.replicas}'
k patch widget w1 --subresource=status --type=merge -p '{"status":{"count":4,"selector":"app=w"}}' >/dev/null
expect "Scale reads statusReplicasPath and labelSelectorPath" '"spec":\{"replicas":4\},"status":\{"replicas":4,"selector":"app=w"\}' -- \
  k get --raw /apis/example.com/v1/namespaces/default/widgets/w1/scale
expect_fail "custom resources are gone" 'the server doesn.t have a resource type "crontabs"|could not find the requested resource' -- k get crontabs

finish
