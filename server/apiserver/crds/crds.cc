#include "server/apiserver/crds/crds.h"

#include <algorithm>
#include <chrono>

#include "api/object.h"
#include "api/time.h"
#include "api/json_schema.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/storage/store_await.h"

namespace kite::apiserver {
namespace json = boost::json;

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Kubernetes version priority: GA > beta > alpha, higher numbers first, then others by name.
int VersionRank(const std::string& v, int* major, int* minor) {
  *major = *minor = 0;
  if (v.size() < 2 || v[0] != 'v' || !std::isdigit(static_cast<unsigned char>(v[1]))) return 0;
  size_t i = 1;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) *major = *major * 10 + (v[i++] - '0');
  if (i == v.size()) return 3;
  int kind = v.compare(i, 4, "beta") == 0 ? 2 : v.compare(i, 5, "alpha") == 0 ? 1 : 0;
  if (!kind) return 0;
  i += kind == 2 ? 4 : 5;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i]))) *minor = *minor * 10 + (v[i++] - '0');
  return i == v.size() ? kind : 0;
}

bool VersionBefore(const std::string& a, const std::string& b) {
  int am, an, bm, bn;
  int ar = VersionRank(a, &am, &an), br = VersionRank(b, &bm, &bn);
  if (ar != br) return ar > br;
  if (am != bm) return am > bm;
  if (an != bn) return an > bn;
  return a < b;
}

// A pattern that does not compile is refused at create and update, as upstream refuses it, so
// that no stored CRD carries one. Upstream validates its internal form, in which per-version
// schemas that are all identical are one top-level spec.validation: its messages name that path
// then, and spec.versions[i].schema otherwise.
template <typename Bad>
void CheckPatterns(const json::array& versions, Bad& bad) {
  const json::value* first = nullptr;
  bool identical = true;
  for (const auto& v : versions) {
    const json::value* sc = v.is_object() ? v.as_object().if_contains("schema") : nullptr;
    if (&v == &versions.front()) first = sc;
    else identical = identical && (sc == nullptr ? first == nullptr : first != nullptr && *sc == *first);
  }
  for (size_t i = 0; i < versions.size(); ++i) {
    if (identical && i > 0) break;
    const json::object* sc = versions[i].is_object() ? api::FindObject(versions[i].as_object(), "schema") : nullptr;
    const json::object* oas = sc ? api::FindObject(*sc, "openAPIV3Schema") : nullptr;
    if (!oas) continue;
    std::vector<api::SchemaError> errs;
    api::CheckSchemaPatterns(*oas,
                             identical ? "spec.validation.openAPIV3Schema"
                                       : "spec.versions[" + std::to_string(i) + "].schema.openAPIV3Schema",
                             &errs);
    for (const auto& e : errs) bad(e.field, e.message, e.reason.c_str());
  }
}

}  // namespace

std::vector<api::ResourceInfo> CustomResourceInfos(const json::object& crd) {
  std::vector<api::ResourceInfo> out;
  const json::object* spec = api::FindObject(crd, "spec");
  if (!spec) return out;
  const json::object* names = api::FindObject(*spec, "names");
  if (!names) return out;
  const std::string group = api::GetString(*spec, "group");
  const std::string plural = api::GetString(*names, "plural");
  const std::string kind = api::GetString(*names, "kind");
  std::string singular = api::GetString(*names, "singular");
  if (singular.empty()) singular = Lower(kind);
  const bool namespaced = api::GetString(*spec, "scope") != "Cluster";
  auto versions = spec->find("versions");
  if (versions == spec->end() || !versions->value().is_array()) return out;
  for (const auto& v : versions->value().as_array()) {
    if (!v.is_object()) continue;
    const auto& ver = v.as_object();
    auto served = ver.find("served");
    if (served == ver.end() || !served->value().is_bool() || !served->value().as_bool()) continue;
    api::ResourceInfo r;
    r.group = group;
    r.version = api::GetString(ver, "name");
    r.kind = kind;
    r.resource = plural;
    r.singular = singular;
    r.namespaced = namespaced;
    r.verbs = {"delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"};
    r.short_names = api::GetStrings(*names, "shortNames");
    r.categories = api::GetStrings(*names, "categories");
    if (const json::object* subs = api::FindObject(ver, "subresources")) {
      if (subs->contains("status")) r.subresources.push_back({"status", "", "", kind, {"get", "patch", "update"}});
      if (subs->contains("scale")) r.subresources.push_back({"scale", "autoscaling", "v1", "Scale", {"get", "patch", "update"}});
    }
    r.custom = true;
    r.crd_version = std::make_shared<const json::object>(ver);
    out.push_back(std::move(r));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const api::ResourceInfo& a, const api::ResourceInfo& b) { return VersionBefore(a.version, b.version); });
  return out;
}

