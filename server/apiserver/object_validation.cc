// Per-kind validation on create/update (422 Invalid with one cause per problem, worded like
// upstream's field errors) and immutable fields on update. Covers what users hit in practice;
// upstream's full validation tables are larger (see the issue note).
#include <boost/json.hpp>

#include <cctype>
#include <set>

#include "api/labels.h"
#include "api/validation.h"
#include "server/apiserver/handlers_internal.h"
#include "server/apiserver/registry.h"

namespace kite::apiserver {
namespace json = boost::json;

namespace {

struct Errors {
  std::vector<ApiError::Cause> causes;
  void Required(const std::string& field) { causes.push_back({"FieldValueRequired", "Required value", field}); }
  void Invalid(const std::string& field, const std::string& value, const std::string& detail) {
    causes.push_back({"FieldValueInvalid", "Invalid value: " + value + ": " + detail, field});
  }
  void Immutable(const std::string& field, const std::string& value) {
    causes.push_back({"FieldValueInvalid", "Invalid value: " + value + ": field is immutable", field});
  }
};

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

std::string QualifiedKind(const api::ResourceInfo& r) { return r.group.empty() ? r.kind : r.kind + "." + r.group; }

std::optional<ApiError> ToError(const api::ResourceInfo& r, const json::object& obj, Errors& e) {
  if (e.causes.empty()) return std::nullopt;
  ApiError err{422, "Invalid", ""};
  const auto mit = obj.find("metadata");
  std::string name = mit != obj.end() && mit->value().is_object() ? StrOf(mit->value().as_object(), "name") : "";
  std::string list;
  for (size_t i = 0; i < e.causes.size(); ++i) {
    auto& c = e.causes[i];
    list += (i ? ", " : "") + c.field + ": " + c.message;
  }
  err.message = QualifiedKind(r) + " " + Quoted(name) + " is invalid: " + (e.causes.size() > 1 ? "[" + list + "]" : list);
  err.causes = e.causes;
  err.name = name;
  err.group = r.group;
  err.kind = r.kind;
  return err;
}

const json::object* ObjAt(const json::object& o, std::initializer_list<const char*> path) {
  const json::object* cur = &o;
  for (const char* k : path) {
    auto it = cur->find(k);
    if (it == cur->end() || !it->value().is_object()) return nullptr;
    cur = &it->value().as_object();
  }
  return cur;
}

void ValidateMeta(const json::object& obj, Errors& e) {
  const json::object* meta = ObjAt(obj, {"metadata"});
  if (!meta) return;
  if (auto it = meta->find("labels"); it != meta->end() && it->value().is_object()) {
    for (const auto& kv : it->value().as_object()) {
      for (const auto& m : api::IsQualifiedName(kv.key())) e.Invalid("metadata.labels", Quoted(kv.key()), m);
      if (!kv.value().is_string()) continue;
      for (const auto& m : api::IsValidLabelValue(kv.value().as_string())) {
        e.Invalid("metadata.labels", Quoted(std::string(kv.value().as_string())), m);
      }
    }
  }
  if (auto it = meta->find("annotations"); it != meta->end() && it->value().is_object()) {
    size_t total = 0;
    for (const auto& kv : it->value().as_object()) {
      std::string key(kv.key());
      std::string lower = key;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      for (const auto& m : api::IsQualifiedName(lower)) e.Invalid("metadata.annotations", Quoted(key), m);
      total += key.size() + (kv.value().is_string() ? kv.value().as_string().size() : 0);
    }
    if (total > 256 * 1024) {
      e.causes.push_back({"FieldValueTooLong", "Too long: must have at most 262144 bytes", "metadata.annotations"});
    }
  }
}

// Upstream's MaxSecretSize, the cap on a ConfigMap's or Secret's data (1 MiB).
constexpr size_t kMaxDataBytes = 1024 * 1024;

// The bytes a base64 text decodes to.
size_t Base64DecodedSize(std::string_view b64) {
  size_t pad = 0;
  while (pad < 2 && pad < b64.size() && b64[b64.size() - 1 - pad] == '=') ++pad;
  const size_t full = b64.size() / 4 * 3 + (b64.size() % 4 ? b64.size() % 4 - 1 : 0);
  return full > pad ? full - pad : 0;
}

size_t DataBytes(const json::object& obj, const char* member, bool base64) {
  auto it = obj.find(member);
  if (it == obj.end() || !it->value().is_object()) return 0;
  size_t total = 0;
  for (const auto& kv : it->value().as_object()) {
    if (!kv.value().is_string()) continue;
    const auto& v = kv.value().as_string();
    total += base64 ? Base64DecodedSize(v) : v.size();
  }
  return total;
}

// Upstream counts decoded bytes: a ConfigMap's data and binaryData together (the error names the
// whole object, field "[]"), a Secret's data (field "data"; stringData counts too until it is
// merged into data).
void ValidateDataSize(const api::ResourceInfo& r, const json::object& obj, Errors& e) {
  const bool secret = r.kind == "Secret";
  size_t total = DataBytes(obj, "data", secret) + (secret ? DataBytes(obj, "stringData", false) : DataBytes(obj, "binaryData", true));
  if (total > kMaxDataBytes) {
    e.causes.push_back({"FieldValueTooLong", "Too long: may not be more than " + std::to_string(kMaxDataBytes) + " bytes",
                        secret ? "data" : "[]"});
  }
}

void ValidatePodSpec(const json::object* spec, const std::string& path, Errors& e) {
  if (!spec) {
    e.Required(path + ".containers");
    return;
  }
  auto it = spec->find("containers");
  if (it == spec->end() || !it->value().is_array() || it->value().as_array().empty()) {
    e.Required(path + ".containers");
    return;
  }
  std::set<std::string> names;
  size_t i = 0;
  for (const auto& c : it->value().as_array()) {
    std::string at = path + ".containers[" + std::to_string(i++) + "]";
    if (!c.is_object()) continue;
    std::string name = StrOf(c.as_object(), "name");
    if (name.empty()) e.Required(at + ".name");
    else if (auto bad = ValidateDnsLabel(name); !bad.empty()) e.Invalid(at + ".name", Quoted(name), bad);
    else if (!names.insert(name).second) e.causes.push_back({"FieldValueDuplicate", "Duplicate value: " + Quoted(name), at + ".name"});
    if (StrOf(c.as_object(), "image").empty()) e.Required(at + ".image");
  }
}

void ValidateWorkload(const api::ResourceInfo& r, const json::object& obj, Errors& e) {
  const json::object* spec = ObjAt(obj, {"spec"});
  const json::object* tmpl = spec ? ObjAt(*spec, {"template"}) : nullptr;
  const json::object* sel = spec ? ObjAt(*spec, {"selector"}) : nullptr;
  if (r.kind != "ReplicationController" && !(r.group == "batch")) {
    if (!sel) {
      e.Required("spec.selector");
    } else {
      auto parsed = api::LabelSelector::FromLabelSelectorJson(json::value(*sel));
      if (!parsed.ok()) {
        e.Invalid("spec.selector", "", parsed.status().message());
      } else if (parsed->Empty()) {
        e.Invalid("spec.selector", "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}",
                  "empty selector is invalid for deployment");
      } else {
        const json::object* labels = tmpl ? ObjAt(*tmpl, {"metadata", "labels"}) : nullptr;
        static const json::object kNone;
        if (!parsed->Matches(labels ? *labels : kNone)) {
          std::string shown = "map[string]string{";
          bool first = true;
          if (labels) {
            for (const auto& kv : *labels) {
              shown += (first ? "" : ", ") + json::serialize(json::string(kv.key())) + ":" + json::serialize(kv.value());
              first = false;
            }
          }
          shown += "}";
          e.Invalid("spec.template.metadata.labels", shown, "`selector` does not match template `labels`");
        }
      }
    }
  }
  if (r.kind == "CronJob") {
    const json::object* jt = spec ? ObjAt(*spec, {"jobTemplate", "spec", "template", "spec"}) : nullptr;
    if (spec && StrOf(*spec, "schedule").empty()) e.Required("spec.schedule");
    ValidatePodSpec(jt, "spec.jobTemplate.spec.template.spec", e);
    return;
  }
  ValidatePodSpec(tmpl ? ObjAt(*tmpl, {"spec"}) : nullptr, "spec.template.spec", e);
  if (r.kind == "Job" && tmpl) {
    const json::object* ps = ObjAt(*tmpl, {"spec"});
    std::string rp = ps ? StrOf(*ps, "restartPolicy") : "";
    if (rp != "OnFailure" && rp != "Never") {
      e.causes.push_back({"FieldValueNotSupported",
                          "Unsupported value: " + Quoted(rp) + ": supported values: \"OnFailure\", \"Never\"",
                          "spec.template.spec.restartPolicy"});
    }
  }
}

bool SameAt(const json::object& a, const json::object& b, std::initializer_list<const char*> path) {
  const json::value* x = nullptr;
  const json::value* y = nullptr;
  const json::object* ca = &a;
  const json::object* cb = &b;
  size_t i = 0;
  for (const char* k : path) {
    auto ia = ca ? ca->find(k) : ca->end();
    auto ib = cb ? cb->find(k) : cb->end();
    x = ca && ia != ca->end() ? &ia->value() : nullptr;
    y = cb && ib != cb->end() ? &ib->value() : nullptr;
    if (++i < path.size()) {
      ca = x && x->is_object() ? &x->as_object() : nullptr;
      cb = y && y->is_object() ? &y->as_object() : nullptr;
      if (!ca || !cb) return ca == cb;
    }
  }
  if (!x || !y) return x == y;
  return *x == *y;
}

}  // namespace

std::optional<ApiError> ValidateObject(const api::ResourceInfo& r, const json::object& obj) {
  Errors e;
  ValidateMeta(obj, e);
  if (r.group.empty()) {
    if (r.kind == "Pod") ValidatePodSpec(ObjAt(obj, {"spec"}), "spec", e);
    if (r.kind == "ConfigMap" || r.kind == "Secret") ValidateDataSize(r, obj, e);
    if (r.kind == "Service") {
      const json::object* spec = ObjAt(obj, {"spec"});
      std::string type = spec ? StrOf(*spec, "type") : "";
      std::string cip = spec ? StrOf(*spec, "clusterIP") : "";
      auto ports = spec ? spec->find("ports") : nullptr;
      bool has_ports = spec && ports != spec->end() && ports->value().is_array() && !ports->value().as_array().empty();
      if (type != "ExternalName" && cip != "None" && !has_ports) e.Required("spec.ports");
      if (type != "ClusterIP" && type != "NodePort" && type != "LoadBalancer" && type != "ExternalName") {
        e.causes.push_back({"FieldValueNotSupported",
                            "Unsupported value: " + Quoted(type) +
                                ": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
                            "spec.type"});
      }
    }
    if (r.kind == "ReplicationController" || r.kind == "PodTemplate") {
      const json::object* spec = ObjAt(obj, {r.kind == "PodTemplate" ? "template" : "spec"});
      if (r.kind == "PodTemplate") ValidatePodSpec(spec ? ObjAt(*spec, {"spec"}) : nullptr, "template.spec", e);
      else ValidatePodSpec(spec ? ObjAt(*spec, {"template", "spec"}) : nullptr, "spec.template.spec", e);
    }
  } else if ((r.group == "apps" && r.kind != "ControllerRevision") || r.group == "batch") {
    ValidateWorkload(r, obj, e);
  }
  return ToError(r, obj, e);
}

std::optional<ApiError> ValidateUpdate(const api::ResourceInfo& r, const json::object& obj, const json::object& old) {
  Errors e;
  if (r.group == "apps" && r.kind != "ControllerRevision" && !SameAt(obj, old, {"spec", "selector"})) {
    e.Immutable("spec.selector", "v1.LabelSelector{...}");
  }
  if (r.group == "batch" && r.kind == "Job" && !SameAt(obj, old, {"spec", "selector"})) {
    e.Immutable("spec.selector", "v1.LabelSelector{...}");
  }
  if (r.group.empty() && (r.kind == "ConfigMap" || r.kind == "Secret")) {
    auto imm = old.find("immutable");
    if (imm != old.end() && imm->value().is_bool() && imm->value().as_bool()) {
      if (!SameAt(obj, old, {"data"})) e.causes.push_back({"FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set", "data"});
      if (!SameAt(obj, old, {"binaryData"}) && r.kind == "ConfigMap") {
        e.causes.push_back({"FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set", "binaryData"});
      }
      if (!SameAt(obj, old, {"immutable"})) e.causes.push_back({"FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set", "immutable"});
    }
    if (r.kind == "Secret" && !SameAt(obj, old, {"type"})) e.Immutable("type", json::serialize(obj.contains("type") ? obj.at("type") : json::value("")));
  }
  if (r.group.empty() && r.kind == "Service") {
    const json::object* a = ObjAt(obj, {"spec"});
    const json::object* b = ObjAt(old, {"spec"});
    std::string was = b ? StrOf(*b, "clusterIP") : "", now = a ? StrOf(*a, "clusterIP") : "";
    if (!was.empty() && !now.empty() && was != now) e.Immutable("spec.clusterIPs[0]", Quoted(now));
  }
  if (r.group.empty() && r.kind == "Pod") {
    // Most of a pod's spec is fixed once created (images, activeDeadlineSeconds and a few
    // others may change); kubectl users meet this as "pod updates may not change fields...".
    const json::object* a = ObjAt(obj, {"spec"});
    const json::object* b = ObjAt(old, {"spec"});
    if (a && b) {
      json::object x = *a, y = *b;
      for (auto* s : {&x, &y}) {
        s->erase("activeDeadlineSeconds");
        s->erase("tolerations");
        s->erase("terminationGracePeriodSeconds");
        s->erase("schedulingGates");
        for (const char* list : {"containers", "initContainers"}) {
          auto it = s->find(list);
          if (it == s->end() || !it->value().is_array()) continue;
          for (auto& c : it->value().as_array()) {
            if (c.is_object()) c.as_object().erase("image");
          }
        }
      }
      if (!(x == y)) {
        e.causes.push_back({"FieldValueForbidden",
                            "Forbidden: pod updates may not change fields other than `spec.containers[*].image`,"
                            "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                            "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                            "(allow it to be set to 1 if it was previously negative)",
                            "spec"});
      }
    }
  }
  if (auto err = ToError(r, obj, e)) return err;
  return ValidateObject(r, obj);
}

}  // namespace kite::apiserver
