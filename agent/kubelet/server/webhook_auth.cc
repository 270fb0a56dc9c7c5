#include "agent/kubelet/server/webhook_auth.h"

#include <boost/json.hpp>

#include "api/object.h"
#include "api/resources.h"
#include "base/pki.h"
#include "client/client.h"

namespace kite::kubelet::server {
namespace json = boost::json;

namespace {

constexpr auto kTokenTtl = std::chrono::minutes(2);
constexpr auto kAllowedTtl = std::chrono::minutes(5);
constexpr auto kDeniedTtl = std::chrono::seconds(30);
// Bounds each cache: past it, the cache starts over (a flood of distinct tokens cannot grow it).
constexpr size_t kMaxEntries = 4096;

bool Under(const std::string& path, const std::string& prefix) {
  return path == prefix || path.rfind(prefix + "/", 0) == 0;
}

template <typename Map>
void Remember(Map& m, const std::string& key, typename Map::mapped_type value) {
  if (m.size() >= kMaxEntries) m.clear();
  m[key] = std::move(value);
}

}  // namespace

KubeletRequestAttributes AttributesOf(const std::string& method, const std::string& path) {
  KubeletRequestAttributes a;
  if (method == "POST") a.verb = "create";
  else if (method == "PUT") a.verb = "update";
  else if (method == "PATCH") a.verb = "patch";
  else if (method == "DELETE") a.verb = "delete";
  else a.verb = "get";
  if (Under(path, "/stats")) a.subresource = "stats";
  else if (Under(path, "/metrics")) a.subresource = "metrics";
  else if (Under(path, "/logs")) a.subresource = "log";
  else if (Under(path, "/spec")) a.subresource = "spec";
  else a.subresource = "proxy";
  return a;
}

WebhookAuthorizer::WebhookAuthorizer(client::Client* client, std::string node_name)
    : client_(client), node_name_(std::move(node_name)) {}

Result<std::optional<KubeletUser>> WebhookAuthorizer::AuthenticateToken(const std::string& token) {
  const std::string key = pki::Sha256Hex(token);
  const auto now = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = tokens_.find(key); it != tokens_.end() && it->second.first > now) return it->second.second;
  }
  const api::ResourceInfo* r = api::FindResource("authentication.k8s.io", "v1", "tokenreviews");
  json::object review{{"apiVersion", "authentication.k8s.io/v1"},
                      {"kind", "TokenReview"},
                      {"metadata", json::object()},
                      {"spec", json::object{{"token", token}}}};
  auto answer = client_->Create(*r, "", review);
  if (!answer.ok()) return answer.status();
  const json::object& status = api::GetObject(*answer, "status");
  std::optional<KubeletUser> user;
  if (api::GetBool(status, "authenticated")) {
    const json::object& u = api::GetObject(status, "user");
    user = KubeletUser{api::GetString(u, "username"), api::GetString(u, "uid"), api::GetStrings(u, "groups")};
  }
  std::lock_guard<std::mutex> lock(mu_);
  Remember(tokens_, key, {now + kTokenTtl, user});
  return user;
}

Result<bool> WebhookAuthorizer::Authorize(const KubeletUser& user, const KubeletRequestAttributes& a) {
  std::string key = user.name + "\n" + a.verb + "\n" + a.subresource;
  for (const auto& g : user.groups) key += "\n" + g;
  const auto now = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = decisions_.find(key); it != decisions_.end() && it->second.first > now) return it->second.second;
  }
  json::array groups;
  for (const auto& g : user.groups) groups.emplace_back(g);
  json::object spec{{"user", user.name},
                    {"groups", std::move(groups)},
                    {"resourceAttributes", json::object{{"verb", a.verb},
                                                        {"group", ""},
                                                        {"version", "v1"},
                                                        {"resource", "nodes"},
                                                        {"subresource", a.subresource},
                                                        {"name", node_name_}}}};
  if (!user.uid.empty()) spec["uid"] = user.uid;
  json::object review{{"apiVersion", "authorization.k8s.io/v1"},
                      {"kind", "SubjectAccessReview"},
                      {"metadata", json::object()},
                      {"spec", std::move(spec)}};
  const api::ResourceInfo* r = api::FindResource("authorization.k8s.io", "v1", "subjectaccessreviews");
  auto answer = client_->Create(*r, "", review);
  if (!answer.ok()) return answer.status();
  const bool allowed = api::GetBool(api::GetObject(*answer, "status"), "allowed");
  std::lock_guard<std::mutex> lock(mu_);
  Remember(decisions_, key, {now + (allowed ? kAllowedTtl : kDeniedTtl), allowed});
  return allowed;
}

}  // namespace kite::kubelet::server
