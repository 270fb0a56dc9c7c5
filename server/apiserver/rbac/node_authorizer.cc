#include "server/apiserver/rbac/node_authorizer.h"

#include <boost/json.hpp>

#include <algorithm>
#include <mutex>

#include "api/object.h"
#include "server/apiserver/rbac/bootstrap_policy.h"

namespace kite::apiserver::rbac {
namespace json = boost::json;

namespace {

constexpr std::string_view kPods = "/registry/pods/";
constexpr std::string_view kClaims = "/registry/persistentvolumeclaims/";

void AddRef(std::vector<std::string>& refs, std::string_view kind, const std::string& ns, const std::string& name) {
  if (name.empty()) return;
  std::string r = std::string(kind) + "/" + ns + "/" + name;
  if (std::find(refs.begin(), refs.end(), r) == refs.end()) refs.push_back(std::move(r));
}

// What a pod references that its node may read (upstream's graph_populator edges).
std::vector<std::string> PodReferences(const json::object& pod, const std::string& ns, const std::string& pod_name) {
  std::vector<std::string> refs;
  const json::object& spec = api::GetObject(pod, "spec");
  AddRef(refs, "serviceaccounts", ns, api::GetString(spec, "serviceAccountName"));
  for (const auto& s : api::GetArray(spec, "imagePullSecrets")) {
    if (s.is_object()) AddRef(refs, "secrets", ns, api::GetString(s.as_object(), "name"));
  }
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    for (const auto& c : api::GetArray(spec, list)) {
      if (!c.is_object()) continue;
      for (const auto& e : api::GetArray(c.as_object(), "env")) {
        if (!e.is_object()) continue;
        const json::object& from = api::GetObject(e.as_object(), "valueFrom");
        AddRef(refs, "secrets", ns, api::GetString(api::GetObject(from, "secretKeyRef"), "name"));
        AddRef(refs, "configmaps", ns, api::GetString(api::GetObject(from, "configMapKeyRef"), "name"));
      }
      for (const auto& e : api::GetArray(c.as_object(), "envFrom")) {
        if (!e.is_object()) continue;
        AddRef(refs, "secrets", ns, api::GetString(api::GetObject(e.as_object(), "secretRef"), "name"));
        AddRef(refs, "configmaps", ns, api::GetString(api::GetObject(e.as_object(), "configMapRef"), "name"));
      }
    }
  }
  for (const auto& v : api::GetArray(spec, "volumes")) {
    if (!v.is_object()) continue;
    const json::object& vol = v.as_object();
    AddRef(refs, "secrets", ns, api::GetString(api::GetObject(vol, "secret"), "secretName"));
    AddRef(refs, "configmaps", ns, api::GetString(api::GetObject(vol, "configMap"), "name"));
    AddRef(refs, "persistentvolumeclaims", ns, api::GetString(api::GetObject(vol, "persistentVolumeClaim"), "claimName"));
    if (vol.contains("ephemeral")) AddRef(refs, "persistentvolumeclaims", ns, pod_name + "-" + api::GetString(vol, "name"));
    AddRef(refs, "secrets", ns, api::GetString(api::GetObject(vol, "azureFile"), "secretName"));
    for (const auto& src : api::GetArray(api::GetObject(vol, "projected"), "sources")) {
      if (!src.is_object()) continue;
      AddRef(refs, "secrets", ns, api::GetString(api::GetObject(src.as_object(), "secret"), "name"));
      AddRef(refs, "configmaps", ns, api::GetString(api::GetObject(src.as_object(), "configMap"), "name"));
    }
    // Volume plugins that name a secret (csi, cephfs, rbd, iscsi, flexVolume, …).
    for (const auto& [kind, source] : vol) {
      if (!source.is_object()) continue;
      for (const char* field : {"secretRef", "nodePublishSecretRef"}) {
        AddRef(refs, "secrets", ns, api::GetString(api::GetObject(source.as_object(), field), "name"));
      }
    }
  }
  return refs;
}

}  // namespace

std::optional<std::string> NodeNameOf(const UserInfo& user) {
  constexpr std::string_view kPrefix = "system:node:";
  if (!user.InGroup("system:nodes") || !user.name.starts_with(kPrefix) || user.name.size() == kPrefix.size()) {
    return std::nullopt;
  }
  return user.name.substr(kPrefix.size());
}

NodeAuthorizer::NodeAuthorizer(datastore::Store* store) : node_rules_(DefaultClusterRoleRules("system:node")) {
  follower_ = std::make_unique<KeyFollower>(
      store, std::vector<std::string>{std::string(kPods), std::string(kClaims)},
      [this](const std::string& key, const datastore::Value& value) { Apply(key, value); }, nullptr);
}

NodeAuthorizer::~NodeAuthorizer() { follower_.reset(); }

