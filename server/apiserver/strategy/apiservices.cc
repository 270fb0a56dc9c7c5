// apiregistration.k8s.io/v1 APIService (upstream's kube-aggregator ValidateAPIService): the name
// is <version>.<group> ("v1." for the core group), the group a DNS subdomain (empty only for v1),
// the version a DNS-1035 label, groupPriorityMinimum within 1-20000 and versionPriority within
// 1-1000; a local one (no service) has neither caBundle nor insecureSkipTLSVerify; a service has
// a namespace, a name and a valid port, and insecureSkipTLSVerify excludes a caBundle. A write
// makes the aggregator check them again (ChangesAggregation).
#include <boost/json.hpp>

#include "api/object.h"
#include "api/validation.h"
#include "server/apiserver/strategy/kinds.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver::strategies {
namespace {
namespace json = boost::json;

class ApiServiceStrategy final : public Strategy {
 public:
  std::string ValidateName(const std::string& name) const override {
    // Upstream's path-segment check, then the version.group form ("v1." is the core group's).
    if (name == "." || name == "..") return "may not be '" + name + "'";
    for (const char* bad : {"/", "%"}) {
      if (name.find(bad) != std::string::npos) return std::string("may not contain '") + bad + "'";
    }
    if (name.find('.') == std::string::npos) return "must be in the form: version.group";
    return "";
  }

  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    const json::object& spec = api::GetObject(obj, "spec");
    const std::string group = api::GetString(spec, "group");
    const std::string version = api::GetString(spec, "version");
    if (const std::string want = version + "." + group; api::Name(obj) != want) {
      e.Invalid("metadata.name", Quoted(api::Name(obj)), "must be `spec.version+\".\"+spec.group`: " + Quoted(want));
    }
    if (group.empty() && version != "v1") {
      e.Add("FieldValueRequired", "Required value: only v1 may have an empty group and it better be legacy kube",
            "spec.group");
    }
    if (!group.empty()) {
      for (const auto& bad : api::IsDNS1123Subdomain(group)) e.Invalid("spec.group", Quoted(group), bad);
    }
    for (const auto& bad : api::IsDNS1035Label(version)) e.Invalid("spec.version", Quoted(version), bad);
    if (const int64_t g = api::GetInt(spec, "groupPriorityMinimum"); g <= 0 || g > 20000) {
      e.Invalid("spec.groupPriorityMinimum", std::to_string(g), "must be positive and less than 20000");
    }
    if (const int64_t v = api::GetInt(spec, "versionPriority"); v <= 0 || v > 1000) {
      e.Invalid("spec.versionPriority", std::to_string(v), "must be positive and less than 1000");
    }
    const bool insecure = api::GetBool(spec, "insecureSkipTLSVerify");
    const std::string bundle = api::GetString(spec, "caBundle");
    const json::object* svc = api::FindObject(spec, {"service"});
    if (!svc) {
      if (!bundle.empty()) {
        e.Invalid("spec.caBundle", Quoted(std::to_string(bundle.size() * 3 / 4) + " bytes"),
                  "local APIServices may not have a caBundle");
      }
      if (insecure) e.Invalid("spec.insecureSkipTLSVerify", "true", "local APIServices may not have insecureSkipTLSVerify");
      return;
    }
    if (api::GetString(*svc, "namespace").empty()) e.Required("spec.service.namespace");
    if (api::GetString(*svc, "name").empty()) e.Required("spec.service.name");
    if (const int64_t port = api::GetInt(*svc, "port", 443); port < 1 || port > 65535) {
      e.Invalid("spec.service.port", std::to_string(port), "port is not valid: must be between 1 and 65535, inclusive");
    }
    if (insecure && !bundle.empty()) e.Invalid("spec.insecureSkipTLSVerify", "true", "may not be true if caBundle is present");
  }

  void ValidateSubresourceUpdate(std::string_view sub, const json::object& obj, const json::object&,
                                 FieldErrors& e) const override {
    if (sub != "status") return;
    size_t i = 0;
    for (const auto& c : api::GetArray(obj, {"status", "conditions"})) {
      const std::string at = "status.conditions[" + std::to_string(i++) + "]";
      if (!c.is_object()) continue;
      const std::string status = api::GetString(c.as_object(), "status");
      if (status != "True" && status != "False" && status != "Unknown") {
        e.NotSupported(at + ".status", status, {"False", "True", "Unknown"});
      }
      if (api::GetString(c.as_object(), "type").empty()) e.Required(at + ".type");
    }
  }

  bool ChangesAggregation() const override { return true; }
};

}  // namespace

const Strategy& ApiService() {
  static const ApiServiceStrategy s;
  return s;
}

}  // namespace kite::apiserver::strategies
