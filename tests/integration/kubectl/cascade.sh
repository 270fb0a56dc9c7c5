#!/usr/bin/env bash
# The garbage collector, namespace, service account and root CA publisher controllers seen
# through the real kubectl: `kubectl delete` of a Deployment or ReplicaSet in each cascade mode
# (background, foreground with kubectl's wait, orphan) over ReplicaSets and pods the real
# controllers made, and over custom resources; `kubectl delete namespace` empties the namespace
# (custom resources included) and completes (and says what holds it while a finalizer does);
# every namespace gets the default ServiceAccount and the kube-root-ca.crt ConfigMap.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
source "$HERE/lib_controllers.sh"
start_kite_api
M=$TEST_TMP/manifests
mkdir -p "$M"

deployment() {  # deployment NAME REPLICAS
  cat <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: $2
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec: {containers: [{name: c, image: busybox}]}
YAML
}

count() {  # count KIND SELECTOR: how many objects match
  k get "$1" -l "$2" -o name 2>/dev/null | grep -c . || true
}

# --- background (kubectl's default)
deployment bg 2 >"$M/bg.yaml"
expect "create deployment bg" 'deployment.apps/bg created' -- k apply -f "$M/bg.yaml"
eventually_exact "bg: replicaset made" 30 "1" -- count rs app=bg
eventually_exact "bg: pods made" 30 "2" -- count pods app=bg
expect "delete deployment bg" 'deployment.apps "bg" deleted' -- k delete deployment bg
eventually_exact "bg: replicaset collected" 30 "0" -- count rs app=bg
eventually_exact "bg: pods collected" 30 "0" -- count pods app=bg

# --- background on a ReplicaSet named explicitly
deployment rsbg 2 >"$M/rsbg.yaml"
expect "create deployment rsbg" 'created' -- k apply -f "$M/rsbg.yaml"
eventually_exact "rsbg: pods made" 30 "2" -- count pods app=rsbg
expect "delete deployment rsbg --cascade=orphan" 'deleted' -- k delete deployment rsbg --cascade=orphan
rs=$(k get rs -l app=rsbg -o name)
expect "delete replicaset --cascade=background" 'deleted' -- k delete "$rs" --cascade=background
eventually_exact "rsbg: pods collected" 30 "0" -- count pods app=rsbg

# --- foreground: kubectl waits until the deployment is gone, which is after its dependents
deployment fg 3 >"$M/fg.yaml"
expect "create deployment fg" 'created' -- k apply -f "$M/fg.yaml"
eventually_exact "fg: pods made" 30 "3" -- count pods app=fg
expect "delete deployment --cascade=foreground" 'deployment.apps "fg" deleted' -- k delete deployment fg --cascade=foreground --timeout=60s
expect_exact "fg: no replicaset once delete returned" "0" -- count rs app=fg
expect_exact "fg: no pods once delete returned" "0" -- count pods app=fg
expect_fail "fg: deployment gone" 'NotFound|not found' -- k get deployment fg

# --- foreground held by a dependent's finalizer: the owner waits, finalizer and all
deployment hold 1 >"$M/hold.yaml"
expect "create deployment hold" 'created' -- k apply -f "$M/hold.yaml"
eventually_exact "hold: pod made" 30 "1" -- count pods app=hold
pod=$(k get pods -l app=hold -o name)
expect "hold: finalizer on the pod" 'patched' -- k patch "$pod" --type=merge -p '{"metadata":{"finalizers":["example.com/hold"]}}'
expect "delete deployment hold --wait=false" 'deleted' -- k delete deployment hold --cascade=foreground --wait=false
eventually "hold: deployment waits with foregroundDeletion" 20 'foregroundDeletion' -- k get deployment hold -o 'jsonpath={.metadata.finalizers}'
eventually "hold: pod marked for deletion" 20 '.+' -- k get "$pod" -o 'jsonpath={.metadata.deletionTimestamp}'
sleep 2
expect "hold: deployment still there while the pod is" 'hold' -- k get deployment hold -o name
expect "hold: release the pod" 'patched' -- k patch "$pod" --type=merge -p '{"metadata":{"finalizers":null}}'
eventually "hold: deployment goes after its pod" 30 'NotFound|not found' -- bash -c "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get deployment hold 2>&1 || true"

# --- orphan: the ReplicaSet and pods stay, without the reference to the deployment
deployment orph 2 >"$M/orph.yaml"
expect "create deployment orph" 'created' -- k apply -f "$M/orph.yaml"
eventually_exact "orph: pods made" 30 "2" -- count pods app=orph
expect "delete deployment --cascade=orphan" 'deployment.apps "orph" deleted' -- k delete deployment orph --cascade=orphan
expect_fail "orph: deployment gone" 'NotFound|not found' -- k get deployment orph
expect_exact "orph: replicaset kept" "1" -- count rs app=orph
expect_exact "orph: replicaset has no owner" "" -- k get rs -l app=orph -o 'jsonpath={.items[0].metadata.ownerReferences}'
sleep 2
expect_exact "orph: pods kept" "2" -- count pods app=orph

# --- an owner that was never there (wrong uid): the dependent is collected
cat >"$M/dangling.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: dangling
  ownerReferences:
  - {apiVersion: v1, kind: ConfigMap, name: nobody, uid: 00000000-0000-4000-8000-000000000000}
YAML
expect "create configmap with a dangling owner" 'created' -- k create -f "$M/dangling.yaml"
eventually "dangling: collected" 30 'NotFound|not found' -- bash -c "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get configmap dangling 2>&1 || true"

