#include "server/apiserver/filters/authz.h"

#include <initializer_list>
#include <string_view>

namespace kite::apiserver {

namespace {

struct Rule {
  std::string_view group, resource;  // resource may be "resource/subresource"
  std::initializer_list<std::string_view> verbs;
};

// What upstream's system:node ClusterRole grants a kubelet (the RBAC bootstrap policy, read for
// its facts). Until RBAC and the Node authorizer land (the security issue), every member of
// system:nodes gets all of it for every node; the Node authorizer will narrow it to objects
// related to the node itself.
const Rule kNodeRules[] = {
    {"", "nodes", {"create", "get", "list", "watch", "delete", "patch", "update"}},
    {"", "nodes/status", {"patch", "update"}},
    {"", "pods", {"get", "list", "watch", "create", "delete"}},
    {"", "pods/status", {"patch", "update"}},
    {"", "pods/eviction", {"create"}},
    {"", "services", {"get", "list", "watch"}},
    {"", "endpoints", {"get", "list", "watch"}},
    {"", "configmaps", {"get", "list", "watch"}},
    {"", "secrets", {"get", "list", "watch"}},
    {"", "persistentvolumeclaims", {"get"}},
    {"", "persistentvolumeclaims/status", {"get", "update", "patch"}},
    {"", "persistentvolumes", {"get"}},
    {"", "serviceaccounts/token", {"create"}},
    {"", "events", {"create", "patch", "update"}},
    {"events.k8s.io", "events", {"create", "patch", "update"}},
    {"discovery.k8s.io", "endpointslices", {"get", "list", "watch"}},
    {"coordination.k8s.io", "leases", {"get", "create", "update", "patch", "delete"}},
    {"authentication.k8s.io", "tokenreviews", {"create"}},
    {"authorization.k8s.io", "subjectaccessreviews", {"create"}},
    {"authorization.k8s.io", "localsubjectaccessreviews", {"create"}},
    {"certificates.k8s.io", "certificatesigningrequests", {"create", "get", "list", "watch"}},
    {"storage.k8s.io", "volumeattachments", {"get"}},
    {"storage.k8s.io", "csidrivers", {"get", "list", "watch"}},
    {"storage.k8s.io", "csinodes", {"create", "delete", "get", "patch", "update"}},
    {"node.k8s.io", "runtimeclasses", {"get", "list", "watch"}},
};

bool NodeMay(const RequestAttributes& a) {
  if (!a.resource_request) return false;
  const std::string res = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  for (const Rule& r : kNodeRules) {
    if (r.group != a.api_group || r.resource != res) continue;
    for (std::string_view v : r.verbs) {
      if (v == a.verb) return true;
    }
  }
  return false;
}

}  // namespace

Decision ChainAuthorizer::Authorize(const RequestAttributes& a) const {
  if (a.user.InGroup("system:masters")) return {true, ""};
  if (always_allow_) return {true, ""};
  if (a.user.InGroup("system:nodes") && NodeMay(a)) return {true, ""};
  for (const Authorizer* z : chain_) {
    Decision d = z->Authorize(a);
    if (d.allowed) return d;
  }
  return {false, ""};
}

std::string ForbiddenMessage(const RequestAttributes& a) {
  std::string user = "User \"" + a.user.name + "\"";
  if (!a.resource_request) return "forbidden: " + user + " cannot " + a.verb + " path \"" + a.path + "\"";
  std::string res = a.resource + (a.subresource.empty() ? "" : "/" + a.subresource);
  std::string what = a.name.empty() ? res : res + " \"" + a.name + "\"";
  std::string msg = what + " is forbidden: " + user + " cannot " + a.verb + " resource \"" + res + "\" in API group \"" +
                    a.api_group + "\"";
  msg += a.namespace_.empty() ? " at the cluster scope" : " in the namespace \"" + a.namespace_ + "\"";
  return msg;
}

}  // namespace kite::apiserver
