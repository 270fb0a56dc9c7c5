// Field checks shared by the kinds' strategies (validation.h).
#include "server/apiserver/strategy/validation.h"

#include <algorithm>
#include <set>

#include "api/object.h"
#include "api/labels.h"
#include "api/validation.h"
#include "server/apiserver/storage/registry.h"

namespace kite::apiserver {
namespace json = boost::json;

void FieldErrors::NotSupported(const std::string& field, const std::string& value,
                               std::initializer_list<const char*> supported) {
  std::string list;
  for (const char* s : supported) list += (list.empty() ? "\"" : ", \"") + std::string(s) + "\"";
  Add("FieldValueNotSupported", "Unsupported value: \"" + value + "\": supported values: " + list, field);
}

std::string Quoted(const std::string& s) { return "\"" + s + "\""; }

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

void ValidateMeta(const json::object& obj, FieldErrors& e) {
  const json::object* meta = api::FindObject(obj, {"metadata"});
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
      e.Add("FieldValueTooLong", "Too long: must have at most 262144 bytes", "metadata.annotations");
    }
  }
}

namespace {

// A port number member (1-65535); `required` when it must be present.
void ValidatePortNumber(const json::object& o, const char* member, const std::string& field, bool required, FieldErrors& e) {
  const json::value* v = o.if_contains(member);
  if (!v || (v->is_int64() && v->as_int64() == 0)) {
    if (required) e.Required(field);
    return;
  }
  if (!v->is_int64() || v->as_int64() < 1 || v->as_int64() > 65535) {
    e.Invalid(field, json::serialize(*v), "must be between 1 and 65535, inclusive");
  }
}

void ValidateProtocol(const json::object& o, const std::string& field, FieldErrors& e) {
  const std::string p = api::GetString(o, "protocol");
  if (!p.empty() && p != "TCP" && p != "UDP" && p != "SCTP") e.NotSupported(field, p, {"SCTP", "TCP", "UDP"});
}

void ValidateContainerPorts(const json::object& c, const std::string& at, FieldErrors& e) {
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

}  // namespace

void ValidateServicePorts(const json::object& spec, FieldErrors& e) {
  auto it = spec.find("ports");
  if (it == spec.end() || !it->value().is_array()) return;
  const auto& ports = it->value().as_array();
  const std::string type = api::GetString(spec, "type");
  std::set<std::string> names;
  for (size_t i = 0; i < ports.size(); ++i) {
    const std::string at = "spec.ports[" + std::to_string(i) + "]";
    if (!ports[i].is_object()) continue;
    const json::object& p = ports[i].as_object();
    const std::string name = api::GetString(p, "name");
    if (ports.size() > 1 && name.empty()) e.Required(at + ".name");
    if (!name.empty() && !names.insert(name).second) {
      e.Add("FieldValueDuplicate", "Duplicate value: " + Quoted(name), at + ".name");
    }
    ValidatePortNumber(p, "port", at + ".port", true, e);
    ValidateProtocol(p, at + ".protocol", e);
    const json::value* np = p.if_contains("nodePort");
    if (np && np->is_int64() && np->as_int64() != 0) {
      if (type == "ClusterIP" || type == "ExternalName") {
        e.Add("FieldValueForbidden", "Forbidden: may not be used when `type` is '" + type + "'", at + ".nodePort");
      } else if (np->as_int64() < 1 || np->as_int64() > 65535) {
        // Whether it is in --service-node-port-range is the allocator's question
        // (admission/service_addresses.cc), as upstream's.
        e.Invalid(at + ".nodePort", json::serialize(*np), "must be between 1 and 65535, inclusive");
      }
    }
  }
}

namespace {

// Upstream's MaxSecretSize, the cap on a ConfigMap's or Secret's data (1 MiB).
constexpr size_t kMaxDataBytes = 1024 * 1024;

// The bytes a base64 text decodes to.
size_t Base64DecodedSize(std::string_view b64) {
  size_t pad = 0;
  while (pad < 2 && pad < b64.size() && b64[b64.size() - 1 - pad] == '=') ++pad;
  const size_t full = b64.size() / 4 * 3 + (b64.size() % 4 ? b64.size() % 4 - 1 : 0);
  return full > pad ? full - pad : 0;
}

}  // namespace

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

void ValidateDataSize(size_t total, const char* field, FieldErrors& e) {
  if (total > kMaxDataBytes) {
    e.Add("FieldValueTooLong", "Too long: may not be more than " + std::to_string(kMaxDataBytes) + " bytes", field);
  }
}

namespace {

// securityContext.seccompProfile and appArmorProfile (upstream's validateSeccompProfileField and
// validateAppArmorProfileField): a known type; localhostProfile exactly when the type is
// Localhost: for seccomp a descending relative path (a file under the kubelet's seccomp dir), for
// AppArmor a profile name without padding, at most 4095 bytes.
void ValidateProfileField(const json::object& security_context, const char* member, const std::string& at,
                          FieldErrors& e) {
  const json::object* sp = api::FindObject(security_context, {member});
  if (!sp) return;
  const bool seccomp = std::string_view(member) == "seccompProfile";
  const std::string kind = seccomp ? "seccomp" : "AppArmor";
  const std::string path = at + "." + member;
  const std::string type = api::GetString(*sp, "type");
  if (type.empty()) e.Add("FieldValueRequired", "Required value: type is required when " + std::string(member) + " is set", path + ".type");
  else if (type != "Localhost" && type != "RuntimeDefault" && type != "Unconfined") {
    e.NotSupported(path + ".type", type, {"Localhost", "RuntimeDefault", "Unconfined"});
  }
  const json::value* local = sp->if_contains("localhostProfile");
  const bool has_local = local && !local->is_null();
  const std::string field = path + ".localhostProfile";
  if (type != "Localhost") {
    if (has_local) e.Invalid(field, json::serialize(*local), "can only be set when " + kind + " type is Localhost");
    return;
  }
  const std::string name = has_local && local->is_string() ? std::string(local->as_string()) : "";
  if (name.empty()) {
    e.Add("FieldValueRequired", "Required value: must be set when " + kind + " type is Localhost", field);
    return;
  }
  if (!seccomp) {
    if (name.find_first_not_of(" \t\n\r") != 0 || name.find_last_not_of(" \t\n\r") != name.size() - 1) {
      e.Invalid(field, Quoted(name), "must not be padded with whitespace");
    }
    if (name.size() > 4095) e.Add("FieldValueTooLong", "Too long: may not be more than 4095 bytes", field);
    return;
  }
  for (const std::string& why : api::IsLocalDescendingPath(name)) e.Invalid(field, Quoted(name), why);
}

// spec.ephemeralContainers (upstream's validateEphemeralContainers): a name unique among all the
// pod's containers (`names` has the regular ones), an image, none of the fields an ephemeral
// container may not have (upstream lists the allowed ones: no ports, resources, restartPolicy,
// probes or lifecycle; reported in the Container type's field order), and a targetContainerName
// that names a container or an init container.
void ValidateEphemeralContainers(const json::object& spec, const std::string& path, std::set<std::string> names,
                                 FieldErrors& e) {
  std::set<std::string> targets = names;
  for (const auto& c : api::GetArray(spec, "initContainers")) {
    if (!c.is_object()) continue;
    const std::string name = api::GetString(c.as_object(), "name");
    names.insert(name);
    targets.insert(name);
  }
  size_t i = 0;
  for (const auto& c : api::GetArray(spec, "ephemeralContainers")) {
    const std::string at = path + ".ephemeralContainers[" + std::to_string(i++) + "]";
    if (!c.is_object()) continue;
    const json::object& ec = c.as_object();
    const std::string name = api::GetString(ec, "name");
    if (name.empty()) e.Required(at + ".name");
    else if (auto bad = api::IsDNS1123Label(name); !bad.empty()) e.Invalid(at + ".name", Quoted(name), bad.front());
    else if (!names.insert(name).second) e.Add("FieldValueDuplicate", "Duplicate value: " + Quoted(name), at + ".name");
    if (api::GetString(ec, "image").empty()) e.Required(at + ".image");
    for (const char* field : {"ports", "resources", "resizePolicy", "restartPolicy", "livenessProbe", "readinessProbe",
                              "startupProbe", "lifecycle"}) {
      const json::value* v = ec.if_contains(field);
      const bool set = v && !v->is_null() && !(v->is_object() && v->as_object().empty()) &&
                       !(v->is_array() && v->as_array().empty()) && !(v->is_string() && v->as_string().empty());
      if (set) e.Add("FieldValueForbidden", "Forbidden: cannot be set for an Ephemeral Container", at + "." + field);
    }
    if (const std::string target = api::GetString(ec, "targetContainerName"); !target.empty() && !targets.contains(target)) {
      e.Add("FieldValueNotFound", "Not found: " + Quoted(target), at + ".targetContainerName");
    }
  }
}

}  // namespace

void ValidatePodSpec(const json::object* spec, const std::string& path, FieldErrors& e) {
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
    std::string name = api::GetString(c.as_object(), "name");
    if (name.empty()) e.Required(at + ".name");
    else if (auto bad = api::IsDNS1123Label(name); !bad.empty()) e.Invalid(at + ".name", Quoted(name), bad.front());
    else if (!names.insert(name).second) e.Add("FieldValueDuplicate", "Duplicate value: " + Quoted(name), at + ".name");
    if (api::GetString(c.as_object(), "image").empty()) e.Required(at + ".image");
    ValidateContainerPorts(c.as_object(), at, e);
  }
  ValidateEphemeralContainers(*spec, path, names, e);
  if (const json::object* psc = api::FindObject(*spec, {"securityContext"})) {
    ValidateProfileField(*psc, "seccompProfile", path + ".securityContext", e);
    ValidateProfileField(*psc, "appArmorProfile", path + ".securityContext", e);
  }
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    size_t j = 0;
    for (const auto& c : api::GetArray(*spec, list)) {
      const std::string at = path + "." + list + "[" + std::to_string(j++) + "].securityContext";
      if (const json::object* csc = c.is_object() ? api::FindObject(c.as_object(), {"securityContext"}) : nullptr) {
        ValidateProfileField(*csc, "seccompProfile", at, e);
        ValidateProfileField(*csc, "appArmorProfile", at, e);
      }
    }
  }
  if (std::string rp = api::GetString(*spec, "restartPolicy"); !rp.empty() && rp != "Always" && rp != "OnFailure" && rp != "Never") {
    e.NotSupported(path + ".restartPolicy", rp, {"Always", "OnFailure", "Never"});
  }
}

