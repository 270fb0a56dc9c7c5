#include "server/controllers/common/served_resources.h"

#include <algorithm>
#include <set>

#include "api/object.h"

namespace kite::controllers {
namespace json = boost::json;
namespace {

bool HasVerb(const api::ResourceInfo& r, const char* verb) {
  return std::find(r.verbs.begin(), r.verbs.end(), verb) != r.verbs.end();
}

std::string GroupOf(const std::string& api_version) {
  auto slash = api_version.find('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

}  // namespace

std::vector<const api::ResourceInfo*> SweepableBuiltins(bool skip_events) {
  std::map<std::string, std::string> preferred;  // group → preferred version
  for (const auto& g : api::BuiltinGroups()) {
    if (!g.versions.empty()) preferred[g.name] = g.versions.front();
  }
  std::vector<const api::ResourceInfo*> out;
  std::set<std::string> seen;
  for (const auto& r : api::BuiltinResources()) {
    if (!HasVerb(r, "list") || !HasVerb(r, "watch") || !HasVerb(r, "delete")) continue;
    if (skip_events && r.resource == "events") continue;
    auto p = preferred.find(r.group);
    if (p != preferred.end() && p->second != r.version) continue;
    if (!seen.insert(r.group + "/" + r.resource).second) continue;
    out.push_back(&r);
  }
  return out;
}

std::optional<api::ResourceInfo> CustomResourceOf(const json::object& crd) {
  if (api::IsBeingDeleted(crd)) return std::nullopt;
  bool established = false;
  for (const auto& c : api::GetArray(crd, {"status", "conditions"})) {
    if (c.is_object() && api::GetString(c.as_object(), "type") == "Established" && api::GetString(c.as_object(), "status") == "True") {
      established = true;
    }
  }
  if (!established) return std::nullopt;
  const auto& spec = api::GetObject(crd, "spec");
  const auto& names = api::GetObject(spec, "names");
  api::ResourceInfo r;
  r.group = api::GetString(spec, "group");
  r.kind = api::GetString(names, "kind");
  r.resource = api::GetString(names, "plural");
  r.singular = api::GetString(names, "singular");
  r.namespaced = api::GetString(spec, "scope") != "Cluster";
  r.verbs = {"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"};
  r.custom = true;
  for (const auto& v : api::GetArray(spec, "versions")) {
    if (!v.is_object()) continue;
    const auto& vo = v.as_object();
    if (!api::GetBool(vo, "served")) continue;
    // The storage version if served, otherwise the first served one.
    if (r.version.empty() || api::GetBool(vo, "storage")) r.version = api::GetString(vo, "name");
  }
  if (r.group.empty() || r.kind.empty() || r.resource.empty() || r.version.empty()) return std::nullopt;
  return r;
}

const api::ResourceInfo* KindResolver::Find(const std::string& api_version, const std::string& kind) {
  const std::string group = GroupOf(api_version);
  const std::string version = api_version.substr(api_version.find('/') == std::string::npos ? 0 : api_version.find('/') + 1);
  const api::ResourceInfo* any = nullptr;
  for (const auto& r : api::BuiltinResources()) {
    if (r.group != group || r.kind != kind) continue;
    if (r.version == version) return &r;
    if (!any) any = &r;
  }
  if (any) return any;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = custom_.find(group + "/" + kind);
  return it == custom_.end() ? nullptr : it->second.get();
}

const api::ResourceInfo* KindResolver::Add(const api::ResourceInfo& custom) {
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = custom_[custom.group + "/" + custom.kind];
  if (!slot) slot = std::make_unique<api::ResourceInfo>(custom);
  return slot.get();
}

}  // namespace kite::controllers
