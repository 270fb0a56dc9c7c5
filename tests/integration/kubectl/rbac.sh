#!/usr/bin/env bash
# RBAC with the real kubectl (users are --token-auth-file tokens): the default policy, rule
# matching (namespaces, resourceNames, subresources), upstream's 403 messages, escalation
# prevention and `bind`, a table of `kubectl auth can-i` answers from upstream's documented
# default roles each checked against what the server actually does, `auth can-i --list`,
# impersonation, anonymous requests, and the default policy reconciled at a restart without
# touching what users changed (then --anonymous-auth=false). RBAC follows writes
# asynchronously, as upstream's informers do: a case right after a binding polls (bounded).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib_kubectl.sh"
require_tool "${CURL:-curl}"
printf '%s\n' 'tok-alice,alice,1,' 'tok-eve,eve,2,' 'tok-adam,adam,3,' 'tok-binder,binder,4,' \
  'tok-rn,rn,5,' 'tok-imp,imp,6,' 'tok-esc,esc,8,' 'tok-nobody,nobody,7,' 'tok-root,root,0,system:masters' >"$TEST_TMP/tokens.csv"
KITE_ARGS=(--disable-scheduler --token-auth-file "$TEST_TMP/tokens.csv")
start_kite_api
admin_cert_files
printf 'apiVersion: v1\nkind: Config\n' >"$TEST_TMP/empty-kubeconfig"

# ku USER ARGS... — kubectl as USER (its token, no client certificate).
ku() {
  local user=$1
  shift
  timeout 60 "$KUBECTL_BIN" --kubeconfig "$TEST_TMP/empty-kubeconfig" --cache-dir "$TEST_TMP/kubectl-cache-$user" \
    --server "$BASE" --certificate-authority "$TEST_TMP/ca.crt" --token "tok-$user" "$@" </dev/null
}
# code USER METHOD PATH [BODY] — the HTTP status of a raw request as USER ("anon": no credentials).
code() {
  local user=$1 method=$2 path=$3 body=${4:-}
  local auth=()
  [[ $user == anon ]] || auth=(-H "Authorization: Bearer tok-$user")
  local type=application/json
  [[ $method == PATCH ]] && type=application/merge-patch+json
  "${CURL:-curl}" -sS --max-time 10 --cacert "$TEST_TMP/ca.crt" "${auth[@]}" -X "$method" -H "Content-Type: $type" \
    ${body:+--data-binary "$body"} -o "$TEST_TMP/resp" -w '%{http_code}' "$BASE$path"
}
# cani ARGS... — ku's output, whatever its exit code (auth can-i exits 1 for "no").
cani() { ku "$@" 2>/dev/null || true; }
# eventually NAME -- CMD...: CMD succeeds within 10 s.
eventually() {
  local name=$1
  shift 2
  local deadline=$((SECONDS + 10))
  while ((SECONDS < deadline)); do
    if "$@" >/dev/null 2>&1; then
      _report ok "$name"
      return 0
    fi
    sleep 0.1
  done
  _report fail "$name" "$("$@" 2>&1)"
}

# --- the default policy
expect "cluster-admin is bound to system:masters" 'Group +system:masters' -- k describe clusterrolebinding cluster-admin
expect "view aggregates system:aggregate-to-view" '"pods"' -- k get clusterrole view -o 'jsonpath={.rules}'
expect "edit aggregates view's rules too" 'pods/log' -- k get clusterrole edit -o 'jsonpath={.rules}'
expect "admin has roles and rolebindings" 'rolebindings' -- k get clusterrole admin -o 'jsonpath={.rules}'
expect "the autoupdate annotation" '^true$' \
  -- k get clusterrole system:basic-user -o 'jsonpath={.metadata.annotations.rbac\.authorization\.kubernetes\.io/autoupdate}'
expect "a controller's role is bound to its service account" 'ServiceAccount +replicaset-controller +kube-system' \
  -- k describe clusterrolebinding system:controller:replicaset-controller
