#include "server/apiserver/rbac/node_restriction.h"

#include <boost/json.hpp>

#include "api/object.h"
#include "server/apiserver/status.h"

namespace kite::apiserver::rbac {
namespace json = boost::json;

namespace {

Status Refuse(const std::string& qualified, const std::string& name, const std::string& why) {
  std::string what = name.empty() ? qualified : qualified + " \"" + name + "\"";
  return Forbidden(what + " is forbidden: " + why);
}

}  // namespace

Status NodeRestrictionByName(const NodeAuthorizer& graph, const RequestAttributes& a) {
  auto node = NodeNameOf(a.user);
  if (!node || !a.resource_request || !a.api_group.empty()) return Status::Ok();
  const bool writes = a.verb == "create" || a.verb == "update" || a.verb == "patch" || a.verb == "delete" ||
                      a.verb == "deletecollection";
  if (!writes) return Status::Ok();
  if (a.resource == "nodes" && !a.name.empty() && a.name != *node) {
    return Refuse("nodes", a.name, "node \"" + *node + "\" is not allowed to modify node \"" + a.name + "\"");
  }
  if (a.resource == "nodes" && a.verb == "deletecollection") {
    return Refuse("nodes", "", "node \"" + *node + "\" is not allowed to modify other nodes");
  }
  if (a.resource != "pods" || a.name.empty()) return Status::Ok();
  const std::string bound = graph.NodeOfPod(a.namespace_, a.name);
  if (a.subresource.empty() && a.verb == "delete" && bound != *node) {
    return Refuse("pods", a.name, "node \"" + *node + "\" can only delete pods with spec.nodeName set to itself");
  }
  if (a.subresource == "status" && bound != *node) {
    return Refuse("pods", a.name, "node \"" + *node + "\" can only update pod status for pods with spec.nodeName set to itself");
  }
  if (a.subresource == "eviction" && bound != *node) {
    return Refuse("pods", a.name, "node \"" + *node + "\" can only evict pods with spec.nodeName set to itself");
  }
  return Status::Ok();
}

Status NodeRestrictionObject(const UserInfo& user, const api::ResourceInfo& r, const std::string& verb,
                             const json::object& obj) {
  auto node = NodeNameOf(user);
  if (!node) return Status::Ok();
  const std::string name = api::GetString(api::GetObject(obj, "metadata"), "name");
  if (r.group.empty() && r.resource == "nodes" && name != *node) {
    return Refuse("nodes", name, "node \"" + *node + "\" is not allowed to modify node \"" + name + "\"");
  }
  if (r.group == "coordination.k8s.io" && r.resource == "leases" && name != *node) {
    return Refuse("leases.coordination.k8s.io", name,
                  "can only access node lease with the same name as the requesting node");
  }
  if (r.group.empty() && r.resource == "pods" && verb == "create") {
    const json::object& meta = api::GetObject(obj, "metadata");
    if (!api::GetObject(meta, "annotations").contains("kubernetes.io/config.mirror")) {
      return Refuse("pods", name, "pod does not have \"kubernetes.io/config.mirror\" annotation, node \"" + *node +
                                      "\" can only create mirror pods");
    }
    const json::object& spec = api::GetObject(obj, "spec");
    if (api::GetString(spec, "nodeName") != *node) {
      return Refuse("pods", name, "node \"" + *node + "\" can only create pods with spec.nodeName set to itself");
    }
    for (const auto& v : api::GetArray(spec, "volumes")) {
      if (!v.is_object()) continue;
      const json::object& vol = v.as_object();
      if (vol.contains("secret")) {
        return Refuse("pods", name, "node \"" + *node + "\" can not create pods that reference secrets");
      }
      if (vol.contains("configMap")) {
        return Refuse("pods", name, "node \"" + *node + "\" can not create pods that reference configmaps");
      }
      if (vol.contains("persistentVolumeClaim")) {
        return Refuse("pods", name, "node \"" + *node + "\" can not create pods that reference persistentvolumeclaims");
      }
    }
  }
  return Status::Ok();
}

}  // namespace kite::apiserver::rbac