# --- namespaces: default ServiceAccount, kube-root-ca.crt, deletion
expect "create namespace" 'namespace/team created' -- k create namespace team
eventually "default service account" 20 'serviceaccount/default' -- k -n team get serviceaccount default -o name
eventually "kube-root-ca.crt" 20 'configmap/kube-root-ca.crt' -- k -n team get configmap kube-root-ca.crt -o name
ca_kubeconfig=$(k config view --raw -o 'jsonpath={.clusters[0].cluster.certificate-authority-data}' | base64 -d)
ca_published=$(k -n team get configmap kube-root-ca.crt -o 'jsonpath={.data.ca\.crt}')
if [[ -n $ca_published && $ca_published == "$ca_kubeconfig" ]]; then _report ok "kube-root-ca.crt holds the API server's CA"
else _report fail "kube-root-ca.crt holds the API server's CA" "published: $ca_published"; fi
expect "delete default service account" 'deleted' -- k -n team delete serviceaccount default
eventually "default service account made again" 20 'serviceaccount/default' -- k -n team get serviceaccount default -o name
expect "edit kube-root-ca.crt" 'patched' -- k -n team patch configmap kube-root-ca.crt --type=merge -p '{"data":{"ca.crt":"bogus"}}'
eventually "kube-root-ca.crt put back" 20 'BEGIN CERTIFICATE' -- k -n team get configmap kube-root-ca.crt -o 'jsonpath={.data.ca\.crt}'

deployment app 2 >"$M/app.yaml"
expect "namespace content: deployment" 'created' -- k -n team apply -f "$M/app.yaml"
expect "namespace content: configmap" 'created' -- k -n team create configmap settings --from-literal=a=b
expect "namespace content: held secret" 'created' -- k -n team create secret generic held --from-literal=a=b
expect "namespace content: finalizer" 'patched' -- k -n team patch secret held --type=merge -p '{"metadata":{"finalizers":["example.com/keep"]}}'
eventually_exact "namespace content: pods" 30 "2" -- bash -c "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' -n team get pods -o name | grep -c ."
expect "delete namespace --wait=false" 'namespace "team" deleted' -- k delete namespace team --wait=false
eventually "namespace Terminating" 10 'Terminating' -- k get namespace team -o 'jsonpath={.status.phase}'
eventually "NamespaceFinalizersRemaining names the finalizer" 30 'Some content in the namespace has finalizers remaining: example.com/keep in 1 resource instances' -- \
  k get namespace team -o 'jsonpath={.status.conditions[?(@.type=="NamespaceFinalizersRemaining")].message}'
eventually "NamespaceContentRemaining names the secret" 30 'Some resources are remaining: secrets. has 1 resource instances' -- \
  k get namespace team -o 'jsonpath={.status.conditions[?(@.type=="NamespaceContentRemaining")].message}'
expect_exact "namespace emptied but for the held secret" "secret/held" -- bash -c \
  "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' -n team get deployments,replicasets,pods,configmaps,secrets,serviceaccounts -o name"
expect "release the secret" 'patched' -- k -n team patch secret held --type=merge -p '{"metadata":{"finalizers":null}}'
eventually "namespace goes once its content is gone" 30 'NotFound|not found' -- bash -c "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get namespace team 2>&1 || true"

expect "create namespace again" 'created' -- k create namespace quick
expect "kubectl delete namespace (with its default wait) completes" 'namespace "quick" deleted' -- k delete namespace quick --timeout=60s

# --- custom resources: owned, owning, and swept with their namespace
cat >"$M/crd.yaml" <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
YAML
expect "create CRD" 'created' -- k apply -f "$M/crd.yaml"
eventually "CRD established" 20 'True' -- k get crd widgets.example.com -o 'jsonpath={.status.conditions[?(@.type=="Established")].status}'
expect "owner configmap" 'created' -- k create configmap widget-owner
owner_uid=$(k get configmap widget-owner -o 'jsonpath={.metadata.uid}')
cat >"$M/widget.yaml" <<YAML
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w1
  ownerReferences: [{apiVersion: v1, kind: ConfigMap, name: widget-owner, uid: $owner_uid}]
YAML
eventually "widget owned by a configmap" 20 'created' -- k apply -f "$M/widget.yaml"
widget_uid=$(k get widget w1 -o 'jsonpath={.metadata.uid}')
cat >"$M/widget-dep.yaml" <<YAML
apiVersion: v1
kind: ConfigMap
metadata:
  name: widget-dependent
  ownerReferences: [{apiVersion: example.com/v1, kind: Widget, name: w1, uid: $widget_uid}]
YAML
expect "configmap owned by the widget" 'created' -- k apply -f "$M/widget-dep.yaml"
sleep 1
expect "delete the owner configmap" 'deleted' -- k delete configmap widget-owner
eventually "widget collected" 30 'NotFound|not found' -- bash -c "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get widget w1 2>&1 || true"
eventually "widget's dependent collected" 30 'NotFound|not found' -- bash -c "timeout 20 '$KUBECTL_BIN' --kubeconfig '$TEST_TMP/kubeconfig' get configmap widget-dependent 2>&1 || true"
expect "namespace with a widget" 'created' -- k create namespace crns
cat >"$M/w2.yaml" <<'YAML'
apiVersion: example.com/v1
kind: Widget
metadata: {name: w2, namespace: crns}
YAML
expect "widget in it" 'created' -- k apply -f "$M/w2.yaml"
expect "delete namespace holding a custom resource" 'namespace "crns" deleted' -- k delete namespace crns --timeout=60s
expect_exact "its widget went with it" "" -- k get widgets -A -o name

finish