# A role aggregated later joins view at once.
cat >"$TEST_TMP/widgets.yaml" <<'YAML'
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: widgets-view
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true"}
rules:
- {apiGroups: [example.com], resources: [widgets], verbs: [get, list]}
YAML
k apply -f "$TEST_TMP/widgets.yaml" >/dev/null
eventually "a new aggregate-to-view role is aggregated into view" -- \
  bash -c "timeout 10 $KUBECTL_BIN --kubeconfig $TEST_TMP/kubeconfig get clusterrole view -o jsonpath='{.rules}' | grep -q widgets"
eventually "… and into edit and admin" -- \
  bash -c "timeout 10 $KUBECTL_BIN --kubeconfig $TEST_TMP/kubeconfig get clusterrole admin -o jsonpath='{.rules}' | grep -q widgets"

# --- users and bindings
k create namespace ns-a >/dev/null
k create namespace ns-b >/dev/null
k -n ns-a run web --image=busybox --restart=Never >/dev/null
k -n ns-a run db --image=busybox --restart=Never >/dev/null
k -n ns-b run other --image=busybox --restart=Never >/dev/null
k -n ns-a create secret generic s1 --from-literal=k=v >/dev/null
k -n ns-a create rolebinding alice-view --clusterrole=view --user=alice >/dev/null
k -n ns-a create rolebinding eve-edit --clusterrole=edit --user=eve >/dev/null
k -n ns-a create rolebinding esc-edit --clusterrole=edit --user=esc >/dev/null
k -n ns-a create rolebinding adam-admin --clusterrole=admin --user=adam >/dev/null
k -n ns-a create role pod-web --verb=get --resource=pods --resource-name=web >/dev/null
k -n ns-a create rolebinding rn-web --role=pod-web --user=rn >/dev/null

eventually "view in ns-a: alice lists pods there" -- ku alice -n ns-a get pods
expect "alice sees the pods of ns-a" '^web ' -- ku alice -n ns-a get pods --no-headers
expect_fail "alice cannot list pods in ns-b (upstream message)" \
  'pods is forbidden: User "alice" cannot list resource "pods" in API group "" in the namespace "ns-b"' -- ku alice -n ns-b get pods
expect_fail "alice cannot read Secrets" \
  'secrets "s1" is forbidden: User "alice" cannot get resource "secrets" in API group "" in the namespace "ns-a"' \
  -- ku alice -n ns-a get secret s1
expect_fail "alice cannot create pods" \
  'pods is forbidden: User "alice" cannot create resource "pods" in API group "" in the namespace "ns-a"' \
  -- ku alice -n ns-a run x --image=busybox --restart=Never
expect_fail "alice cannot list nodes (cluster scope)" \
  'nodes is forbidden: User "alice" cannot list resource "nodes" in API group "" at the cluster scope' -- ku alice get nodes
expect "the pods/log subresource is granted by view (400: a pod without a node; not 403)" '^400$' \
  -- code alice GET /api/v1/namespaces/ns-a/pods/web/log
expect "pods/exec is not granted by view" '^403$' -- code alice POST '/api/v1/namespaces/ns-a/pods/web/exec?command=true'
eventually "resourceNames: rn gets pod web" -- ku rn -n ns-a get pod web
expect_fail "resourceNames: rn cannot get pod db" \
  'pods "db" is forbidden: User "rn" cannot get resource "pods" in API group "" in the namespace "ns-a"' -- ku rn -n ns-a get pod db
expect_fail "resourceNames: rn cannot list pods" 'cannot list resource "pods"' -- ku rn -n ns-a get pods

