#include "agent/kubelet/client_lookup.h"

#include <boost/json.hpp>

#include "api/object.h"
#include "api/time.h"

namespace kite::kubelet {
namespace json = boost::json;

namespace {

const api::ResourceInfo& Core(const char* resource) { return *api::FindResource("", "v1", resource); }

}  // namespace

Result<json::object> ClientLookup::Get(const client::Informer* informer, const char* resource, const std::string& ns,
                                       const std::string& name) {
  if (informer && informer->HasSynced()) {
    client::ObjectPtr obj = informer->Get(ns, name);
    if (!obj) return Status(Code::kNotFound, std::string(resource) + " \"" + name + "\" not found");
    return *obj;
  }
  return client_->Get(Core(resource), ns, name);
}

Result<json::object> ClientLookup::GetConfigMap(const std::string& ns, const std::string& name) {
  return Get(informers_.config_maps, "configmaps", ns, name);
}
Result<json::object> ClientLookup::GetSecret(const std::string& ns, const std::string& name) {
  return Get(informers_.secrets, "secrets", ns, name);
}
Result<json::object> ClientLookup::GetPersistentVolumeClaim(const std::string& ns, const std::string& name) {
  return Get(informers_.claims, "persistentvolumeclaims", ns, name);
}
Result<json::object> ClientLookup::GetPersistentVolume(const std::string& name) {
  return Get(informers_.volumes, "persistentvolumes", "", name);
}

Result<json::object> ClientLookup::GetRuntimeClass(const std::string& name) {
  static const api::ResourceInfo& runtime_classes = *api::FindResource("node.k8s.io", "v1", "runtimeclasses");
  return client_->Get(runtime_classes, "", name);
}

Result<std::vector<json::object>> ClientLookup::ListServices(const std::string& ns) {
  std::vector<json::object> out;
  if (informers_.services && informers_.services->HasSynced()) {
    for (const auto& s : informers_.services->List(ns)) out.push_back(*s);
    return out;
  }
  auto list = client_->List(Core("services"), ns);
  if (!list) return list.error();
  for (const auto& item : api::GetArray(*list, "items")) {
    if (item.is_object()) out.push_back(item.as_object());
  }
  return out;
}

Result<ServiceAccountToken> ClientLookup::RequestToken(const std::string& ns, const std::string& service_account,
                                                       const std::string& audience, int64_t expiration_seconds,
                                                       const json::object& pod) {
  json::object spec{{"expirationSeconds", expiration_seconds},
                    {"boundObjectRef", json::object{{"apiVersion", "v1"}, {"kind", "Pod"}, {"name", api::Name(pod)},
                                                    {"uid", api::Uid(pod)}}}};
  if (!audience.empty()) spec["audiences"] = json::array{json::string(audience)};
  json::object body{{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "TokenRequest"}, {"spec", std::move(spec)}};
  auto r = client_->CreateSubresource(Core("serviceaccounts"), ns, service_account, "token", body);
  if (!r) {
    const int code = r.error().http_code();
    if (code == 404 || code == 405) {
      return Status(Code::kUnimplemented, "serviceaccounts/" + service_account + "/token: " + r.error().message());
    }
    return r.error();
  }
  ServiceAccountToken t;
  t.token = api::GetString(*r, {"status", "token"});
  if (auto exp = api::ParseTime(api::GetString(*r, {"status", "expirationTimestamp"}))) {
    t.expiration_unix = std::chrono::duration_cast<std::chrono::seconds>(exp->time_since_epoch()).count();
  }
  if (t.token.empty()) return Status(Code::kInternal, "TokenRequest for " + ns + "/" + service_account + " returned no token");
  return t;
}

}  // namespace kite::kubelet