void ValidateSelectorMatchesTemplate(const json::object* spec, FieldErrors& e) {
  const json::object* tmpl = spec ? api::FindObject(*spec, {"template"}) : nullptr;
  const json::object* sel = spec ? api::FindObject(*spec, {"selector"}) : nullptr;
  if (!sel) {
    e.Required("spec.selector");
    return;
  }
  auto parsed = api::LabelSelector::FromLabelSelectorJson(json::value(*sel));
  if (!parsed.ok()) {
    e.Invalid("spec.selector", "", parsed.status().message());
  } else if (parsed->Empty()) {
    e.Invalid("spec.selector", "v1.LabelSelector{MatchLabels:map[string]string(nil), MatchExpressions:[]v1.LabelSelectorRequirement(nil)}",
              "empty selector is invalid for deployment");
  } else {
    const json::object* labels = tmpl ? api::FindObject(*tmpl, {"metadata", "labels"}) : nullptr;
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

// ConfigMap and Secret keys (upstream's IsConfigMapKey).
void ValidateConfigKeys(const json::object& obj, const char* member, FieldErrors& e) {
  const json::object* data = api::FindObject(obj, {member});
  if (!data) return;
  for (const auto& kv : *data) {
    const std::string key(kv.key());
    const std::string field = std::string(member) + "[" + key + "]";
    if (key.size() > 253) e.Invalid(field, Quoted(key), "must be no more than 253 characters");
    // [-._a-zA-Z0-9]+ by hand: std::regex recurses once per character, and a key may be
    // as long as the 1 MiB object (a stack overflow, not an answer).
    const bool charset_ok = !key.empty() && std::all_of(key.begin(), key.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
    });
    if (!charset_ok) {
      e.Invalid(field, Quoted(key),
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or "
                "'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
    }
    if (key == ".") e.Invalid(field, Quoted(key), "must not be '.'");
    else if (key == "..") e.Invalid(field, Quoted(key), "must not be '..'");
    else if (key.rfind("..", 0) == 0) e.Invalid(field, Quoted(key), "must not start with '..'");
  }
}

void ValidateImmutableData(const json::object& obj, const json::object& old, bool binary_data, FieldErrors& e) {
  auto imm = old.find("immutable");
  if (imm == old.end() || !imm->value().is_bool() || !imm->value().as_bool()) return;
  if (!SameAt(obj, old, {"data"})) e.Add("FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set", "data");
  if (binary_data && !SameAt(obj, old, {"binaryData"})) {
    e.Add("FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set", "binaryData");
  }
  if (!SameAt(obj, old, {"immutable"})) e.Add("FieldValueForbidden", "Forbidden: field is immutable when `immutable` is set", "immutable");
}

}  // namespace kite::apiserver