# --- escalation prevention
k create clusterrole rbac-writer --verb=create,get,list --resource=rolebindings.rbac.authorization.k8s.io,clusterrolebindings.rbac.authorization.k8s.io,roles.rbac.authorization.k8s.io >/dev/null
k create clusterrolebinding esc-rbac-writer --clusterrole=rbac-writer --user=esc >/dev/null
k create clusterrolebinding binder-rbac-writer --clusterrole=rbac-writer --user=binder >/dev/null
k create clusterrolebinding binder-edit --clusterrole=edit --user=binder >/dev/null
k create clusterrole bind-cluster-admin --verb=bind --resource=clusterroles.rbac.authorization.k8s.io --resource-name=cluster-admin >/dev/null
k create clusterrolebinding binder-may-bind --clusterrole=bind-cluster-admin --user=binder >/dev/null
# esc holds edit in ns-a and may write RBAC objects; binder also holds `bind` on cluster-admin.
eventually "esc can create clusterrolebindings" -- ku esc auth can-i create clusterrolebindings
expect_fail "edit cannot grant itself cluster-admin" \
  'clusterrolebindings\.rbac\.authorization\.k8s\.io "esc-root" is forbidden: user "esc" \(groups=\["system:authenticated"\]\) is attempting to grant RBAC permissions not currently held:' \
  -- ku esc create clusterrolebinding esc-root --clusterrole=cluster-admin --user=esc
expect_fail "… and the message lists what is missing" '\{APIGroups:\["\*"\], Resources:\["\*"\], Verbs:\["\*"\]\}' \
  -- ku esc create clusterrolebinding esc-root --clusterrole=cluster-admin --user=esc
expect_fail "edit cannot make a Role with rights it lacks" '\{APIGroups:\[""\], Resources:\["nodes"\], Verbs:\["get"\]\}' \
  -- ku esc -n ns-a create role r-nodes --verb=get --resource=nodes
expect "edit can make a Role with rights it holds" 'role.rbac.authorization.k8s.io/r-pods created' \
  -- ku esc -n ns-a create role r-pods --verb=get,list --resource=pods
expect "edit can bind others to rights it holds" 'rolebinding.rbac.authorization.k8s.io/r-pods-alice created' \
  -- ku esc -n ns-a create rolebinding r-pods-alice --role=r-pods --user=alice
expect_fail "… but not to a role it does not hold" 'is attempting to grant RBAC permissions not currently held' \
  -- ku esc -n ns-a create rolebinding alice-admin --clusterrole=admin --user=alice
expect "bind on cluster-admin: binder grants itself cluster-admin" 'clusterrolebinding.rbac.authorization.k8s.io/binder-root created' \
  -- ku binder create clusterrolebinding binder-root --clusterrole=cluster-admin --user=binder
eventually "… and then may do anything" -- ku binder get nodes

