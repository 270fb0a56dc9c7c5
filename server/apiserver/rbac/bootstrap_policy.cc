#include "server/apiserver/rbac/bootstrap_policy.h"

#include <boost/json.hpp>

#include <string_view>
#include <vector>

#include "api/object.h"
#include "base/log.h"
#include "api/time.h"
#include "server/apiserver/rbac/rules.h"
#include "server/apiserver/storage/registry.h"

namespace kite::apiserver::rbac {
namespace json = boost::json;

namespace {

// One rule, lists comma-separated. `groups` "" is the core group (",apps" is core and apps);
// a rule with `urls` has no groups or resources.
struct R {
  std::string_view verbs, groups, resources, names = "", urls = "";
};
struct DefaultRole {
  std::string_view name;
  std::vector<R> rules;
  std::string_view aggregate_to = "";    // label rbac.authorization.k8s.io/aggregate-to-<x>: "true"
  std::string_view aggregate_from = "";  // aggregationRule selecting aggregate-to-<x>
};
// A ClusterRoleBinding named after its ClusterRole. Subjects: "User:x", "Group:x",
// "ServiceAccount:ns/x".
struct DefaultBinding {
  std::string_view role;
  std::vector<std::string_view> subjects;
};

constexpr std::string_view kRW = "create,delete,deletecollection,patch,update";
constexpr std::string_view kRead = "get,list,watch";
const R kEvents{"create,patch,update", ",events.k8s.io", "events"};

// Upstream's bootstrappolicy (cluster-roles.yaml, controller-roles.yaml of 1.32), read for its
// facts.
const std::vector<DefaultRole>& Roles() {
  static const std::vector<DefaultRole> roles = {
      {"cluster-admin", {{"*", "*", "*"}, {"*", "", "", "", "*"}}},
      {"admin", {}, "", "admin"},
      {"edit", {}, "admin", "edit"},
      {"view", {}, "edit", "view"},
      {"system:aggregate-to-admin",
       {{"create", "authorization.k8s.io", "localsubjectaccessreviews"},
        {"create,delete,deletecollection,get,list,patch,update,watch", "rbac.authorization.k8s.io", "rolebindings,roles"}},
       "admin"},
      {"system:aggregate-to-edit",
       {{kRead, "", "pods/attach,pods/exec,pods/portforward,pods/proxy,secrets,services/proxy"},
        {"impersonate", "", "serviceaccounts"},
        {kRW, "", "pods,pods/attach,pods/exec,pods/portforward,pods/proxy"},
        {"create", "", "pods/eviction"},
        {kRW, "", "configmaps,events,persistentvolumeclaims,replicationcontrollers,replicationcontrollers/scale,secrets,serviceaccounts,services,services/proxy"},
        {"create", "", "serviceaccounts/token"},
        {kRW, "apps", "daemonsets,deployments,deployments/rollback,deployments/scale,replicasets,replicasets/scale,statefulsets,statefulsets/scale"},
        {kRW, "autoscaling", "horizontalpodautoscalers"},
        {kRW, "batch", "cronjobs,jobs"},
        {kRW, "extensions", "daemonsets,deployments,deployments/rollback,deployments/scale,ingresses,networkpolicies,replicasets,replicasets/scale,replicationcontrollers/scale"},
        {kRW, "policy", "poddisruptionbudgets"},
        {kRW, "networking.k8s.io", "ingresses,networkpolicies"},
        {"create,delete,deletecollection,get,list,patch,update,watch", "coordination.k8s.io", "leases"}},
       "edit"},
      {"system:aggregate-to-view",
       {{kRead, "", "configmaps,endpoints,persistentvolumeclaims,persistentvolumeclaims/status,pods,replicationcontrollers,replicationcontrollers/scale,serviceaccounts,services,services/status"},
        {kRead, "", "bindings,events,limitranges,namespaces/status,pods/log,pods/status,replicationcontrollers/status,resourcequotas,resourcequotas/status"},
        {kRead, "", "namespaces"},
        {kRead, "discovery.k8s.io", "endpointslices"},
        {kRead, "apps", "controllerrevisions,daemonsets,daemonsets/status,deployments,deployments/scale,deployments/status,replicasets,replicasets/scale,replicasets/status,statefulsets,statefulsets/scale,statefulsets/status"},
        {kRead, "autoscaling", "horizontalpodautoscalers,horizontalpodautoscalers/status"},
        {kRead, "batch", "cronjobs,cronjobs/status,jobs,jobs/status"},
        {kRead, "extensions", "daemonsets,daemonsets/status,deployments,deployments/scale,deployments/status,ingresses,ingresses/status,networkpolicies,replicasets,replicasets/scale,replicasets/status,replicationcontrollers/scale"},
        {kRead, "policy", "poddisruptionbudgets,poddisruptionbudgets/status"},
        {kRead, "networking.k8s.io", "ingresses,ingresses/status,networkpolicies"}},
       "view"},
      {"system:auth-delegator",
       {{"create", "authentication.k8s.io", "tokenreviews"}, {"create", "authorization.k8s.io", "subjectaccessreviews"}}},
      {"system:basic-user",
       {{"create", "authorization.k8s.io", "selfsubjectaccessreviews,selfsubjectrulesreviews"},
        {"create", "authentication.k8s.io", "selfsubjectreviews"}}},
      {"system:certificates.k8s.io:certificatesigningrequests:nodeclient",
       {{"create", "certificates.k8s.io", "certificatesigningrequests/nodeclient"}}},
      {"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient",
       {{"create", "certificates.k8s.io", "certificatesigningrequests/selfnodeclient"}}},
      {"system:certificates.k8s.io:kube-apiserver-client-approver",
       {{"approve", "certificates.k8s.io", "signers", "kubernetes.io/kube-apiserver-client"}}},
      {"system:certificates.k8s.io:kube-apiserver-client-kubelet-approver",
       {{"approve", "certificates.k8s.io", "signers", "kubernetes.io/kube-apiserver-client-kubelet"}}},
      {"system:certificates.k8s.io:kubelet-serving-approver",
       {{"approve", "certificates.k8s.io", "signers", "kubernetes.io/kubelet-serving"}}},
      {"system:certificates.k8s.io:legacy-unknown-approver",
       {{"approve", "certificates.k8s.io", "signers", "kubernetes.io/legacy-unknown"}}},
      {"system:discovery",
       {{"get", "", "", "", "/api,/api/*,/apis,/apis/*,/healthz,/livez,/openapi,/openapi/*,/readyz,/version,/version/"}}},
      {"system:heapster", {{kRead, "", "events,namespaces,nodes,pods"}, {kRead, "extensions", "deployments"}}},
      {"system:kube-aggregator", {{kRead, "", "endpoints,services"}}},
      {"system:kube-controller-manager",
       {kEvents,
        {"create", "coordination.k8s.io", "leases"},
        {"get,update", "coordination.k8s.io", "leases", "kube-controller-manager"},
        {"create", "", "secrets,serviceaccounts"},
        {"delete", "", "secrets"},
        {"get", "", "configmaps,namespaces,secrets,serviceaccounts"},
        {"update", "", "secrets,serviceaccounts"},
        {"create", "authentication.k8s.io", "tokenreviews"},
        {"create", "authorization.k8s.io", "subjectaccessreviews"},
        {"list,watch", "*", "*"},
        {"create", "", "serviceaccounts/token"}}},
      {"system:kube-dns", {{"list,watch", "", "endpoints,services"}}},
      {"system:kube-scheduler",
       {kEvents,
        {"create", "coordination.k8s.io", "leases"},
        {"get,update", "coordination.k8s.io", "leases", "kube-scheduler"},
        {kRead, "", "nodes"},
        {"delete,get,list,watch", "", "pods"},
        {"create", "", "bindings,pods/binding"},
        {"patch,update", "", "pods/status"},
        {kRead, "", "replicationcontrollers,services"},
        {kRead, "apps,extensions", "replicasets"},
        {kRead, "apps", "statefulsets"},
        {kRead, "policy", "poddisruptionbudgets"},
        {kRead, "", "persistentvolumeclaims,persistentvolumes"},
        {"create", "authentication.k8s.io", "tokenreviews"},
        {"create", "authorization.k8s.io", "subjectaccessreviews"},
        {kRead, "storage.k8s.io", "csinodes"},
        {kRead, "", "namespaces"},
        {kRead, "storage.k8s.io", "csidrivers"},
        {kRead, "storage.k8s.io", "csistoragecapacities"},
        // Not in upstream's role: kite's scheduler resolves a pod's priority from its class
        // itself (an informer on PriorityClasses) where upstream's relies on admission alone.
        {kRead, "scheduling.k8s.io", "priorityclasses"}}},
      {"system:kubelet-api-admin",
       {{kRead, "", "nodes"}, {"proxy", "", "nodes"}, {"*", "", "nodes/log,nodes/metrics,nodes/proxy,nodes/stats"}}},
      {"system:monitoring",
       {{"get", "", "", "", "/healthz,/healthz/*,/livez,/livez/*,/metrics,/metrics/slis,/readyz,/readyz/*"}}},
      {"system:node",
       {{"create", "authentication.k8s.io", "tokenreviews"},
        {"create", "authorization.k8s.io", "localsubjectaccessreviews,subjectaccessreviews"},
        {kRead, "", "services"},
        {"create,get,list,watch", "", "nodes"},
        {"patch,update", "", "nodes/status"},
        {"patch,update", "", "nodes"},
        {"create,patch,update", "", "events"},
        {kRead, "", "pods"},
        {"create,delete", "", "pods"},
        {"patch,update", "", "pods/status"},
        {"create", "", "pods/eviction"},
        {kRead, "", "configmaps,secrets"},
        {"get", "", "persistentvolumeclaims,persistentvolumes"},
        {"get", "", "endpoints"},
        {"create,get,list,watch", "certificates.k8s.io", "certificatesigningrequests"},
        {"create,delete,get,patch,update", "coordination.k8s.io", "leases"},
        {"get", "storage.k8s.io", "volumeattachments"},
        {"create", "", "serviceaccounts/token"},
        {"get,patch,update", "", "persistentvolumeclaims/status"},
        {kRead, "storage.k8s.io", "csidrivers"},
        {"create,delete,get,patch,update", "storage.k8s.io", "csinodes"},
        {kRead, "node.k8s.io", "runtimeclasses"}}},
      {"system:node-bootstrapper", {{"create,get,list,watch", "certificates.k8s.io", "certificatesigningrequests"}}},
      {"system:node-problem-detector", {{"get", "", "nodes"}, {"patch", "", "nodes/status"}, kEvents}},
      {"system:node-proxier",
       {{"list,watch", "", "endpoints,services"}, {kRead, "", "nodes"}, kEvents, {"list,watch", "discovery.k8s.io", "endpointslices"}}},
      // k3s's role for its node-side controllers (kube-router's network policies, flannel): what
      // the network policy controller (agent/netpol/) reads.
      {"system:k3s-controller",
       {{kRead, "", "nodes"}, {"list,watch", "", "namespaces,pods"}, {"list,watch", "networking.k8s.io", "networkpolicies"}}},
      {"system:persistent-volume-provisioner",
       {{"create,delete,get,list,watch", "", "persistentvolumes"},
        {"get,list,update,watch", "", "persistentvolumeclaims"},
        {kRead, "storage.k8s.io", "storageclasses"},
        {"watch", "", "events"},
        kEvents}},
      {"system:public-info-viewer", {{"get", "", "", "", "/healthz,/livez,/readyz,/version,/version/"}}},
      {"system:service-account-issuer-discovery",
       {{"get", "", "", "", "/.well-known/openid-configuration,/openid/v1/jwks"}}},
      {"system:volume-scheduler",
       {{"get,list,patch,update,watch", "", "persistentvolumes"},
        {kRead, "storage.k8s.io", "storageclasses"},
        {"get,list,patch,update,watch", "", "persistentvolumeclaims"}}},
      // The controllers kite runs, each as upstream's controller-manager runs it.
      {"system:controller:clusterrole-aggregation-controller",
       {{"escalate,get,list,patch,update,watch", "rbac.authorization.k8s.io", "clusterroles"}}},
      {"system:controller:cronjob-controller",
       {{"get,list,update,watch", "batch", "cronjobs"},
        {"create,delete,get,list,patch,update,watch", "batch", "jobs"},
        {"update", "batch", "cronjobs/status"},
        {"update", "batch", "cronjobs/finalizers"},
        {"delete,list,watch", "", "pods"},
        kEvents}},
      {"system:controller:daemon-set-controller",
       {{kRead, "apps,extensions", "daemonsets"},
        {"update", "apps,extensions", "daemonsets/status"},
        {"update", "apps,extensions", "daemonsets/finalizers"},
        {"list,watch", "", "nodes"},
        {"create,delete,list,patch,watch", "", "pods"},
        {"create", "", "pods/binding"},
        {"create,delete,get,list,patch,update,watch", "apps", "controllerrevisions"},
        kEvents}},
      {"system:controller:deployment-controller",
       // patch: kite's controller writes the revision annotation with a merge patch.
       {{"get,list,patch,update,watch", "apps,extensions", "deployments"},
        {"update", "apps,extensions", "deployments/status"},
        {"update", "apps,extensions", "deployments/finalizers"},
        {"create,delete,get,list,patch,update,watch", "apps,extensions", "replicasets"},
        {"get,list,update,watch", "", "pods"},
        kEvents}},
      {"system:controller:disruption-controller",
       {{kRead, "apps,extensions", "deployments"},
        {kRead, "apps,extensions", "replicasets"},
        {kRead, "", "replicationcontrollers"},
        {kRead, "policy", "poddisruptionbudgets"},
        {kRead, "apps", "statefulsets"},
        {"update", "policy", "poddisruptionbudgets/status"},
        {"patch,update", "", "pods/status"},
        {"get", "*", "*/scale"},
        kEvents}},
      {"system:controller:endpoint-controller",
       {{kRead, "", "pods,services"},
        {"create,delete,get,list,update,watch", "", "endpoints"},
        {"create", "", "endpoints/restricted"},
        kEvents}},
      {"system:controller:endpointslice-controller",
       {{kRead, "", "nodes,pods,services"},
        {"update", "", "services/finalizers"},
        {"create,delete,get,list,update,watch", "discovery.k8s.io", "endpointslices"},
        kEvents}},
      {"system:controller:generic-garbage-collector", {{"delete,get,list,patch,update,watch", "*", "*"}, kEvents}},
      {"system:controller:horizontal-pod-autoscaler",
       {{kRead, "autoscaling", "horizontalpodautoscalers"},
        {"update", "autoscaling", "horizontalpodautoscalers/status"},
        {"get,update", "*", "*/scale"},
        // Not in upstream's role: kite's HPA reads the target itself (its replicas and
        // selector) and writes its scale with a merge patch; upstream's reads and updates Scale.
        {"patch", "*", "*/scale"},
        {"get", "apps", "deployments,replicasets,statefulsets"},
        {"get", "", "replicationcontrollers"},
        {"list,watch", "", "pods"},
        {"list,watch", "metrics.k8s.io", "pods"},
        {kRead, "custom.metrics.k8s.io", "*"},
        {kRead, "external.metrics.k8s.io", "*"},
        kEvents}},
      {"system:controller:job-controller",
       {{"get,list,patch,update,watch", "batch", "jobs"},
        {"update", "batch", "jobs/status"},
        {"update", "batch", "jobs/finalizers"},
        {"create,delete,list,patch,watch", "", "pods"},
        kEvents}},
      {"system:controller:namespace-controller",
       {{"delete,get,list,watch", "", "namespaces"},
        {"update", "", "namespaces/finalize,namespaces/status"},
        {"delete,deletecollection,get,list,watch", "*", "*"}}},
      {"system:controller:node-controller",
       {{"delete,get,list,patch,update,watch", "", "nodes"},
        {"patch,update", "", "nodes/status"},
        {"patch,update", "", "pods/status"},
        {"delete,get,list,watch", "", "pods"},
        kEvents}},
      {"system:controller:persistent-volume-binder",
       {{"create,delete,get,list,update,watch", "", "persistentvolumes"},
        {"update", "", "persistentvolumes/status"},
        {"get,list,update,watch", "", "persistentvolumeclaims"},
        {"update", "", "persistentvolumeclaims/status"},
        {"create,delete,get,list,watch", "", "pods"},
        {kRead, "storage.k8s.io", "storageclasses"},
        {"list,watch", "", "nodes"},
        kEvents,
        {"watch", "", "events"}}},
      {"system:controller:pod-garbage-collector",
       {{"delete,list,watch", "", "pods"}, {kRead, "", "nodes"}, {"patch", "", "pods/status"}}},
      {"system:controller:replicaset-controller",
       {{"get,list,update,watch", "apps,extensions", "replicasets"},
        {"update", "apps,extensions", "replicasets/status"},
        {"update", "apps,extensions", "replicasets/finalizers"},
        {"create,delete,list,patch,watch", "", "pods"},
        kEvents}},
      {"system:controller:replication-controller",
       {{"get,list,update,watch", "", "replicationcontrollers"},
        {"update", "", "replicationcontrollers/status"},
        {"update", "", "replicationcontrollers/finalizers"},
        {"create,delete,list,patch,watch", "", "pods"},
        kEvents}},
      {"system:controller:resourcequota-controller",
       {{"list,watch", "*", "*"}, {"update", "", "resourcequotas/status"}, kEvents}},
      {"system:controller:root-ca-cert-publisher", {{"create,update", "", "configmaps"}, kEvents}},
      {"system:controller:service-account-controller", {{"create", "", "serviceaccounts"}, kEvents}},
      {"system:controller:statefulset-controller",
       {{"list,watch", "", "pods"},
        {kRead, "apps", "statefulsets"},
        {"update", "apps", "statefulsets/status"},
        {"update", "apps", "statefulsets/finalizers"},
        {"create,delete,get,patch,update", "", "pods"},
        {"create,delete,get,list,patch,update,watch", "apps", "controllerrevisions"},
        {"create,get,list,watch", "", "persistentvolumeclaims"},
        {"delete,update", "", "persistentvolumeclaims"},
        {"update", "", "pods/finalizers"},
        kEvents}},
      {"system:controller:taint-eviction-controller",
       {{"delete,get,list,watch", "", "pods"}, {"patch", "", "pods/status"}, kEvents}},
      {"system:controller:certificate-controller",
       {{"delete,get,list,watch", "certificates.k8s.io", "certificatesigningrequests"},
        // kite's controllers write these subresources with merge patches (upstream's with updates).
        {"patch,update", "certificates.k8s.io", "certificatesigningrequests/approval,certificatesigningrequests/status"},
        {"approve", "certificates.k8s.io", "signers", "kubernetes.io/kube-apiserver-client-kubelet,kubernetes.io/legacy-unknown"},
        {"sign", "certificates.k8s.io", "signers",
         "kubernetes.io/kube-apiserver-client,kubernetes.io/kube-apiserver-client-kubelet,kubernetes.io/kubelet-serving,kubernetes.io/legacy-unknown"},
        {"create", "authorization.k8s.io", "subjectaccessreviews"},
        kEvents}},
      {"system:controller:ttl-after-finished-controller", {{"delete,get,list,watch", "batch", "jobs"}, kEvents}},
  };
  return roles;
}

const std::vector<DefaultBinding>& Bindings() {
  static const std::vector<DefaultBinding> bindings = {
      {"cluster-admin", {"Group:system:masters"}},
      {"system:basic-user", {"Group:system:authenticated"}},
      {"system:discovery", {"Group:system:authenticated"}},
      {"system:public-info-viewer", {"Group:system:authenticated", "Group:system:unauthenticated"}},
      {"system:kube-controller-manager", {"User:system:kube-controller-manager"}},
      {"system:kube-dns", {"ServiceAccount:kube-system/kube-dns"}},
      {"system:kube-scheduler", {"User:system:kube-scheduler"}},
      {"system:volume-scheduler", {"User:system:kube-scheduler"}},
      {"system:monitoring", {"Group:system:monitoring"}},
      {"system:node", {}},  // the Node authorizer grants kubelets their rights
      // kite's agents run the service proxy in-process under the node's own identity (k3s gives
      // it a certificate of its own, system:kube-proxy): the nodes get its role too.
      {"system:node-proxier", {"User:system:kube-proxy", "Group:system:nodes"}},
      // Likewise the network policy controller, which k3s runs as system:k3s-controller.
      {"system:k3s-controller", {"User:system:k3s-controller", "Group:system:nodes"}},
      {"system:service-account-issuer-discovery", {"Group:system:serviceaccounts"}},
      // Nodes renew their own client certificates through the CSR API and csrapproving approves
      // them (the binding kubeadm makes as kubeadm:node-autoapprove-certificate-rotation).
      {"system:certificates.k8s.io:certificatesigningrequests:selfnodeclient", {"Group:system:nodes"}},
  };
  return bindings;
}

std::vector<std::string> Split(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    size_t comma = s.find(',', start);
    out.emplace_back(s.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

PolicyRule RuleOf(const R& r) {
  PolicyRule p;
  p.verbs = Split(r.verbs);
  if (!r.urls.empty()) {
    p.non_resource_urls = Split(r.urls);
    return p;
  }
  p.api_groups = Split(r.groups);
  p.resources = Split(r.resources);
  if (!r.names.empty()) p.resource_names = Split(r.names);
  return p;
}

json::object Subject(std::string_view s) {
  const size_t colon = s.find(':');
  const std::string kind(s.substr(0, colon));
  std::string name(s.substr(colon + 1));
  if (kind == "ServiceAccount") {
    const size_t slash = name.find('/');
    return json::object{{"kind", kind}, {"name", name.substr(slash + 1)}, {"namespace", name.substr(0, slash)}};
  }
  return json::object{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", kind}, {"name", name}};
}

json::object Metadata(std::string_view name, const json::object& extra_labels) {
  json::object labels{{"kubernetes.io/bootstrapping", "rbac-defaults"}};
  for (const auto& [k, v] : extra_labels) labels[k] = v;
  return json::object{{"name", name},
                      {"labels", std::move(labels)},
                      {"annotations", json::object{{"rbac.authorization.kubernetes.io/autoupdate", "true"}}}};
}

std::vector<std::pair<std::string, json::object>> Wanted() {
  std::vector<std::pair<std::string, json::object>> out;
  const std::string prefix = "rbac.authorization.k8s.io/aggregate-to-";
  for (const auto& role : Roles()) {
    json::object labels;
    if (!role.aggregate_to.empty()) labels[prefix + std::string(role.aggregate_to)] = "true";
    json::object obj{{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "ClusterRole"},
                     {"metadata", Metadata(role.name, labels)}};
    json::array rules;
    for (const auto& r : role.rules) rules.push_back(RuleJson(RuleOf(r)));
    obj["rules"] = std::move(rules);
    if (!role.aggregate_from.empty()) {
      obj["aggregationRule"] = json::object{
          {"clusterRoleSelectors",
           json::array{json::object{{"matchLabels", json::object{{prefix + std::string(role.aggregate_from), "true"}}}}}}};
    }
    out.emplace_back("/registry/clusterroles/" + std::string(role.name), std::move(obj));
  }
  auto binding = [&](std::string_view name, std::string_view role, json::array subjects) {
    json::object obj{{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "ClusterRoleBinding"},
                     {"metadata", Metadata(name, {})},
                     {"roleRef", json::object{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "ClusterRole"}, {"name", role}}}};
    if (!subjects.empty()) obj["subjects"] = std::move(subjects);
    out.emplace_back("/registry/clusterrolebindings/" + std::string(name), std::move(obj));
  };
  for (const auto& b : Bindings()) {
    json::array subjects;
    for (auto s : b.subjects) subjects.push_back(Subject(s));
    binding(b.role, b.role, std::move(subjects));
  }
  // Each system:controller:<name> role is bound to the service account kube-system/<name>.
  constexpr std::string_view kController = "system:controller:";
  for (const auto& role : Roles()) {
    if (!role.name.starts_with(kController)) continue;
    const std::string sa(role.name.substr(kController.size()));
    binding(role.name, role.name, json::array{Subject("ServiceAccount:kube-system/" + sa)});
  }
  // Upstream's one namespaced default: extension API servers (metrics-server…) bind their
  // service accounts to this Role to read the front-proxy trust the aggregator publishes
  // (aggregator/aggregator.h), as the controller manager and scheduler are.
  {
    const std::string name = "extension-apiserver-authentication-reader";
    json::object meta = Metadata(name, {});
    meta["namespace"] = "kube-system";
    json::object role{{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "Role"}, {"metadata", std::move(meta)},
                      {"rules", json::array{RuleJson(RuleOf({"get,list,watch", "", "configmaps", name}))}}};
    out.emplace_back("/registry/roles/kube-system/" + name, std::move(role));
    json::object bmeta = Metadata("system::" + name, {});
    bmeta["namespace"] = "kube-system";
    json::object rb{{"apiVersion", "rbac.authorization.k8s.io/v1"}, {"kind", "RoleBinding"}, {"metadata", std::move(bmeta)},
                    {"roleRef", json::object{{"apiGroup", "rbac.authorization.k8s.io"}, {"kind", "Role"}, {"name", name}}},
                    {"subjects", json::array{Subject("User:system:kube-controller-manager"), Subject("User:system:kube-scheduler")}}};
    out.emplace_back("/registry/rolebindings/kube-system/system::" + name, std::move(rb));
  }
  return out;
}

// Adds to `have` what `want` has and it lacks: labels, annotations, rules, aggregation
// selectors, subjects. Returns whether anything was added.
bool AddMissing(json::object& have, const json::object& want) {
  bool changed = false;
  json::object& meta = api::MutableObject(have, "metadata");
  for (const char* field : {"labels", "annotations"}) {
    json::object& dst = api::MutableObject(meta, field);
    for (const auto& [k, v] : api::GetObject(api::GetObject(want, "metadata"), field)) {
      if (!dst.contains(k)) {
        dst[k] = v;
        changed = true;
      }
    }
  }
  auto union_array = [&](json::object& dst_obj, const json::object& src_obj, std::string_view key) {
    const json::array& src = api::GetArray(src_obj, key);
    if (src.empty()) return;
    if (!dst_obj.contains(key) || !dst_obj[key].is_array()) dst_obj[key] = json::array();
    json::array& dst = dst_obj[key].as_array();
    for (const auto& v : src) {
      if (std::find(dst.begin(), dst.end(), v) == dst.end()) {
        dst.push_back(v);
        changed = true;
      }
    }
  };
  if (want.contains("aggregationRule")) {
    union_array(api::MutableObject(have, "aggregationRule"), api::GetObject(want, "aggregationRule"), "clusterRoleSelectors");
  } else if (want.contains("rules")) {  // a role (a binding has subjects, below)
    // Rules are compared as rules (a user's reordering of lists is no difference).
    std::vector<PolicyRule> current = ParseRules(have.if_contains("rules"));
    std::vector<PolicyRule> missing;
    if (!Covers(current, ParseRules(want.if_contains("rules")), &missing) || !have.contains("rules")) {
      if (!have.contains("rules") || !have["rules"].is_array()) have["rules"] = json::array();
      for (const auto& r : ParseRules(want.if_contains("rules"))) {
        if (!Covers(current, {r})) {
          have["rules"].as_array().push_back(RuleJson(r));
          current.push_back(r);
        }
      }
      changed = true;
    }
  }
  union_array(have, want, "subjects");
  return changed;
}

}  // namespace

std::vector<PolicyRule> DefaultClusterRoleRules(std::string_view name) {
  std::vector<PolicyRule> out;
  for (const auto& role : Roles()) {
    if (role.name != name) continue;
    for (const auto& r : role.rules) out.push_back(RuleOf(r));
  }
  return out;
}

Status ReconcileBootstrapPolicy(datastore::Store* store) {
  for (auto& [key, want] : Wanted()) {
    datastore::RangeRequest q;
    q.key = key;
    auto got = store->Range(q);
    if (!got.ok()) return got.status();
    datastore::TxnRequest t;
    datastore::Compare c;
    c.key = key;
    json::object obj;
    if (got->kvs.empty()) {
      obj = want;
      api::MutableObject(obj, "metadata")["uid"] = NewUid();
      api::MutableObject(obj, "metadata")["creationTimestamp"] = api::NowTime();
      c.target = datastore::Compare::Target::kMod;  // still absent
    } else {
      boost::system::error_code ec;
      json::value v = json::parse(got->kvs[0].value_or_empty(), ec);
      if (ec || !v.is_object()) continue;
      obj = std::move(v.as_object());
      const json::object& annotations = api::GetObject(api::GetObject(obj, "metadata"), "annotations");
      if (api::GetString(annotations, "rbac.authorization.kubernetes.io/autoupdate") == "false") continue;
      if (!AddMissing(obj, want)) continue;
      c.target = datastore::Compare::Target::kMod;
      c.number = got->kvs[0].mod_revision;
    }
    t.compare.push_back(c);
    datastore::PutRequest put;
    put.key = key;
    put.value = std::make_shared<const std::string>(json::serialize(obj));
    t.success.push_back(datastore::RequestOp{std::move(put)});
    // Losing a race here means someone else wrote the object first: theirs stands. A write that
    // fails (a full disk) leaves the object for the next start: the API server still comes up.
    const bool created = got->kvs.empty();
    if (auto r = store->TxnSync(std::move(t)); !r.ok()) {
      KITE_LOG(0) << "rbac: default policy: writing " << key << ": " << r.status().message()
                  << " (retried at the next start)";
      continue;
    }
    KITE_LOG(1) << "rbac: default policy: " << (created ? "created " : "updated ") << key;
  }
  return Status::Ok();
}

}  // namespace kite::apiserver::rbac
