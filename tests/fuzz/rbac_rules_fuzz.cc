// RBAC objects as users write them (server/apiserver/rbac/rules.h), untrusted: the input is a
// Role/ClusterRole JSON document. Decoding its rules never crashes, every rule set covers
// itself (escalation checks must never refuse a user the rules they hold), a rule encoded and
// decoded again is the same rule, and matching a few requests against it never crashes.
#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/apiserver/rbac/rules.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace json = boost::json;
  namespace rbac = kite::apiserver::rbac;
  boost::system::error_code ec;
  json::value v = json::parse(std::string_view(reinterpret_cast<const char*>(data), size), ec);
  if (ec || !v.is_object()) return 0;
  const json::value* rules_json = v.as_object().if_contains("rules");
  std::vector<rbac::PolicyRule> rules = rbac::ParseRules(rules_json);
  if (!rbac::Covers(rules, rules)) std::abort();
  json::array encoded;
  for (const auto& r : rules) {
    (void)rbac::CompactString(r);
    encoded.push_back(rbac::RuleJson(r));
  }
  json::value round(encoded);
  if (rbac::ParseRules(&round) != rules) std::abort();
  kite::apiserver::RequestAttributes a;
  for (const auto& r : rules) {
    for (const char* verb : {"get", "*"}) {
      a.verb = verb;
      a.resource_request = true;
      a.api_group = r.api_groups.empty() ? "" : r.api_groups[0];
      a.resource = r.resources.empty() ? "pods" : r.resources[0];
      a.subresource = "log";
      a.name = r.resource_names.empty() ? "" : r.resource_names[0];
      (void)rbac::RuleAllows(r, a);
      a.resource_request = false;
      a.path = r.non_resource_urls.empty() ? "/x" : r.non_resource_urls[0];
      (void)rbac::RuleAllows(r, a);
    }
  }
  return 0;
}
