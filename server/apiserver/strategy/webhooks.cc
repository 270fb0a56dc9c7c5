// admissionregistration.k8s.io/v1 MutatingWebhookConfiguration and ValidatingWebhookConfiguration
// (upstream's ValidateMutatingWebhookConfiguration / ValidateValidatingWebhookConfiguration): each
// webhook has a unique fully qualified name, exactly one of clientConfig.url (https, no user,
// query or fragment) and clientConfig.service, rules with known operations and a scope, known
// failurePolicy / matchPolicy / sideEffects (None or NoneOnDryRun in v1) / reinvocationPolicy,
// timeoutSeconds within 1-30 and admissionReviewVersions naming v1 or v1beta1. A write of either
// kind makes the webhook admission read them again (ChangesAdmission).
#include <boost/json.hpp>

#include <algorithm>
#include <set>

#include "api/object.h"
#include "api/validation.h"
#include "server/apiserver/strategy/kinds.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver::strategies {
namespace {
namespace json = boost::json;

void ValidateOneOf(const json::object& hook, const char* member, std::initializer_list<const char*> allowed,
                   const std::string& at, FieldErrors& e, bool required = false) {
  const json::value* v = hook.if_contains(member);
  if (!v || v->is_null()) {
    if (required) e.Required(at + "." + member);
    return;
  }
  const std::string s = v->is_string() ? std::string(v->as_string()) : json::serialize(*v);
  for (const char* a : allowed) {
    if (s == a) return;
  }
  e.NotSupported(at + "." + member, s, allowed);
}

void ValidateClientConfig(const json::object& hook, const std::string& at, FieldErrors& e) {
  const json::object& cc = api::GetObject(hook, "clientConfig");
  const std::string url = api::GetString(cc, "url");
  const json::object* svc = api::FindObject(cc, {"service"});
  const std::string path = at + ".clientConfig";
  if (url.empty() == (svc == nullptr)) {
    e.Required(path);
    e.causes.back().message = "Required value: exactly one of url or service is required";
    return;
  }
  if (!url.empty()) {
    if (url.rfind("https://", 0) != 0) e.Invalid(path + ".url", Quoted(url), "'https' is the only allowed URL scheme");
    if (url.find('?') != std::string::npos) e.Invalid(path + ".url", Quoted(url), "query parameters are not allowed");
    if (url.find('#') != std::string::npos) e.Invalid(path + ".url", Quoted(url), "fragments are not allowed");
    if (url.find('@') != std::string::npos) e.Invalid(path + ".url", Quoted(url), "user information is not allowed");
    return;
  }
  if (api::GetString(*svc, "name").empty()) e.Required(path + ".service.name");
  if (api::GetString(*svc, "namespace").empty()) e.Required(path + ".service.namespace");
  if (const std::string p = api::GetString(*svc, "path"); !p.empty() && p[0] != '/') {
    e.Invalid(path + ".service.path", Quoted(p), "must start with a '/'");
  }
  if (const int64_t port = api::GetInt(*svc, "port", 443); port < 1 || port > 65535) {
    e.Invalid(path + ".service.port", std::to_string(port), "port is not valid: must be between 1 and 65535, inclusive");
  }
}

void ValidateRules(const json::object& hook, const std::string& at, FieldErrors& e) {
  size_t i = 0;
  for (const auto& r : api::GetArray(hook, "rules")) {
    const std::string rp = at + ".rules[" + std::to_string(i++) + "]";
    if (!r.is_object()) continue;
    const json::object& rule = r.as_object();
    if (api::GetArray(rule, "operations").empty()) e.Required(rp + ".operations");
    size_t j = 0;
    for (const auto& op : api::GetArray(rule, "operations")) {
      const std::string s = op.is_string() ? std::string(op.as_string()) : "";
      if (s != "*" && s != "CREATE" && s != "UPDATE" && s != "DELETE" && s != "CONNECT") {
        e.NotSupported(rp + ".operations[" + std::to_string(j) + "]", s, {"*", "CONNECT", "CREATE", "DELETE", "UPDATE"});
      }
      ++j;
    }
    for (const char* list : {"apiGroups", "apiVersions", "resources"}) {
      if (api::GetArray(rule, list).empty()) e.Required(rp + "." + list);
    }
    ValidateOneOf(rule, "scope", {"Cluster", "Namespaced", "*"}, rp, e);
  }
}

class WebhookConfigurationStrategy final : public Strategy {
 public:
  explicit WebhookConfigurationStrategy(bool mutating) : mutating_(mutating) {}

  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    std::set<std::string> names;
    size_t i = 0;
    for (const auto& w : api::GetArray(obj, "webhooks")) {
      const std::string at = "webhooks[" + std::to_string(i++) + "]";
      if (!w.is_object()) continue;
      const json::object& hook = w.as_object();
      const std::string name = api::GetString(hook, "name");
      if (name.empty()) {
        e.Required(at + ".name");
      } else if (auto bad = api::IsDNS1123Subdomain(name); !bad.empty()) {
        e.Invalid(at + ".name", Quoted(name), bad.front());
      } else if (std::count(name.begin(), name.end(), '.') < 2) {
        e.Invalid(at + ".name", Quoted(name), "should be a domain with at least three segments separated by dots");
      } else if (!names.insert(name).second) {
        e.Add("FieldValueDuplicate", "Duplicate value: " + Quoted(name), at + ".name");
      }
      ValidateClientConfig(hook, at, e);
      ValidateRules(hook, at, e);
      ValidateOneOf(hook, "failurePolicy", {"Fail", "Ignore"}, at, e);
      ValidateOneOf(hook, "matchPolicy", {"Equivalent", "Exact"}, at, e);
      ValidateOneOf(hook, "sideEffects", {"None", "NoneOnDryRun"}, at, e, /*required=*/true);
      if (mutating_) ValidateOneOf(hook, "reinvocationPolicy", {"IfNeeded", "Never"}, at, e);
      if (const int64_t t = api::GetInt(hook, "timeoutSeconds", 10); t < 1 || t > 30) {
        e.Invalid(at + ".timeoutSeconds", std::to_string(t), "the timeout value must be between 1 and 30 seconds");
      }
      const json::array& versions = api::GetArray(hook, "admissionReviewVersions");
      if (versions.empty()) {
        e.Required(at + ".admissionReviewVersions");
      } else if (std::none_of(versions.begin(), versions.end(),
                              [](const json::value& v) { return v == "v1" || v == "v1beta1"; })) {
        e.Invalid(at + ".admissionReviewVersions", json::serialize(versions), "must include at least one of v1, v1beta1");
      }
    }
  }

  bool TracksGeneration() const override { return true; }
  bool ChangesAdmission() const override { return true; }

 private:
  const bool mutating_;
};

}  // namespace

const Strategy& MutatingWebhookConfiguration() {
  static const WebhookConfigurationStrategy s(true);
  return s;
}

const Strategy& ValidatingWebhookConfiguration() {
  static const WebhookConfigurationStrategy s(false);
  return s;
}

}  // namespace kite::apiserver::strategies