# --- a table of `kubectl auth can-i` answers (upstream's documented user-facing roles:
# view, edit, admin in ns-a; none for nobody; system:masters for root), each compared with what
# the server does with the same request (403 or not).
# path_of RESOURCE NS — the collection URL of a resource.
path_of() {
  local res=$1 ns=$2
  case $res in
    pods | secrets | configmaps | services | serviceaccounts | persistentvolumeclaims | events | resourcequotas | limitranges | endpoints)
      echo "/api/v1/namespaces/$ns/$res" ;;
    deployments | replicasets | statefulsets | daemonsets) echo "/apis/apps/v1/namespaces/$ns/$res" ;;
    jobs | cronjobs) echo "/apis/batch/v1/namespaces/$ns/$res" ;;
    roles | rolebindings) echo "/apis/rbac.authorization.k8s.io/v1/namespaces/$ns/$res" ;;
    leases) echo "/apis/coordination.k8s.io/v1/namespaces/$ns/$res" ;;
    poddisruptionbudgets) echo "/apis/policy/v1/namespaces/$ns/$res" ;;
    ingresses | networkpolicies) echo "/apis/networking.k8s.io/v1/namespaces/$ns/$res" ;;
    horizontalpodautoscalers) echo "/apis/autoscaling/v2/namespaces/$ns/$res" ;;
    nodes | namespaces | persistentvolumes) echo "/api/v1/$res" ;;
    clusterroles | clusterrolebindings) echo "/apis/rbac.authorization.k8s.io/v1/$res" ;;
    storageclasses) echo "/apis/storage.k8s.io/v1/$res" ;;
    *) fail "no path for $res" ;;
  esac
}
# actual USER VERB RESOURCE NS — "yes" unless the server answers 403 to that request.
actual() {
  local user=$1 verb=$2 res=$3 ns=$4 p c
  p=$(path_of "$res" "$ns")
  case $verb in
    get) c=$(code "$user" GET "$p/no-such-object") ;;
    list) c=$(code "$user" GET "$p") ;;
    watch) c=$(code "$user" GET "$p?watch=1&timeoutSeconds=1") ;;
    create)
      # A valid object (named; a binding to a role the user holds), so that nothing but
      # authorization can refuse it; nothing is stored (dryRun).
      local body='{"metadata":{"name":"can-i-probe"}}'
      [[ $res == rolebindings ]] && body='{"metadata":{"name":"can-i-probe"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},"subjects":[{"apiGroup":"rbac.authorization.k8s.io","kind":"User","name":"x"}]}'
      c=$(code "$user" POST "$p?dryRun=All" "$body") ;;
    update) c=$(code "$user" PUT "$p/no-such-object" '{}') ;;
    patch) c=$(code "$user" PATCH "$p/no-such-object" '{}') ;;
    delete) c=$(code "$user" DELETE "$p/no-such-object") ;;
    deletecollection) c=$(code "$user" DELETE "$p?dryRun=All&labelSelector=no-such-label%3Dx") ;;
  esac
  [[ $c == 403 || $c == 401 ]] && echo no || echo yes
}
CASES="
alice get pods ns-a yes
alice list pods ns-a yes
alice watch pods ns-a yes
alice create pods ns-a no
alice delete pods ns-a no
alice get pods ns-b no
alice get secrets ns-a no
alice list configmaps ns-a yes
alice list services ns-a yes
alice list deployments ns-a yes
alice patch deployments ns-a no
alice list jobs ns-a yes
alice list cronjobs ns-a yes
alice list roles ns-a no
alice list nodes - no
alice list namespaces - no
alice list poddisruptionbudgets ns-a yes
alice list ingresses ns-a yes
alice list horizontalpodautoscalers ns-a yes
alice list events ns-a yes
alice list resourcequotas ns-a yes
alice create leases ns-a no
eve get secrets ns-a yes
eve create secrets ns-a yes
eve create pods ns-a yes
eve delete pods ns-a yes
eve update deployments ns-a yes
eve deletecollection pods ns-a yes
eve create jobs ns-a yes
eve create leases ns-a yes
eve create rolebindings ns-a no
eve list rolebindings ns-a no
eve create resourcequotas ns-a no
eve update resourcequotas ns-a no
eve create networkpolicies ns-a yes
eve create pods ns-b no
eve list nodes - no
adam list roles ns-a yes
adam create rolebindings ns-a yes
adam delete roles ns-a yes
adam create pods ns-a yes
adam get secrets ns-a yes
adam create resourcequotas ns-a no
adam list limitranges ns-a yes
adam get pods ns-b no
adam create namespaces - no
nobody list pods ns-a no
nobody get secrets ns-a no
nobody list nodes - no
nobody create namespaces - no
nobody list clusterroles - no
root create namespaces - yes
root delete nodes - yes
root list clusterrolebindings - yes
root get secrets ns-b yes
root deletecollection pods ns-b yes
root list storageclasses - yes
root list persistentvolumes - yes
"
n=0
while read -r user verb res ns want; do
  [[ -n $user ]] || continue
  n=$((n + 1))
  nsflag=()
  [[ $ns == - ]] || nsflag=(-n "$ns")
  got=$(cani "$user" auth can-i "$verb" "$res" "${nsflag[@]}")
  did=$(actual "$user" "$verb" "$res" "${ns/#-/default}")
  if [[ $got == "$want" && $did == "$want" ]]; then
    _report ok "can-i $user $verb $res $ns: $want"
  else
    _report fail "can-i $user $verb $res $ns" "wanted $want; kubectl auth can-i said '$got', the server did '$did'"
  fi
done <<<"$CASES"
((n >= 50)) || fail "only $n can-i cases"

expect "auth can-i --list as alice shows view's pods rule" '^pods +\[\] +\[\] +\[get list watch\]' -- ku alice -n ns-a auth can-i --list
expect "auth can-i --list shows the discovery URLs" '\[/api/\*\]' -- ku alice -n ns-a auth can-i --list
list_has_secrets() { ku alice -n ns-a auth can-i --list | grep -q '^secrets '; }
if list_has_secrets; then _report fail "alice's --list leaves out secrets"; else _report ok "alice's --list leaves out secrets"; fi
expect "auth can-i --list as root: everything" '^\*\.\* +\[\] +\[\] +\[\*\]' -- ku root auth can-i --list