void NodeAuthorizer::Apply(const std::string& key, const datastore::Value& value) {
  auto obj = KeyFollower::DecodeObject(value);
  if (key.starts_with(kClaims)) {
    const std::string id = key.substr(kClaims.size());
    std::unique_lock lock(mu_);
    if (obj) claim_volume_[id] = api::GetString(api::GetObject(*obj, "spec"), "volumeName");
    else claim_volume_.erase(id);
    return;
  }
  const std::string id = key.substr(kPods.size());  // ns/name
  PodRefs now;
  if (obj) {
    const size_t slash = id.find('/');
    now.node = api::GetString(api::GetObject(*obj, "spec"), "nodeName");
    if (!now.node.empty()) now.refs = PodReferences(*obj, id.substr(0, slash), id.substr(slash + 1));
  }
  std::unique_lock lock(mu_);
  if (auto it = pods_.find(id); it != pods_.end()) {
    auto& counts = by_node_[it->second.node];
    for (const auto& r : it->second.refs) {
      if (--counts[r] <= 0) counts.erase(r);
    }
    if (counts.empty()) by_node_.erase(it->second.node);
    pods_.erase(it);
  }
  if (now.node.empty()) return;
  auto& counts = by_node_[now.node];
  for (const auto& r : now.refs) ++counts[r];
  pods_[id] = std::move(now);
}

bool NodeAuthorizer::Related(const std::string& node, const std::string& ref) const {
  auto it = by_node_.find(node);
  return it != by_node_.end() && it->second.count(ref) > 0;
}

std::string NodeAuthorizer::NodeOfPod(const std::string& ns, const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = pods_.find(ns + "/" + name);
  return it == pods_.end() ? "" : it->second.node;
}

Decision NodeAuthorizer::Authorize(const RequestAttributes& a) const {
  auto node = NodeNameOf(a.user);
  if (!node) return {false, ""};
  if (a.resource_request && a.api_group.empty()) {
    const std::string no_relation = "no relationship found between node '" + *node + "' and this object";
    auto graph_read = [&](bool list_ok) -> Decision {
      if (a.verb != "get" && !(list_ok && (a.verb == "list" || a.verb == "watch"))) {
        return {false, "can only read individual " + a.resource};
      }
      if (a.name.empty()) return {false, "can only read individual " + a.resource};
      std::shared_lock lock(mu_);
      if (Related(*node, a.resource + "/" + a.namespace_ + "/" + a.name)) return {true, ""};
      return {false, no_relation};
    };
    if (a.resource == "secrets" || a.resource == "configmaps") return graph_read(true);
    if (a.resource == "persistentvolumeclaims") {
      if (a.subresource == "status") {
        if (a.verb != "get" && a.verb != "update" && a.verb != "patch") return {false, ""};
        std::shared_lock lock(mu_);
        if (Related(*node, "persistentvolumeclaims/" + a.namespace_ + "/" + a.name)) return {true, ""};
        return {false, no_relation};
      }
      return graph_read(false);
    }
    if (a.resource == "persistentvolumes") {
      if (a.verb != "get" || a.name.empty()) return {false, "can only get individual persistentvolumes"};
      std::shared_lock lock(mu_);
      auto it = by_node_.find(*node);
      if (it != by_node_.end()) {
        for (const auto& [ref, n] : it->second) {
          if (!ref.starts_with("persistentvolumeclaims/")) continue;
          auto v = claim_volume_.find(ref.substr(sizeof("persistentvolumeclaims/") - 1));
          if (v != claim_volume_.end() && v->second == a.name) return {true, ""};
        }
      }
      return {false, no_relation};
    }
    if (a.resource == "serviceaccounts") {
      if (a.subresource != "token" || a.verb != "create") return {false, ""};
      std::shared_lock lock(mu_);
      if (Related(*node, "serviceaccounts/" + a.namespace_ + "/" + a.name)) return {true, ""};
      return {false, no_relation};
    }
  }
  if (a.resource_request && a.api_group == "coordination.k8s.io" && a.resource == "leases") {
    if (a.verb != "get" && a.verb != "create" && a.verb != "update" && a.verb != "patch" && a.verb != "delete") {
      return {false, "can only get, create, update, patch, or delete a node lease"};
    }
    if (a.namespace_ != "kube-node-lease") return {false, "can only access leases in the kube-node-lease namespace"};
    if (a.verb != "create" && a.name != *node) return {false, "can only access node lease with the same name as the requesting node"};
    return {true, ""};
  }
  // Everything else as the system:node role has it; NodeRestriction narrows writes.
  for (const auto& r : node_rules_) {
    if (RuleAllows(r, a)) return {true, ""};
  }
  return {false, ""};
}

}  // namespace kite::apiserver::rbac
