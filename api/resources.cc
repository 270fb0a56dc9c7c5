#include "api/resources.h"

#include <algorithm>

namespace kite::api {
namespace {

using V = std::vector<std::string>;
const V kAll = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
const V kCreateOnly = {"create"};
const V kStatusVerbs = {"get", "patch", "update"};

SubresourceInfo StatusSubresource(const std::string& kind) { return {"status", "", "", kind, kStatusVerbs}; }
SubresourceInfo ScaleSubresource() { return {"scale", "autoscaling", "v1", "Scale", kStatusVerbs}; }

std::vector<ResourceInfo> Build() {
  std::vector<ResourceInfo> r;
  auto add = [&r](std::string group, std::string version, std::string kind, std::string resource, std::string singular,
                  bool namespaced, V verbs, V shorts = {}, V cats = {}, std::vector<SubresourceInfo> subs = {}) {
    ResourceInfo info;
    info.group = std::move(group);
    info.version = std::move(version);
    info.kind = std::move(kind);
    info.resource = std::move(resource);
    info.singular = std::move(singular);
    info.namespaced = namespaced;
    info.verbs = std::move(verbs);
    info.short_names = std::move(shorts);
    info.categories = std::move(cats);
    info.subresources = std::move(subs);
    r.push_back(std::move(info));
  };
  const V all_cat = {"all"};
  // core/v1
  add("", "v1", "Binding", "bindings", "binding", true, kCreateOnly);
  // ComponentStatus: the health of the scheduler and controller manager, computed per request.
  add("", "v1", "ComponentStatus", "componentstatuses", "componentstatus", false, {"get", "list"}, {"cs"});
  r.back().delegated = true;
  r.back().deprecation = "v1 ComponentStatus is deprecated in v1.19+";
  add("", "v1", "ConfigMap", "configmaps", "configmap", true, kAll, {"cm"});
  add("", "v1", "Endpoints", "endpoints", "endpoints", true, kAll, {"ep"});
  add("", "v1", "Event", "events", "event", true, kAll, {"ev"});
  add("", "v1", "LimitRange", "limitranges", "limitrange", true, kAll, {"limits"});
  add("", "v1", "Namespace", "namespaces", "namespace", false, {"create", "delete", "get", "list", "patch", "update", "watch"},
      {"ns"}, {}, {{"finalize", "", "", "Namespace", {"update"}}, StatusSubresource("Namespace")});
  add("", "v1", "Node", "nodes", "node", false, kAll, {"no"}, {},
      {{"proxy", "", "", "NodeProxyOptions", {"create", "delete", "get", "patch", "update"}}, StatusSubresource("Node")});
  add("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", true, kAll, {"pvc"}, {},
      {StatusSubresource("PersistentVolumeClaim")});
  add("", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", false, kAll, {"pv"}, {},
      {StatusSubresource("PersistentVolume")});
  add("", "v1", "Pod", "pods", "pod", true, kAll, {"po"}, all_cat,
      {{"attach", "", "v1", "PodAttachOptions", {"create", "get"}},
       {"binding", "", "", "Binding", {"create"}},
       {"ephemeralcontainers", "", "", "Pod", kStatusVerbs},
       {"eviction", "policy", "v1", "Eviction", {"create"}},
       {"exec", "", "v1", "PodExecOptions", {"create", "get"}},
       {"log", "", "", "Pod", {"get"}},
       {"portforward", "", "v1", "PodPortForwardOptions", {"create", "get"}},
       {"proxy", "", "v1", "PodProxyOptions", {"create", "delete", "get", "patch", "update"}},
       StatusSubresource("Pod")});
  add("", "v1", "PodTemplate", "podtemplates", "podtemplate", true, kAll);
  add("", "v1", "ReplicationController", "replicationcontrollers", "replicationcontroller", true, kAll, {"rc"}, all_cat,
      {ScaleSubresource(), StatusSubresource("ReplicationController")});
  add("", "v1", "ResourceQuota", "resourcequotas", "resourcequota", true, kAll, {"quota"}, {}, {StatusSubresource("ResourceQuota")});
  add("", "v1", "Secret", "secrets", "secret", true, kAll);
  add("", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", true, kAll, {"sa"}, {},
      {{"token", "authentication.k8s.io", "v1", "TokenRequest", {"create"}}});
  add("", "v1", "Service", "services", "service", true, kAll, {"svc"}, all_cat,
      {{"proxy", "", "v1", "ServiceProxyOptions", {"create", "delete", "get", "patch", "update"}}, StatusSubresource("Service")});
  // admissionregistration.k8s.io/v1, apiextensions.k8s.io/v1, apiregistration.k8s.io/v1
  add("admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations",
      "mutatingwebhookconfiguration", false, kAll, {}, {"api-extensions"});
  add("admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations",
      "validatingwebhookconfiguration", false, kAll, {}, {"api-extensions"});
  add("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", "customresourcedefinition",
      false, kAll, {"crd", "crds"}, {"api-extensions"}, {StatusSubresource("CustomResourceDefinition")});
  add("apiregistration.k8s.io", "v1", "APIService", "apiservices", "apiservice", false, kAll, {}, {"api-extensions"},
      {StatusSubresource("APIService")});
  // apps/v1
  add("apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", true, kAll);
  add("apps", "v1", "DaemonSet", "daemonsets", "daemonset", true, kAll, {"ds"}, all_cat, {StatusSubresource("DaemonSet")});
  add("apps", "v1", "Deployment", "deployments", "deployment", true, kAll, {"deploy"}, all_cat,
      {ScaleSubresource(), StatusSubresource("Deployment")});
  add("apps", "v1", "ReplicaSet", "replicasets", "replicaset", true, kAll, {"rs"}, all_cat, {ScaleSubresource(), StatusSubresource("ReplicaSet")});
  add("apps", "v1", "StatefulSet", "statefulsets", "statefulset", true, kAll, {"sts"}, all_cat,
      {ScaleSubresource(), StatusSubresource("StatefulSet")});
  // authentication.k8s.io/v1, authorization.k8s.io/v1
  add("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", "selfsubjectreview", false, kCreateOnly);
  add("authentication.k8s.io", "v1", "TokenReview", "tokenreviews", "tokenreview", false, kCreateOnly);
  add("authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", "localsubjectaccessreview",
      true, kCreateOnly);
  add("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", "selfsubjectaccessreview",
      false, kCreateOnly);
  add("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", "selfsubjectrulesreview", false,
      kCreateOnly);
  add("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", "subjectaccessreview", false,
      kCreateOnly);
  // autoscaling/v2 (preferred) and v1
  for (const char* v : {"v2", "v1"}) {
    add("autoscaling", v, "HorizontalPodAutoscaler", "horizontalpodautoscalers", "horizontalpodautoscaler", true, kAll,
        {"hpa"}, all_cat, {StatusSubresource("HorizontalPodAutoscaler")});
  }
  // batch/v1
  add("batch", "v1", "CronJob", "cronjobs", "cronjob", true, kAll, {"cj"}, all_cat, {StatusSubresource("CronJob")});
  add("batch", "v1", "Job", "jobs", "job", true, kAll, {}, all_cat, {StatusSubresource("Job")});
  // certificates.k8s.io/v1: …/approval carries the Approved and Denied conditions, …/status the
  // signer's certificate and Failed condition.
  add("certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests",
      "certificatesigningrequest", false, kAll, {"csr"}, {},
      {{"approval", "", "", "CertificateSigningRequest", kStatusVerbs}, StatusSubresource("CertificateSigningRequest")});
  // coordination.k8s.io/v1, discovery.k8s.io/v1, events.k8s.io/v1
  add("coordination.k8s.io", "v1", "Lease", "leases", "lease", true, kAll);
  add("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", true, kAll);
  add("events.k8s.io", "v1", "Event", "events", "event", true, kAll, {"ev"});
  // networking.k8s.io/v1
  add("networking.k8s.io", "v1", "IngressClass", "ingressclasses", "ingressclass", false, kAll);
  add("networking.k8s.io", "v1", "Ingress", "ingresses", "ingress", true, kAll, {"ing"}, {}, {StatusSubresource("Ingress")});
  add("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", true, kAll, {"netpol"});
  // node.k8s.io/v1
  add("node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", "runtimeclass", false, kAll);
  // policy/v1
  add("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget", true, kAll, {"pdb"}, {},
      {StatusSubresource("PodDisruptionBudget")});
  // rbac.authorization.k8s.io/v1
  add("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", false, kAll);
  add("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", false, kAll);
  add("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", true, kAll);
  add("rbac.authorization.k8s.io", "v1", "Role", "roles", "role", true, kAll);
  // scheduling.k8s.io/v1, storage.k8s.io/v1
  add("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", false, kAll, {"pc"});
  add("storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", false, kAll, {"sc"});
  // metrics.k8s.io/v1beta1: served by the built-in metrics server, not stored (the API server
  // delegates the group, as upstream aggregates metrics-server's APIService). Last, so that
  // "nodes" and "pods" resolve to the core group first, as with upstream's group priorities.
  add("metrics.k8s.io", "v1beta1", "NodeMetrics", "nodes", "", false, {"get", "list"});
  r.back().delegated = true;
  add("metrics.k8s.io", "v1beta1", "PodMetrics", "pods", "", true, {"get", "list"});
  r.back().delegated = true;
  return r;
}

}  // namespace

const SubresourceInfo* ResourceInfo::Subresource(std::string_view name) const {
  for (const auto& s : subresources) {
    if (s.name == name) return &s;
  }
  return nullptr;
}

const std::vector<ResourceInfo>& BuiltinResources() {
  static const auto* table = new std::vector<ResourceInfo>(Build());
  return *table;
}

const std::vector<GroupInfo>& BuiltinGroups() {
  static const auto* groups = [] {
    auto* g = new std::vector<GroupInfo>();
    for (const auto& r : BuiltinResources()) {
      GroupInfo* found = nullptr;
      for (auto& x : *g) if (x.name == r.group) found = &x;
      if (!found) {
        g->push_back(GroupInfo{r.group, {}});
        found = &g->back();
      }
      bool have = false;
      for (auto& v : found->versions) have = have || v == r.version;
      if (!have) found->versions.push_back(r.version);  // table order: preferred first
    }
    return g;
  }();
  return *groups;
}

const ResourceInfo* FindResource(std::string_view group, std::string_view version, std::string_view resource) {
  for (const auto& r : BuiltinResources()) {
    if (r.group == group && r.version == version && r.resource == resource) return &r;
  }
  return nullptr;
}

const ResourceInfo* ResourceSet::Find(std::string_view group, std::string_view version,
                                      std::string_view resource) const {
  for (const auto& r : resources) {
    if (r.group == group && r.version == version && r.resource == resource) return &r;
  }
  return nullptr;
}

std::shared_ptr<const ResourceSet> ResourceSet::With(std::vector<ResourceInfo> custom,
                                                     const std::function<bool(const ResourceInfo&)>& omit) {
  auto set = std::make_shared<ResourceSet>();
  set->resources = BuiltinResources();
  set->groups = BuiltinGroups();
  if (omit) {
    std::erase_if(set->resources, omit);
    // A group or version with nothing left goes too.
    for (auto& g : set->groups) {
      std::erase_if(g.versions, [&](const std::string& v) {
        return std::none_of(set->resources.begin(), set->resources.end(),
                            [&](const ResourceInfo& r) { return r.group == g.name && r.version == v; });
      });
    }
    std::erase_if(set->groups, [](const GroupInfo& g) { return g.versions.empty(); });
  }
  for (auto& r : custom) {
    if (set->Find(r.group, r.version, r.resource)) continue;  // never shadow a built-in
    GroupInfo* g = nullptr;
    for (auto& x : set->groups) {
      if (x.name == r.group) g = &x;
    }
    if (!g) {
      set->groups.push_back(GroupInfo{r.group, {}});
      g = &set->groups.back();
    }
    bool have = false;
    for (const auto& v : g->versions) have |= v == r.version;
    if (!have) g->versions.push_back(r.version);
    set->resources.push_back(std::move(r));
  }
  return set;
}

}  // namespace kite::api
