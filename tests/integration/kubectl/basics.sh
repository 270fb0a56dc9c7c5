#!/usr/bin/env bash
# kubectl basics against kite-server: version, discovery, explain, cluster-info, the typed
# `create` subcommands (protobuf bodies), get in every output format, describe, label,
# annotate, delete, auth. Output is asserted as a user reads it.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
# The API server alone: tables assert the stored state, which controllers and the scheduler
# would change.
KITE_ARGS=(--disable-controller-manager --disable-scheduler)
start_kite_api

# --- version and discovery
expect "version prints the server version" 'Server Version: v1\.32\.[0-9]+\+kite' -- k version
expect "api-resources lists pods" '^pods +po +v1 +true +Pod$' -- k api-resources
expect "api-resources lists deployments" '^deployments +deploy +apps/v1 +true +Deployment$' -- k api-resources
expect "api-versions lists apps/v1" '^apps/v1$' -- k api-versions
expect "explain pod" 'KIND: +Pod' -- k explain pod
expect "explain deployment.spec.template" 'FIELD: +template <PodTemplateSpec>' -- k explain deployment.spec.template
expect "explain lists fields" 'containers\s+<\[\]Container> -required-|containers\s+<\[\]Container>' -- k explain pod.spec
expect "cluster-info" 'Kubernetes control plane is running at https://127\.0\.0\.1' -- k cluster-info

# --- typed create (kubectl 1.32 sends protobuf bodies)
expect "create namespace" '^namespace/demo created$' -- k create namespace demo
expect "create configmap" '^configmap/cfg created$' -- k create configmap cfg -n demo --from-literal=a=1 --from-literal=b=2
expect "create secret generic" '^secret/s1 created$' -- k create secret generic s1 -n demo --from-literal=password=hunter2
expect "create deployment" '^deployment.apps/web created$' -- k create deployment web -n demo --image=nginx:1.27 --replicas=2 --port=80
expect "create service clusterip" '^service/web created$' -- k create service clusterip web -n demo --tcp=80:8080
expect "create job" '^job.batch/once created$' -- k create job once -n demo --image=busybox -- echo hi
expect "create cronjob" '^cronjob.batch/tick created$' -- k create cronjob tick -n demo --image=busybox --schedule='*/5 * * * *' -- date
expect "create serviceaccount" '^serviceaccount/bot created$' -- k create serviceaccount bot -n demo
expect "create role" '^role.rbac.authorization.k8s.io/reader created$' -- k create role reader -n demo --verb=get,list --resource=pods
expect "create rolebinding" '^rolebinding.rbac.authorization.k8s.io/reader-bot created$' -- \
  k create rolebinding reader-bot -n demo --role=reader --serviceaccount=demo:bot
expect_fail "duplicate create is AlreadyExists" 'Error from server \(AlreadyExists\): namespaces "demo" already exists' -- \
  k create namespace demo

# --- get, in the formats users script against
expect "get configmap table" '^cfg +2 +[0-9]+s$' -- k get configmap cfg -n demo
expect "get secret table" '^s1 +Opaque +1 +[0-9]+s$' -- k get secret s1 -n demo
expect "get deployment table" '^web +0/2 +0 +0 +[0-9]+s$' -- k get deployment web -n demo
expect "get deployment wide" 'web +0/2 +0 +0 +[0-9]+s +nginx +nginx:1\.27 +app=web' -- k get deployment web -n demo -o wide
expect "get service shows a cluster IP" '^web +ClusterIP +10\.43\.[0-9]+\.[0-9]+ +<none> +80/TCP +[0-9]+s$' -- k get service web -n demo
expect "get -o name" '^configmap/cfg$' -- k get configmap -n demo -o name
expect_exact "get -o jsonpath" "1 2" -- k get configmap cfg -n demo -o 'jsonpath={.data.a} {.data.b}'
expect "get -o yaml has defaults" 'imagePullPolicy: IfNotPresent' -- k get deployment web -n demo -o yaml
expect "get -o json" '"kind": "Deployment"' -- k get deployment web -n demo -o json
expect "custom-columns" '^web +2$' -- k get deployment -n demo -o custom-columns=NAME:.metadata.name,REPLICAS:.spec.replicas --no-headers
expect "get -A shows the namespace column" '^demo +cfg ' -- k get configmaps -A
expect "label selector" '^web ' -- k get deployments -n demo -l app=web
expect "label selector excludes" 'No resources found in demo namespace' -- k get deployments -n demo -l app=nope
expect "set-based selector" '^web ' -- k get deployments -n demo -l 'app in (web,api),!missing'
expect "field selector" '^cfg ' -- k get configmaps -n demo --field-selector metadata.name=cfg
expect_fail "unsupported field selector" 'field label not supported: spec.foo' -- k get configmaps -n demo --field-selector spec.foo=x
expect "sort-by" '^cfg' -- k get configmaps -n demo --sort-by=.metadata.name
expect "get all" 'deployment.apps/web' -- k get all -n demo
expect "chunked list" '^cfg' -- k get configmaps -n demo --chunk-size=1

# --- describe, label, annotate
expect "describe deployment" 'Selector: +app=web' -- k describe deployment web -n demo
expect "describe configmap" 'Name: +cfg' -- k describe configmap cfg -n demo
expect "label" '^deployment.apps/web labeled$' -- k label deployment web -n demo tier=frontend
expect "label shows" 'tier=frontend' -- k get deployment web -n demo --show-labels
expect_fail "label with a stale resource version" 'Error from server \(Conflict\): Operation cannot be fulfilled on deployments.apps "web": the object has been modified' -- \
  k label deployment web -n demo tier=x --overwrite --resource-version=1
expect "remove a label" '^deployment.apps/web unlabeled$' -- k label deployment web -n demo tier-
expect "annotate" '^deployment.apps/web annotated$' -- k annotate deployment web -n demo owner=team-a
expect_exact "annotation stored" "team-a" -- k get deployment web -n demo -o 'jsonpath={.metadata.annotations.owner}'

# --- generation bumps on spec changes only
expect_exact "generation after label" "1" -- k get deployment web -n demo -o 'jsonpath={.metadata.generation}'

# --- auth
expect "auth whoami" '^Username +system:admin$' -- k auth whoami
expect "auth whoami groups" '^Groups +\[system:masters system:authenticated\]$' -- k auth whoami
expect_exact "auth can-i" "yes" -- k auth can-i create pods -n demo
expect "auth can-i --list" '\*\.\* +\[\] +\[\] +\[\*\]' -- k auth can-i --list

# --- delete
expect "delete configmap" '^configmap "cfg" deleted$' -- k delete configmap cfg -n demo
expect_fail "get deleted object" 'Error from server \(NotFound\): configmaps "cfg" not found' -- k get configmap cfg -n demo
expect "delete -l" 'deployment.apps "web" deleted' -- k delete deployments -n demo -l app=web
expect "delete --all" 'secret "s1" deleted' -- k delete secrets --all -n demo
expect_fail "delete missing" 'Error from server \(NotFound\): configmaps "nope" not found' -- k delete configmap nope -n demo
expect "dry-run=server changes nothing" 'configmap/ghost created \(server dry run\)' -- k create configmap ghost -n demo --dry-run=server
expect_fail "dry-run object is absent" 'NotFound' -- k get configmap ghost -n demo

finish
