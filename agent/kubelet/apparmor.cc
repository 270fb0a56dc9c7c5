#include "agent/kubelet/apparmor.h"

#include <sys/stat.h>

#include <fstream>

#include "api/object.h"

namespace kite::kubelet {

namespace json = boost::json;

namespace {

constexpr std::string_view kAnnotationPrefix = "container.apparmor.security.beta.kubernetes.io/";

// A profile field's {type, localhostProfile} as (type, name); the annotation's values mapped onto
// the same types.
struct Asked {
  std::string type, localhost;
};

std::optional<Asked> FromField(const json::object& security_context) {
  const json::object* p = api::FindObject(security_context, {"appArmorProfile"});
  if (!p) return std::nullopt;
  return Asked{api::GetString(*p, "type"), api::GetString(*p, "localhostProfile")};
}

std::optional<Asked> FromAnnotation(const json::object& pod, const std::string& container) {
  const json::value* v = api::Find(pod, {"metadata", "annotations"});
  if (!v || !v->is_object()) return std::nullopt;
  const json::value* a = v->as_object().if_contains(std::string(kAnnotationPrefix) + container);
  if (!a || !a->is_string()) return std::nullopt;
  const std::string s(a->as_string());
  if (s == "runtime/default") return Asked{"RuntimeDefault", ""};
  if (s == "unconfined") return Asked{"Unconfined", ""};
  if (s.rfind("localhost/", 0) == 0) return Asked{"Localhost", s.substr(10)};
  return Asked{s, ""};  // refused below as an unknown type
}

std::optional<Asked> Resolve(const json::object& pod, const json::object& container) {
  if (auto a = FromField(api::GetObject(container, "securityContext"))) return a;
  if (auto a = FromAnnotation(pod, api::GetString(container, "name"))) return a;
  return FromField(api::GetObject(pod, {"spec", "securityContext"}));
}

}  // namespace

bool AppArmorEnabled() {
  struct stat st {};
  if (stat("/sys/kernel/security/apparmor", &st) != 0) return false;
  std::ifstream in("/sys/module/apparmor/parameters/enabled");
  char c = 0;
  return in.get(c) && c == 'Y';
}

Result<std::optional<cri::SecurityProfile>> AppArmorProfileFor(const json::object& pod, const json::object& container) {
  const auto asked = Resolve(pod, container);
  if (!asked) return std::optional<cri::SecurityProfile>();
  cri::SecurityProfile p;
  if (asked->type == "RuntimeDefault") p.type = cri::SecurityProfile::Type::kRuntimeDefault;
  else if (asked->type == "Unconfined") p.type = cri::SecurityProfile::Type::kUnconfined;
  else if (asked->type == "Localhost") {
    if (asked->localhost.empty()) return Status(Code::kInvalidArgument, "missing localhost apparmor profile name");
    p.type = cri::SecurityProfile::Type::kLocalhost;
    p.localhost_ref = asked->localhost;  // a profile loaded on the host, by name
  } else {
    return Status(Code::kInvalidArgument, "unknown apparmor profile type: \"" + asked->type + "\"");
  }
  return std::optional<cri::SecurityProfile>(std::move(p));
}

std::optional<std::string> AdmitAppArmor(const json::object& pod, bool host_enabled) {
  if (host_enabled) return std::nullopt;
  // Upstream's isRequired: a profile other than Unconfined anywhere in the pod.
  auto requires_it = [](const std::optional<Asked>& a) { return a && a->type != "Unconfined"; };
  bool required = requires_it(FromField(api::GetObject(pod, {"spec", "securityContext"})));
  const json::object& spec = api::GetObject(pod, "spec");
  for (const char* list : {"initContainers", "containers", "ephemeralContainers"}) {
    for (const auto& c : api::GetArray(spec, list)) {
      if (c.is_object()) required = required || requires_it(FromField(api::GetObject(c.as_object(), "securityContext")));
    }
  }
  // Any of the deprecated annotations but "unconfined", whichever container it names (upstream).
  if (const json::value* a = api::Find(pod, {"metadata", "annotations"}); a && a->is_object()) {
    for (const auto& kv : a->as_object()) {
      if (kv.key().starts_with(kAnnotationPrefix)) required = required || !(kv.value().is_string() && kv.value().as_string() == "unconfined");
    }
  }
  if (!required) return std::nullopt;
  return "Cannot enforce AppArmor: AppArmor is not enabled on the host";
}

}  // namespace kite::kubelet
