// Per-kind validation on create/update (422 Invalid with one cause per problem, worded like
// upstream's field errors) and immutable fields on update. Covers what users hit in practice;
// upstream's full validation tables are larger: docs/validation.md lists what kite does not
// enforce.
#include <boost/json.hpp>

#include <cctype>
#include <regex>
#include <set>

#include "api/labels.h"
#include "api/validation.h"
#include "server/apiserver/handlers/handlers_internal.h"
#include "server/apiserver/storage/registry.h"

namespace kite::apiserver {
namespace json = boost::json;

namespace {

struct Errors {
  std::vector<ApiError::Cause> causes;
  void Required(const std::string& field) { causes.push_back({"FieldValueRequired", "Required value", field}); }
  void Invalid(const std::string& field, const std::string& value, const std::string& detail) {
    causes.push_back({"FieldValueInvalid", "Invalid value: " + value + ": " + detail, field});
  }
  void NotSupported(const std::string& field, const std::string& value, std::initializer_list<const char*> supported) {
    std::string list;
    for (const char* s : supported) list += (list.empty() ? "\"" : ", \"") + std::string(s) + "\"";
    causes.push_back({"FieldValueNotSupported", "Unsupported value: \"" + value + "\": supported values: " + list, field});
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

// A port number member (1-65535); `required` when it must be present.
void ValidatePortNumber(const json::object& o, const char* member, const std::string& field, bool required, Errors& e) {
  const json::value* v = o.if_contains(member);
  if (!v || (v->is_int64() && v->as_int64() == 0)) {
    if (required) e.Required(field);
    return;
  }
  if (!v->is_int64() || v->as_int64() < 1 || v->as_int64() > 65535) {
    e.Invalid(field, json::serialize(*v), "must be between 1 and 65535, inclusive");
  }
}

void ValidateProtocol(const json::object& o, const std::string& field, Errors& e) {
  const std::string p = StrOf(o, "protocol");
  if (!p.empty() && p != "TCP" && p != "UDP" && p != "SCTP") e.NotSupported(field, p, {"SCTP", "TCP", "UDP"});
}

void ValidateContainerPorts(const json::object& c, const std::string& at, Errors& e) {
  auto it = c.find("ports");
  if (it == c.end() || !it->value().is_array()) return;
  size_t i = 0;
  for (const auto& p : it->value().as_array()) {
    const std::string pat = at + ".ports[" + std::to_string(i++) + "]";
    if (!p.is_object()) continue;
    ValidatePortNumber(p.as_object(), "containerPort", pat + ".containerPort", true, e);
    ValidatePortNumber(p.as_object(), "hostPort", pat + ".hostPort", false, e);
    ValidateProtocol(p.as_object(), pat + ".protocol", e);
  }
}

void ValidateServicePorts(const json::object& spec, Errors& e) {
  auto it = spec.find("ports");
  if (it == spec.end() || !it->value().is_array()) return;
  const auto& ports = it->value().as_array();
  const std::string type = StrOf(spec, "type");
  std::set<std::string> names;
  for (size_t i = 0; i < ports.size(); ++i) {
    const std::string at = "spec.ports[" + std::to_string(i) + "]";
    if (!ports[i].is_object()) continue;
    const json::object& p = ports[i].as_object();
    const std::string name = StrOf(p, "name");
    if (ports.size() > 1 && name.empty()) e.Required(at + ".name");
    if (!name.empty() && !names.insert(name).second) {
      e.causes.push_back({"FieldValueDuplicate", "Duplicate value: " + Quoted(name), at + ".name"});
    }
    ValidatePortNumber(p, "port", at + ".port", true, e);
    ValidateProtocol(p, at + ".protocol", e);
    const json::value* np = p.if_contains("nodePort");
    if (np && np->is_int64() && np->as_int64() != 0) {
      if (type == "ClusterIP" || type == "ExternalName") {
        e.causes.push_back({"FieldValueForbidden", "Forbidden: may not be used when `type` is '" + type + "'", at + ".nodePort"});
      } else if (np->as_int64() < 30000 || np->as_int64() > 32767) {
        e.Invalid(at + ".nodePort", json::serialize(*np),
                  "provided port is not in the valid range. The range of valid ports is 30000-32767");
      }
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
    ValidateContainerPorts(c.as_object(), at, e);
  }
  if (std::string rp = StrOf(*spec, "restartPolicy"); !rp.empty() && rp != "Always" && rp != "OnFailure" && rp != "Never") {
    e.NotSupported(path + ".restartPolicy", rp, {"Always", "OnFailure", "Never"});
  }
}

void ValidateWorkload(const api::ResourceInfo& r, const json::object& obj, Errors& e) {
  const json::object* spec = ObjAt(obj, {"spec"});
  const json::object* tmpl = spec ? ObjAt(*spec, {"template"}) : nullptr;
  if (spec && r.group != "batch") {
    if (const json::value* n = spec->if_contains("replicas"); n && n->is_int64() && n->as_int64() < 0) {
      e.Invalid("spec.replicas", json::serialize(*n), "must be greater than or equal to 0");
    }
    // Controllers that keep pods running take only pods that restart.
    const json::object* ps = tmpl ? ObjAt(*tmpl, {"spec"}) : nullptr;
    if (std::string rp = ps ? StrOf(*ps, "restartPolicy") : ""; !rp.empty() && rp != "Always") {
      e.NotSupported("spec.template.spec.restartPolicy", rp, {"Always"});
    }
  }
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

// ConfigMap and Secret keys (upstream's IsConfigMapKey).
void ValidateConfigKeys(const json::object& obj, const char* member, Errors& e) {
  const json::object* data = ObjAt(obj, {member});
  if (!data) return;
  static const std::regex key_re("[-._a-zA-Z0-9]+");
  for (const auto& kv : *data) {
    const std::string key(kv.key());
    const std::string field = std::string(member) + "[" + key + "]";
    if (key.size() > 253) e.Invalid(field, Quoted(key), "must be no more than 253 characters");
    if (!std::regex_match(key, key_re)) {
      e.Invalid(field, Quoted(key),
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
                "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
    }
    if (key == ".") e.Invalid(field, Quoted(key), "must not be '.'");
    else if (key == "..") e.Invalid(field, Quoted(key), "must not be '..'");
    else if (key.rfind("..", 0) == 0) e.Invalid(field, Quoted(key), "must not start with '..'");
  }
}

void ValidateConfigMap(const json::object& obj, Errors& e) {
  ValidateConfigKeys(obj, "data", e);
  ValidateConfigKeys(obj, "binaryData", e);
  // The 1 MiB bound on the data is ValidateDataSize's.
  const json::object* data = ObjAt(obj, {"data"});
  const json::object* binary = ObjAt(obj, {"binaryData"});
  if (data && binary) {
    for (const auto& kv : *data) {
      if (binary->contains(kv.key())) {
        e.Invalid("data[" + std::string(kv.key()) + "]", Quoted(std::string(kv.key())),
                  "duplicate of key present in binaryData");
      }
    }
  }
}

// Secrets: valid keys, and the keys each built-in type requires (upstream's ValidateSecret).
void ValidateSecret(const json::object& obj, Errors& e) {
  ValidateConfigKeys(obj, "data", e);
  const json::object* data = ObjAt(obj, {"data"});
  auto has = [&](const char* key) { return data && data->contains(key); };
  auto need = [&](const char* key) {
    if (!has(key)) e.Required("data[" + std::string(key) + "]");
  };
  const std::string type = StrOf(obj, "type");
  if (type == "kubernetes.io/service-account-token") {
    const json::object* ann = ObjAt(obj, {"metadata", "annotations"});
    if (!ann || StrOf(*ann, "kubernetes.io/service-account.name").empty()) {
      e.Required("metadata.annotations[kubernetes.io/service-account.name]");
    }
  } else if (type == "kubernetes.io/dockercfg") {
    need(".dockercfg");
  } else if (type == "kubernetes.io/dockerconfigjson") {
    need(".dockerconfigjson");
  } else if (type == "kubernetes.io/basic-auth") {
    if (!has("username") && !has("password")) {
      need("username");
      need("password");
    }
  } else if (type == "kubernetes.io/ssh-auth") {
    need("ssh-privatekey");
  } else if (type == "kubernetes.io/tls") {
    need("tls.crt");
    need("tls.key");
  }
  // The 1 MiB bound on the data is ValidateDataSize's.
}

// events.k8s.io/v1 Events (upstream's ValidateEventCreate for that version; core/v1 Events
// keep the legacy, lax rules).
void ValidateNewEvent(const json::object& obj, Errors& e) {
  auto required_short = [&](const char* field) {
    const std::string v = StrOf(obj, field);
    if (v.empty()) e.Required(field);
    else if (v.size() > 128) e.Invalid(field, Quoted(v), "can have at most 128 characters");
  };
  if (StrOf(obj, "eventTime").empty()) e.Required("eventTime");
  const std::string type = StrOf(obj, "type");
  if (type != "Normal" && type != "Warning") e.Invalid("type", "\"\"", "has invalid value: " + type);
  const std::string controller = StrOf(obj, "reportingController");
  if (controller.empty()) {
    e.Required("reportingController");
  } else {
    for (const auto& m : api::IsQualifiedName(controller)) e.Invalid("reportingController", Quoted(controller), m);
  }
  required_short("reportingInstance");
  required_short("action");
  required_short("reason");
  if (std::string note = StrOf(obj, "note"); note.size() > 1024) {
    e.causes.push_back({"FieldValueTooLong", "Too long: must have at most 1024 bytes", "note"});
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
      if (spec) ValidateServicePorts(*spec, e);
      if (type != "ClusterIP" && type != "NodePort" && type != "LoadBalancer" && type != "ExternalName") {
        e.causes.push_back({"FieldValueNotSupported",
                            "Unsupported value: " + Quoted(type) +
                                ": supported values: \"ClusterIP\", \"ExternalName\", \"LoadBalancer\", \"NodePort\"",
                            "spec.type"});
      }
    }
    if (r.kind == "ConfigMap") ValidateConfigMap(obj, e);
    if (r.kind == "Secret") ValidateSecret(obj, e);
    if (r.kind == "ReplicationController" || r.kind == "PodTemplate") {
      const json::object* spec = ObjAt(obj, {r.kind == "PodTemplate" ? "template" : "spec"});
      if (r.kind == "PodTemplate") {
        ValidatePodSpec(spec ? ObjAt(*spec, {"spec"}) : nullptr, "template.spec", e);
      } else {
        ValidatePodSpec(spec ? ObjAt(*spec, {"template", "spec"}) : nullptr, "spec.template.spec", e);
        if (const json::value* n = spec ? spec->if_contains("replicas") : nullptr; n && n->is_int64() && n->as_int64() < 0) {
          e.Invalid("spec.replicas", json::serialize(*n), "must be greater than or equal to 0");
        }
      }
    }
  } else if ((r.group == "apps" && r.kind != "ControllerRevision") || r.group == "batch") {
    ValidateWorkload(r, obj, e);
  } else if (r.group == "events.k8s.io" && r.kind == "Event") {
    ValidateNewEvent(obj, e);
  } else if (r.group == "policy" && r.kind == "PodDisruptionBudget") {
    const json::object* spec = ObjAt(obj, {"spec"});
    if (spec && spec->contains("minAvailable") && spec->contains("maxUnavailable")) {
      e.Invalid("spec", "policy.PodDisruptionBudgetSpec{...}", "minAvailable and maxUnavailable cannot be both set");
    }
  }
  return ToError(r, obj, e);
}

std::optional<ApiError> ValidateUpdate(const api::ResourceInfo& r, const json::object& obj, const json::object& old) {
  Errors e;
  if (r.group == "apps" && r.kind != "ControllerRevision" && !SameAt(obj, old, {"spec", "selector"})) {
    e.Immutable("spec.selector", "v1.LabelSelector{...}");
  }
  if (r.group == "batch" && r.kind == "Job") {
    if (!SameAt(obj, old, {"spec", "selector"})) e.Immutable("spec.selector", "v1.LabelSelector{...}");
    // The pod template is fixed once the Job exists; upstream lets a suspended Job that never
    // started change its scheduling directives, which kite accepts as a whole template change.
    const json::object* old_spec = ObjAt(old, {"spec"});
    const json::object* old_status = ObjAt(old, {"status"});
    const auto* suspend = old_spec ? old_spec->if_contains("suspend") : nullptr;
    const bool never_started = !old_status || !old_status->contains("startTime");
    const bool may_change = suspend && suspend->is_bool() && suspend->as_bool() && never_started;
    if (!may_change && !SameAt(obj, old, {"spec", "template"})) e.Immutable("spec.template", "core.PodTemplateSpec{...}");
    for (const char* f : {"completions", "completionMode", "podFailurePolicy", "backoffLimitPerIndex"}) {
      if (!SameAt(obj, old, {"spec", f})) {
        const auto* v = ObjAt(obj, {"spec"}) ? ObjAt(obj, {"spec"})->if_contains(f) : nullptr;
        e.Immutable(std::string("spec.") + f, v ? json::serialize(*v) : "null");
      }
    }
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
