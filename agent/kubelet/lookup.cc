#include "agent/kubelet/lookup.h"

#include <ctime>

namespace kite::kubelet {
namespace json = boost::json;

namespace {

Result<json::object> Find(const std::map<std::string, json::object>& m, const std::string& key, const char* what) {
  auto it = m.find(key);
  if (it == m.end()) return Status(Code::kNotFound, std::string(what) + " \"" + key + "\" not found");
  return it->second;
}

}  // namespace

Result<json::object> MapLookup::GetConfigMap(const std::string& ns, const std::string& name) {
  return Find(config_maps, ns + "/" + name, "configmaps");
}
Result<json::object> MapLookup::GetSecret(const std::string& ns, const std::string& name) {
  return Find(secrets, ns + "/" + name, "secrets");
}
Result<json::object> MapLookup::GetPersistentVolumeClaim(const std::string& ns, const std::string& name) {
  return Find(claims, ns + "/" + name, "persistentvolumeclaims");
}
Result<json::object> MapLookup::GetPersistentVolume(const std::string& name) {
  return Find(volumes, name, "persistentvolumes");
}
Result<json::object> MapLookup::GetRuntimeClass(const std::string& name) {
  return Find(runtime_classes, name, "runtimeclasses.node.k8s.io");
}
Result<std::vector<json::object>> MapLookup::ListServices(const std::string& ns) {
  auto it = services.find(ns);
  if (it == services.end()) return std::vector<json::object>{};
  return it->second;
}
Result<ServiceAccountToken> MapLookup::RequestToken(const std::string& ns, const std::string& service_account,
                                                    const std::string& /*audience*/, int64_t expiration_seconds,
                                                    const json::object& /*pod*/) {
  auto it = tokens.find(ns + "/" + service_account);
  if (it == tokens.end()) return Status(Code::kUnimplemented, "the server does not issue service account tokens");
  const int64_t now = now_unix ? now_unix : static_cast<int64_t>(std::time(nullptr));
  return ServiceAccountToken{it->second, now + expiration_seconds};
}

}  // namespace kite::kubelet