void CustomResources::Reload() {
  datastore::RangeRequest q;
  q.key = "/registry/customresourcedefinitions/";
  q.range_end = "/registry/customresourcedefinitions0";
  auto res = store_->Range(q);
  if (!res.ok()) return;
  std::vector<api::ResourceInfo> custom;
  for (const auto& kv : res->kvs) {
    boost::system::error_code ec;
    json::value v = json::parse(kv.value_or_empty(), ec);
    if (ec || !v.is_object()) continue;
    const auto& crd = v.as_object();
    if (const json::object* meta = api::FindObject(crd, "metadata"); meta && meta->contains("deletionTimestamp")) continue;
    for (auto& r : CustomResourceInfos(crd)) custom.push_back(std::move(r));
  }
  std::lock_guard<std::mutex> lock(mu_);
  custom_ = std::move(custom);
  Publish();
}

void CustomResources::SetAggregated(std::vector<api::ResourceInfo> aggregated) {
  for (auto& r : aggregated) r.aggregated = true;
  std::lock_guard<std::mutex> lock(mu_);
  aggregated_ = std::move(aggregated);
  Publish();
}

void CustomResources::SetDelegates(std::set<std::string> delegates) {
  std::lock_guard<std::mutex> lock(mu_);
  delegates_ = std::move(delegates);
  Publish();
}

void CustomResources::Publish() {
  std::vector<api::ResourceInfo> all = custom_;
  all.insert(all.end(), aggregated_.begin(), aggregated_.end());
  set_ = api::ResourceSet::With(std::move(all), [this](const api::ResourceInfo& r) {
    return r.delegated && !delegates_.count(r.group) && !delegates_.count(r.group + "/" + r.resource);
  });
}

