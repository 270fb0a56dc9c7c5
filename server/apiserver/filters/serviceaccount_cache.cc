#include "server/apiserver/filters/serviceaccount_cache.h"

#include <boost/json.hpp>

#include <mutex>

#include "api/object.h"
#include "server/apiserver/storage/stored_json.h"

namespace kite::apiserver {
namespace json = boost::json;

namespace {

constexpr std::string_view kRegistry = "/registry/";

std::optional<json::object> ParseObject(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.as_object());
}

// "/registry/pods/ns/name" → "pods/ns/name"; "/registry/nodes/n1" → "nodes//n1".
std::string CacheKey(const std::string& key) {
  std::string_view rest(key);
  rest.remove_prefix(kRegistry.size());
  const size_t slash = rest.find('/');
  if (rest.substr(0, slash) == "nodes") return "nodes//" + std::string(rest.substr(slash + 1));
  return std::string(rest);
}

}  // namespace

std::optional<json::object> ServiceAccountObjectCache::Trim(const std::string& resource, std::string_view stored) {
  json::object meta;
  json::object whole;
  if (resource == "secrets") {
    // The type and data live outside metadata; Secrets are written rarely enough to decode whole.
    auto o = ParseObject(stored);
    if (!o) return std::nullopt;
    whole = std::move(*o);
    meta = api::Metadata(whole);
  } else {
    // The metadata alone: a pod's spec and status are most of its text.
    auto scan = ScanStoredObject(stored);
    std::optional<json::object> m;
    if (scan && scan->meta_begin != StoredObjectScan::npos) {
      m = ParseObject(stored.substr(scan->meta_begin, scan->meta_end - scan->meta_begin));
    } else if (auto o = ParseObject(stored)) {
      m = api::Metadata(*o);
    }
    if (!m) return std::nullopt;
    meta = std::move(*m);
  }
  json::object trimmed_meta;
  for (const char* k : {"name", "namespace", "uid", "deletionTimestamp"}) {
    if (auto it = meta.find(k); it != meta.end()) trimmed_meta[k] = it->value();
  }
  const std::string sa_name = api::GetString(api::GetObject(meta, "annotations"), "kubernetes.io/service-account.name");
  if (!sa_name.empty()) trimmed_meta["annotations"] = json::object{{"kubernetes.io/service-account.name", sa_name}};
  json::object out{{"metadata", std::move(trimmed_meta)}};
  if (resource == "secrets") {
    const std::string type = api::GetString(whole, "type");
    if (!type.empty()) out["type"] = type;
    if (type == "kubernetes.io/service-account-token") {
      const std::string token = api::GetString(api::GetObject(whole, "data"), "token");
      if (!token.empty()) out["data"] = json::object{{"token", token}};
    }
  }
  return out;
}

ServiceAccountObjectCache::ServiceAccountObjectCache(datastore::Store* store, ServiceAccountAuthenticator::Getter fallback)
    : fallback_(std::move(fallback)) {
  follower_ = std::make_unique<KeyFollower>(
      store,
      std::vector<std::string>{"/registry/serviceaccounts/", "/registry/pods/", "/registry/secrets/", "/registry/nodes/"},
      [this](const std::string& key, const datastore::Value& value) { Apply(key, value); }, nullptr);
}

ServiceAccountObjectCache::~ServiceAccountObjectCache() { follower_->Stop(); }

void ServiceAccountObjectCache::Apply(const std::string& key, const datastore::Value& value) {
  if (key.size() <= kRegistry.size()) return;
  std::string k = CacheKey(key);
  std::shared_ptr<const json::object> trimmed;
  if (value) {
    auto t = Trim(k.substr(0, k.find('/')), *value);
    if (t) trimmed = std::make_shared<const json::object>(std::move(*t));
  }
  std::unique_lock<std::shared_mutex> lock(mu_);
  if (trimmed) objects_[std::move(k)] = std::move(trimmed);
  else objects_.erase(k);
}

Result<json::object> ServiceAccountObjectCache::Get(const std::string& resource, const std::string& ns,
                                                    const std::string& name) const {
  const std::string k = resource + "/" + ns + "/" + name;
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    if (auto it = objects_.find(k); it != objects_.end()) return *it->second;
  }
  return fallback_(resource, ns, name);
}

}  // namespace kite::apiserver
