// The objects the aggregator writes besides APIService conditions (aggregator.h): the Local
// APIServices of what this server serves (upstream's autoregister and CRD registration
// controllers) and the ConfigMap extension servers read their trust from (upstream's cluster
// authentication trust controller).
#include <boost/json.hpp>

#include <map>
#include <set>

#include "api/object.h"
#include "api/time.h"
#include "server/apiserver/aggregator/aggregator.h"
#include "server/apiserver/storage/registry.h"

namespace kite::apiserver {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

constexpr const char* kAutomanaged = "kube-aggregator.kubernetes.io/automanaged";

struct Priority {
  int group, version;
};

// Upstream's priorities of the built-in group/versions (kube-apiserver's table), which order
// the groups in discovery; metrics.k8s.io as metrics-server registers it.
Priority PriorityOf(const std::string& group, const std::string& version) {
  static const std::map<std::pair<std::string, std::string>, Priority> kTable = {
      {{"", "v1"}, {18000, 1}},
      {{"apps", "v1"}, {17800, 15}},
      {{"events.k8s.io", "v1"}, {17750, 15}},
      {{"authentication.k8s.io", "v1"}, {17700, 15}},
      {{"authorization.k8s.io", "v1"}, {17600, 15}},
      {{"autoscaling", "v2"}, {17500, 30}},
      {{"autoscaling", "v1"}, {17500, 15}},
      {{"batch", "v1"}, {17400, 15}},
      {{"certificates.k8s.io", "v1"}, {17300, 15}},
      {{"networking.k8s.io", "v1"}, {17200, 15}},
      {{"policy", "v1"}, {17100, 15}},
      {{"rbac.authorization.k8s.io", "v1"}, {17000, 15}},
      {{"storage.k8s.io", "v1"}, {16800, 15}},
      {{"apiextensions.k8s.io", "v1"}, {16700, 15}},
      {{"admissionregistration.k8s.io", "v1"}, {16700, 15}},
      {{"scheduling.k8s.io", "v1"}, {16600, 15}},
      {{"coordination.k8s.io", "v1"}, {16500, 15}},
      {{"node.k8s.io", "v1"}, {16300, 15}},
      {{"discovery.k8s.io", "v1"}, {16200, 15}},
      {{"metrics.k8s.io", "v1beta1"}, {100, 100}},
  };
  auto it = kTable.find({group, version});
  return it == kTable.end() ? Priority{1000, 100} : it->second;  // a CRD's (upstream's CRD registration)
}

json::object LocalApiService(const std::string& group, const std::string& version, const char* managed) {
  const Priority p = PriorityOf(group, version);
  return json::object{
      {"apiVersion", "apiregistration.k8s.io/v1"},
      {"kind", "APIService"},
      {"metadata", json::object{{"name", version + "." + group}, {"labels", json::object{{kAutomanaged, managed}}}}},
      {"spec", json::object{{"group", group}, {"version", version}, {"groupPriorityMinimum", p.group},
                            {"versionPriority", p.version}}},
      // Available from the start, as upstream's strategy makes a Local one on create.
      {"status", json::object{{"conditions", json::array{json::object{
                                  {"type", "Available"}, {"status", "True"}, {"lastTransitionTime", api::NowTime()},
                                  {"reason", "Local"}, {"message", "Local APIServices are always available"}}}}}},
  };
}

}  // namespace

asio::awaitable<bool> SyncLocalApiServices(Registry& registry, const json::array& listed, const api::ResourceSet& served,
                                           bool builtins) {
  static const api::ResourceInfo& apiservices = *api::FindResource("apiregistration.k8s.io", "v1", "apiservices");
  std::set<std::string> stored;
  for (const auto& item : listed) {
    if (item.is_object()) stored.insert(api::Name(item.as_object()));
  }
  // The group/versions served here: the built-ins' (when asked) and the custom resources'.
  std::map<std::string, json::object> wanted;
  std::set<std::string> custom;
  for (const auto& r : served.resources) {
    // None for apiregistration.k8s.io itself, as upstream (the aggregator serves it, not the
    // server it registers).
    if (r.aggregated || (!r.custom && !builtins) || r.group == "apiregistration.k8s.io") continue;
    const std::string name = r.version + "." + r.group;
    if (r.custom) custom.insert(name);
    if (!wanted.count(name)) wanted.emplace(name, LocalApiService(r.group, r.version, r.custom ? "true" : "onstart"));
  }
  bool wrote = false;
  const std::string cluster_scope;  // named: no temporary bound to a coroutine's reference (g++ 12)
  for (auto& [name, obj] : wanted) {
    if (stored.count(name)) continue;
    json::object created = std::move(obj);
    auto done = co_await registry.Create(apiservices, cluster_scope, std::move(created), false);
    wrote |= done.ok();
  }
  // A CRD's group/version that is no longer served takes its APIService with it; so does a
  // built-in one this start does not serve (metrics.k8s.io under --disable=metrics-server), unless
  // a user pointed it at a service since (then it is theirs, as upstream's autoregister leaves it).
  for (const auto& item : listed) {
    if (!item.is_object()) continue;
    const json::object& o = item.as_object();
    const std::string name = api::Name(o);
    const std::string managed = api::GetString(o, {"metadata", "labels", kAutomanaged});
    const bool gone_crd = managed == "true" && !custom.count(name);
    const bool gone_builtin = builtins && managed == "onstart" && !wanted.count(name) &&
                              api::GetString(o, {"spec", "service", "name"}).empty();
    if (!gone_crd && !gone_builtin) continue;
    DeleteOptions once;
    auto done = co_await registry.Delete(apiservices, cluster_scope, name, once);
    wrote |= done.ok();
  }
  co_return wrote;
}

asio::awaitable<Status> EnsureAuthenticationConfigMap(Registry& registry, const std::string& client_ca_pem,
                                                      const std::string& request_header_ca_pem) {
  static const api::ResourceInfo& configmaps = *api::FindResource("", "v1", "configmaps");
  const std::string ns = "kube-system", name = "extension-apiserver-authentication";
  json::object data{
      {"client-ca-file", client_ca_pem},
      {"requestheader-allowed-names", "[\"system:auth-proxy\"]"},
      {"requestheader-client-ca-file", request_header_ca_pem},
      {"requestheader-extra-headers-prefix", "[\"X-Remote-Extra-\"]"},
      {"requestheader-group-headers", "[\"X-Remote-Group\"]"},
      {"requestheader-username-headers", "[\"X-Remote-User\"]"},
  };
  auto got = co_await registry.Get(configmaps, ns, name);
  if (!got.ok()) {
    json::object cm{{"apiVersion", "v1"},
                    {"kind", "ConfigMap"},
                    {"metadata", json::object{{"name", name}, {"namespace", ns}}},
                    {"data", std::move(data)}};
    auto created = co_await registry.Create(configmaps, ns, std::move(cm), false);
    co_return created.ok() ? Status::Ok() : created.error();
  }
  json::object cm = std::move(got.value());
  if (api::GetObject(cm, "data") == data) co_return Status::Ok();
  cm["data"] = std::move(data);
  UpdateOptions o;
  auto updated = co_await registry.Update(configmaps, ns, name, std::move(cm), o);
  co_return updated.ok() ? Status::Ok() : updated.error();
}

}  // namespace kite::apiserver
