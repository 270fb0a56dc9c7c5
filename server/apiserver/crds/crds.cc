#include "server/apiserver/crds/crds.h"

#include <algorithm>
#include <chrono>

#include "api/json_schema.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/printers/tables.h"

namespace kite::apiserver {
namespace json = boost::json;

namespace {

const json::object* ObjAt(const json::object& o, const char* k) {
  auto it = o.find(k);
  return it != o.end() && it->value().is_object() ? &it->value().as_object() : nullptr;
}

std::vector<std::string> StringList(const json::object& o, const char* k) {
  std::vector<std::string> out;
  auto it = o.find(k);
  if (it == o.end() || !it->value().is_array()) return out;
  for (const auto& v : it->value().as_array()) {
    if (v.is_string()) out.emplace_back(v.as_string());
  }
  return out;
}

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
    const json::object* sc = versions[i].is_object() ? ObjAt(versions[i].as_object(), "schema") : nullptr;
    const json::object* oas = sc ? ObjAt(*sc, "openAPIV3Schema") : nullptr;
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
  const json::object* spec = ObjAt(crd, "spec");
  if (!spec) return out;
  const json::object* names = ObjAt(*spec, "names");
  if (!names) return out;
  const std::string group = StrOf(*spec, "group");
  const std::string plural = StrOf(*names, "plural");
  const std::string kind = StrOf(*names, "kind");
  std::string singular = StrOf(*names, "singular");
  if (singular.empty()) singular = Lower(kind);
  const bool namespaced = StrOf(*spec, "scope") != "Cluster";
  auto versions = spec->find("versions");
  if (versions == spec->end() || !versions->value().is_array()) return out;
  for (const auto& v : versions->value().as_array()) {
    if (!v.is_object()) continue;
    const auto& ver = v.as_object();
    auto served = ver.find("served");
    if (served == ver.end() || !served->value().is_bool() || !served->value().as_bool()) continue;
    api::ResourceInfo r;
    r.group = group;
    r.version = StrOf(ver, "name");
    r.kind = kind;
    r.resource = plural;
    r.singular = singular;
    r.namespaced = namespaced;
    r.verbs = {"delete", "deletecollection", "get", "list", "patch", "create", "update", "watch"};
    r.short_names = StringList(*names, "shortNames");
    r.categories = StringList(*names, "categories");
    if (const json::object* subs = ObjAt(ver, "subresources")) {
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
    if (const json::object* meta = ObjAt(crd, "metadata"); meta && meta->contains("deletionTimestamp")) continue;
    for (auto& r : CustomResourceInfos(crd)) custom.push_back(std::move(r));
  }
  auto set = api::ResourceSet::With(std::move(custom));
  std::lock_guard<std::mutex> lock(mu_);
  set_ = std::move(set);
}

std::optional<ApiError> PrepareCrd(json::object& crd, const api::ResourceSet& served) {
  std::vector<ApiError::Cause> causes;
  auto bad = [&](const std::string& field, const std::string& msg, const char* reason = "FieldValueInvalid") {
    causes.push_back({reason, msg, field});
  };
  json::object& meta = MetaOf(crd);
  const std::string name = StrOf(meta, "name");
  json::value& sv = crd["spec"];
  if (!sv.is_object()) sv = json::object();
  json::object& spec = sv.as_object();
  const std::string group = StrOf(spec, "group");
  json::value& nv = spec["names"];
  if (!nv.is_object()) nv = json::object();
  json::object& names = nv.as_object();
  const std::string plural = StrOf(names, "plural"), kind = StrOf(names, "kind");
  if (group.empty()) bad("spec.group", "Required value", "FieldValueRequired");
  else if (group.find('.') == std::string::npos) {
    bad("spec.group", "Invalid value: \"" + group + "\": should be a domain with at least one dot");
  }
  if (plural.empty()) bad("spec.names.plural", "Required value", "FieldValueRequired");
  if (kind.empty()) bad("spec.names.kind", "Required value", "FieldValueRequired");
  if (!plural.empty() && !group.empty() && name != plural + "." + group) {
    bad("metadata.name", "Invalid value: \"" + name + "\": must be spec.names.plural+\".\"+spec.group");
  }
  if (StrOf(spec, "scope") != "Namespaced" && StrOf(spec, "scope") != "Cluster") {
    bad("spec.scope", "Unsupported value: \"" + StrOf(spec, "scope") + "\": supported values: \"Cluster\", \"Namespaced\"",
        "FieldValueNotSupported");
  }
  if (StrOf(names, "singular").empty() && !kind.empty()) names["singular"] = Lower(kind);
  if (StrOf(names, "listKind").empty() && !kind.empty()) names["listKind"] = kind + "List";
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
        storage = StrOf(ver, "name");
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
    ApiError e{422, "Invalid", ""};
    std::string list;
    for (size_t i = 0; i < causes.size(); ++i) list += (i ? ", " : "") + causes[i].field + ": " + causes[i].message;
    e.message = "CustomResourceDefinition.apiextensions.k8s.io \"" + name + "\" is invalid: " +
                (causes.size() > 1 ? "[" + list + "]" : list);
    e.causes = std::move(causes);
    e.name = name;
    e.group = "apiextensions.k8s.io";
    e.kind = "CustomResourceDefinition";
    return e;
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
  const std::string now = NowRfc3339();
  status["conditions"] = json::array{
      json::object{{"type", "NamesAccepted"}, {"status", "True"}, {"lastTransitionTime", now},
                   {"reason", "NoConflicts"}, {"message", "no conflicts found"}},
      json::object{{"type", "Established"}, {"status", "True"}, {"lastTransitionTime", now},
                   {"reason", "InitialNamesAccepted"}, {"message", "the initial names have been accepted"}}};
  return std::nullopt;
}

json::object CustomResourceTable(const api::ResourceInfo& r, const json::object& obj_or_list, bool include_object_full,
                                 bool include_none, const std::string& table_version) {
  json::array columns{json::object{{"name", "Name"}, {"type", "string"}, {"format", "name"},
                                   {"description", "The object's name."}, {"priority", 0}}};
  struct Col {
    std::string path, type;
  };
  std::vector<Col> cols;
  bool have_printer_columns = false;
  if (r.crd_version) {
    auto it = r.crd_version->find("additionalPrinterColumns");
    if (it != r.crd_version->end() && it->value().is_array()) {
      for (const auto& c : it->value().as_array()) {
        if (!c.is_object()) continue;
        const auto& co = c.as_object();
        have_printer_columns = true;
        int64_t priority = co.contains("priority") && co.at("priority").is_int64() ? co.at("priority").as_int64() : 0;
        columns.push_back(json::object{{"name", StrOf(co, "name")}, {"type", StrOf(co, "type")},
                                       {"format", StrOf(co, "format")}, {"description", StrOf(co, "description")},
                                       {"priority", priority}});
        cols.push_back({StrOf(co, "jsonPath"), StrOf(co, "type")});
      }
    }
  }
  if (!have_printer_columns) {
    columns.push_back(json::object{{"name", "Age"}, {"type", "date"}, {"format", ""},
                                   {"description", "Time since the object was created."}, {"priority", 0}});
    cols.push_back({".metadata.creationTimestamp", "date"});
  }
  const auto now = std::chrono::system_clock::now();
  auto row = [&](const json::object& obj) {
    json::array cells;
    auto mit = obj.find("metadata");
    std::string name = mit != obj.end() && mit->value().is_object() ? StrOf(mit->value().as_object(), "name") : "";
    cells.push_back(json::string(name));
    json::value root = obj;
    for (const auto& c : cols) {
      auto vals = api::EvalJsonPath(root, c.path);
      if (vals.empty()) {
        cells.push_back(nullptr);
      } else if (c.type == "date") {
        cells.push_back(vals[0].is_string() ? json::value(json::string(HumanAge(vals[0].as_string(), now))) : json::value(nullptr));
      } else if (vals.size() == 1 && !vals[0].is_object() && !vals[0].is_array()) {
        cells.push_back(vals[0]);
      } else {
        std::string joined;
        for (const auto& v : vals) joined += (joined.empty() ? "" : ",") + (v.is_string() ? std::string(v.as_string()) : json::serialize(v));
        cells.push_back(json::string(joined));
      }
    }
    json::object out{{"cells", std::move(cells)}};
    if (include_object_full) {
      out["object"] = obj;
    } else if (!include_none) {
      out["object"] = json::object{{"kind", "PartialObjectMetadata"}, {"apiVersion", table_version},
                                   {"metadata", mit != obj.end() ? mit->value() : json::value(json::object())}};
    }
    return out;
  };
  json::array rows;
  json::object meta;
  auto items = obj_or_list.find("items");
  if (items != obj_or_list.end() && items->value().is_array()) {
    for (const auto& it : items->value().as_array()) {
      if (it.is_object()) rows.push_back(row(it.as_object()));
    }
    if (auto m = obj_or_list.find("metadata"); m != obj_or_list.end() && m->value().is_object()) meta = m->value().as_object();
  } else {
    rows.push_back(row(obj_or_list));
    if (auto m = obj_or_list.find("metadata"); m != obj_or_list.end() && m->value().is_object()) {
      meta["resourceVersion"] = m->value().as_object().contains("resourceVersion") ? m->value().as_object().at("resourceVersion") : json::value("");
    }
  }
  return json::object{{"kind", "Table"}, {"apiVersion", table_version}, {"metadata", std::move(meta)},
                      {"columnDefinitions", std::move(columns)}, {"rows", std::move(rows)}};
}

}  // namespace kite::apiserver