# --- impersonation
k create clusterrole impersonator --verb=impersonate --resource=users,groups,serviceaccounts >/dev/null
k create clusterrolebinding imp-impersonator --clusterrole=impersonator --user=imp >/dev/null
eventually "imp may impersonate" -- ku imp auth can-i impersonate users
expect "imp acts as alice: alice's pods" '^web ' -- ku imp --as=alice -n ns-a get pods --no-headers
expect_exact "imp as alice cannot read secrets" "no" -- cani imp --as=alice -n ns-a auth can-i get secrets
expect "whoami shows the impersonated user" 'alice' -- ku imp --as=alice auth whoami
expect "impersonating a group adds its rights" 'yes' -- ku imp --as=nobody --as-group=system:masters auth can-i delete nodes
expect_fail "alice may not impersonate (upstream message)" \
  'users "eve" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope' \
  -- ku alice --as=eve get pods -n ns-a
k create clusterrole impersonate-users --verb=impersonate --resource=users >/dev/null
k create clusterrolebinding rn-impersonate-users --clusterrole=impersonate-users --user=rn >/dev/null
eventually "rn may impersonate users" -- ku rn --as=alice -n ns-a get pods
expect_fail "… but not groups" 'groups "system:masters" is forbidden: User "rn" cannot impersonate resource "groups" in API group "" at the cluster scope' \
  -- ku rn --as=rn --as-group=system:masters get nodes

# --- anonymous requests
for p in healthz livez readyz version; do
  expect "anonymous GET /$p is allowed" '^200$' -- code anon GET "/$p"
done
expect "anonymous /api is 401" '^401$' -- code anon GET /api
expect "anonymous pods is 401" '^401$' -- code anon GET /api/v1/namespaces/default/pods
expect "the 401 is a Status" '"reason":"Unauthorized"' -- cat "$TEST_TMP/resp"
expect "authenticated users read discovery" '^200$' -- code nobody GET /apis

# --- a restart reconciles the default policy, keeping users' changes (and --anonymous-auth=false)
k patch clusterrole system:basic-user --type=json \
  -p '[{"op":"add","path":"/rules/-","value":{"apiGroups":[""],"resources":["configmaps"],"verbs":["get"]}}]' >/dev/null
k patch clusterrole system:monitoring --type=merge \
  -p '{"metadata":{"annotations":{"rbac.authorization.kubernetes.io/autoupdate":"false"}},"rules":[]}' >/dev/null
k patch clusterrole system:node-problem-detector --type=merge -p '{"rules":[]}' >/dev/null
k delete clusterrole system:heapster >/dev/null
kill -TERM "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
rm -f "$TEST_TMP/kubeconfig"
KITE_ARGS+=(--anonymous-auth=false)
start_kite_api
admin_cert_files
expect "a deleted default role is recreated" 'system:heapster' -- k get clusterrole system:heapster -o name
expect "a user's rule added to a default role stays" '"configmaps"' -- k get clusterrole system:basic-user -o 'jsonpath={.rules}'
expect "… and the default rules are there" 'selfsubjectaccessreviews' -- k get clusterrole system:basic-user -o 'jsonpath={.rules}'
expect "default rules removed by a user come back" 'nodes' -- k get clusterrole system:node-problem-detector -o 'jsonpath={.rules}'
expect_exact "autoupdate=false leaves a role alone" "[]" -- k get clusterrole system:monitoring -o 'jsonpath={.rules}'
expect "users' bindings survive" 'alice-view' -- k -n ns-a get rolebindings -o name
for p in healthz version; do
  expect "--anonymous-auth=false: anonymous /$p is 401" '^401$' -- code anon GET "/$p"
done
expect "--anonymous-auth=false: a token user still reads /healthz" '^200$' -- code nobody GET /healthz

echo "$PASSED passed, $FAILED failed"
((FAILED == 0))