std::optional<Status> PrepareCrd(json::object& crd, const api::ResourceSet& served) {
  std::vector<Status::Cause> causes;
  auto bad = [&](const std::string& field, const std::string& msg, const char* reason = "FieldValueInvalid") {
    causes.push_back({reason, msg, field});
  };
  json::object& meta = api::MutableObject(crd, "metadata");
  const std::string name = api::GetString(meta, "name");
  json::value& sv = crd["spec"];
  if (!sv.is_object()) sv = json::object();
  json::object& spec = sv.as_object();
  const std::string group = api::GetString(spec, "group");
  json::value& nv = spec["names"];
  if (!nv.is_object()) nv = json::object();
  json::object& names = nv.as_object();
  const std::string plural = api::GetString(names, "plural"), kind = api::GetString(names, "kind");
  if (group.empty()) bad("spec.group", "Required value", "FieldValueRequired");
  else if (group.find('.') == std::string::npos) {
    bad("spec.group", "Invalid value: \"" + group + "\": should be a domain with at least one dot");
  }
  if (plural.empty()) bad("spec.names.plural", "Required value", "FieldValueRequired");
  if (kind.empty()) bad("spec.names.kind", "Required value", "FieldValueRequired");
  if (!plural.empty() && !group.empty() && name != plural + "." + group) {
    bad("metadata.name", "Invalid value: \"" + name + "\": must be spec.names.plural+\".\"+spec.group");
  }
  if (api::GetString(spec, "scope") != "Namespaced" && api::GetString(spec, "scope") != "Cluster") {
    bad("spec.scope", "Unsupported value: \"" + api::GetString(spec, "scope") + "\": supported values: \"Cluster\", \"Namespaced\"",
        "FieldValueNotSupported");
  }
  if (api::GetString(names, "singular").empty() && !kind.empty()) names["singular"] = Lower(kind);
  if (api::GetString(names, "listKind").empty() && !kind.empty()) names["listKind"] = kind + "List";
  std::string storage;
  int storage_count = 0;
  auto vit = spec.find("versions");
  if (vit == spec.end() || !vit->value().is_array() || vit->value().as_array().empty()) {
    bad("spec.versions", "Invalid value: \"null\": must have exactly one version marked as storage version");
  } else {
    for (auto& v : vit->value().as_array()) {
      if (!v.is_object()) continue;
      auto& ver = v.as_object();
      auto st = ver.find("storage");
      if (st != ver.end() && st->value().is_bool() && st->value().as_bool()) {
        ++storage_count;
        storage = api::GetString(ver, "name");
      }
    }
    CheckPatterns(vit->value().as_array(), bad);
    if (storage_count != 1) {
      bad("spec.versions", "Invalid value: " + std::to_string(storage_count) + ": must have exactly one version marked as storage version");
    }
  }
  if (!group.empty() && !plural.empty()) {
    for (const auto& r : served.resources) {
      if (!r.custom && r.group == group && r.resource == plural) {
        bad("spec.names.plural", "Invalid value: \"" + plural + "\": is served by a built-in API");
      }
    }
  }
  if (!causes.empty()) {
    std::string list;
    for (size_t i = 0; i < causes.size(); ++i) list += (i ? ", " : "") + causes[i].field + ": " + causes[i].message;
    Status::Details d;
    d.causes = std::move(causes);
    d.name = name;
    d.group = "apiextensions.k8s.io";
    d.kind = "CustomResourceDefinition";
    return Status::Api(422, "Invalid", "CustomResourceDefinition.apiextensions.k8s.io \"" + name + "\" is invalid: " +
                                           (d.causes.size() > 1 ? "[" + list + "]" : list))
        .set_details(std::move(d));
  }
  // What the CRD controllers would record once the names are checked: accepted and established.
  json::value& stv = crd["status"];
  if (!stv.is_object()) stv = json::object();
  json::object& status = stv.as_object();
  status["acceptedNames"] = names;
  json::array stored;
  if (auto it = status.find("storedVersions"); it != status.end() && it->value().is_array()) stored = it->value().as_array();
  bool have = false;
  for (const auto& s : stored) have |= s.is_string() && s.as_string() == storage;
  if (!have) stored.push_back(json::string(storage));
  status["storedVersions"] = std::move(stored);
  const std::string now = api::NowTime();
  status["conditions"] = json::array{
      json::object{{"type", "NamesAccepted"}, {"status", "True"}, {"lastTransitionTime", now},
                   {"reason", "NoConflicts"}, {"message", "no conflicts found"}},
      json::object{{"type", "Established"}, {"status", "True"}, {"lastTransitionTime", now},
                   {"reason", "InitialNamesAccepted"}, {"message", "the initial names have been accepted"}}};
  return std::nullopt;
}

boost::asio::awaitable<void> CustomResources::Written(std::string_view verb, bool written) {
  if (!written) co_return;
  const auto before = Snapshot();
  Reload();
  if (verb != "delete" && verb != "deletecollection") co_return;
  const auto after = Snapshot();
  for (const auto& old : before->resources) {
    if (!old.custom || after->Find(old.group, old.version, old.resource)) continue;
    datastore::DeleteRangeRequest del;
    del.key = StoragePrefix(old, "");
    del.range_end = del.key;
    del.range_end.back()++;
    datastore::TxnRequest t;
    t.success.push_back(datastore::RequestOp{std::move(del)});
    // Not retried: objects a failed delete leaves behind are served by no resource (neither
    // listed nor watched) until a CRD of that name is made again.
    auto done = co_await AsyncTxn(store_, std::move(t));
    (void)done;
  }
}

}  // namespace kite::apiserver
