#include "api/schema.h"

#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>

#include "api/resources.h"

namespace kite::api::schema {

// The text of api/schema/builtin.schema, embedded by CMake (api/schema/embed.cmake).
extern const char kBuiltinSchemaText[];

namespace {

struct Registry {
  std::vector<std::unique_ptr<Type>> owned;
  std::map<std::string, Type*, std::less<>> by_name;
  std::vector<const Type*> all;
};

Type* Declare(Registry& r, const std::string& name) {
  auto it = r.by_name.find(name);
  if (it != r.by_name.end()) return it->second;
  r.owned.push_back(std::make_unique<Type>());
  Type* t = r.owned.back().get();
  t->name = name;
  r.by_name.emplace(name, t);
  return t;
}

bool ScalarKind(const std::string& s, ValueKind* k) {
  static const std::map<std::string, ValueKind, std::less<>> kKinds = {
      {"string", ValueKind::kString},       {"bytes", ValueKind::kBytes},
      {"bool", ValueKind::kBool},           {"int32", ValueKind::kInt32},
      {"int64", ValueKind::kInt64},         {"double", ValueKind::kDouble},
      {"quantity", ValueKind::kQuantity},   {"intorstring", ValueKind::kIntOrString},
      {"time", ValueKind::kTime},           {"microtime", ValueKind::kMicroTime},
      {"duration", ValueKind::kDuration},   {"rawextension", ValueKind::kRawExtension},
      {"fieldsv1", ValueKind::kFieldsV1},   {"json", ValueKind::kJson}};
  auto it = kKinds.find(s);
  if (it == kKinds.end()) return false;
  *k = it->second;
  return true;
}

// The file is ours and checked by a unit test, so a malformed line is a programming error:
// fail loudly at first use rather than serve a half-read schema.
[[noreturn]] void Malformed(int line, const std::string& why) {
  throw std::logic_error("api/schema/builtin.schema:" + std::to_string(line) + ": " + why);
}

std::unique_ptr<Registry> Load() {
  auto r = std::make_unique<Registry>();
  std::istringstream in(kBuiltinSchemaText);
  std::string line;
  Type* current = nullptr;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (line.empty() || line[0] == '#') continue;
    std::istringstream words(line);
    std::vector<std::string> w;
    for (std::string s; words >> s;) w.push_back(s);
    if (w.empty()) continue;
    if (line[0] != ' ') {
      if (w[0] != "type" || w.size() < 2) Malformed(lineno, "expected 'type <name>'");
      current = Declare(*r, w[1]);
      current->wrapper = w.size() > 2 && w[2] == "wrapper";
      r->all.push_back(current);
      continue;
    }
    if (!current || w.size() < 3) Malformed(lineno, "field outside a type or too short");
    Field f;
    f.name = w[0];
    f.number = std::atoi(w[1].c_str());
    size_t i = 2;
    if (w[i] == "list") f.repeated = true, ++i;
    else if (w[i] == "map") f.map = true, ++i;
    if (i >= w.size()) Malformed(lineno, "missing value type");
    if (!ScalarKind(w[i], &f.kind)) {
      f.kind = ValueKind::kMessage;
      f.type = Declare(*r, w[i]);
    }
    for (++i; i < w.size(); ++i) {
      if (w[i] == "ptr") f.pointer = true;
      else if (w[i] == "inline") f.inline_ = true;
      else if (w[i].rfind("patch=", 0) == 0) f.patch_strategy = w[i].substr(6);
      else if (w[i].rfind("key=", 0) == 0) f.patch_merge_key = w[i].substr(4);
      else Malformed(lineno, "unknown attribute " + w[i]);
    }
    current->fields.push_back(std::move(f));
  }
  for (auto& t : r->owned) {
    if (t->fields.empty() && !t->wrapper) {
      bool declared = false;
      for (const Type* a : r->all) declared |= a == t.get();
      if (!declared) Malformed(0, "type " + t->name + " is used but never declared");
    }
  }
  return r;
}

const Registry& Get() {
  static const std::unique_ptr<Registry> r = Load();
  return *r;
}

// k8s.io/api package of a group: "" → core, "apps" → apps, "rbac.authorization.k8s.io" → rbac.
std::string PackageOf(std::string_view group) {
  if (group.empty()) return "core";
  return std::string(group.substr(0, group.find('.')));
}

std::string TypePrefix(std::string_view group, std::string_view version) {
  if (group == "meta.k8s.io") return "io.k8s.apimachinery.pkg.apis.meta.v1.";
  if (group == "apiextensions.k8s.io") {
    return "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions." + std::string(version) + ".";
  }
  if (group == "apiregistration.k8s.io") {
    return "io.k8s.kube-aggregator.pkg.apis.apiregistration." + std::string(version) + ".";
  }
  return "io.k8s.api." + PackageOf(group) + "." + std::string(version) + ".";
}

}  // namespace

const Field* Type::Find(std::string_view json_name) const {
  for (const Field& f : fields) {
    if (f.inline_ && f.type) {
      if (const Field* g = f.type->Find(json_name)) return g;
    } else if (f.name == json_name) {
      return &f;
    }
  }
  return nullptr;
}

const Field* Type::FindNumber(int number) const {
  for (const Field& f : fields) {
    if (f.number == number) return &f;
  }
  return nullptr;
}

const Type* FindType(std::string_view name) {
  const auto& r = Get();
  auto it = r.by_name.find(name);
  return it == r.by_name.end() ? nullptr : it->second;
}

const Type* TypeForKind(std::string_view group, std::string_view version, std::string_view kind) {
  // Only built-in groups have built-in schemas (authorization.example.com is not authorization).
  bool known = group == "meta.k8s.io";
  for (const auto& g : BuiltinGroups()) known |= g.name == group;
  if (!known) return nullptr;
  return FindType(TypePrefix(group, version) + std::string(kind));
}

const std::vector<const Type*>& AllTypes() { return Get().all; }

std::vector<GroupVersionKind> KindsOf(const Type& t) {
  std::vector<GroupVersionKind> out;
  auto consider = [&](const std::string& g, const std::string& v, const std::string& k) {
    if (TypeForKind(g, v, k) != &t) return;
    for (const auto& o : out) {
      if (o.group == g && o.version == v && o.kind == k) return;
    }
    out.push_back({g, v, k});
  };
  for (const auto& r : BuiltinResources()) {
    consider(r.group, r.version, r.kind);
    consider(r.group, r.version, r.kind + "List");
    for (const auto& s : r.subresources) {
      consider(s.group.empty() ? r.group : s.group, s.version.empty() ? r.version : s.version, s.kind);
    }
  }
  return out;
}

}  // namespace kite::api::schema
