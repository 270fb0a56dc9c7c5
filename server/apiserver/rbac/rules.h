// RBAC policy rules: decoding them from Role/ClusterRole JSON, matching a request against them
// (upstream's rbac/v1 helpers: apiGroups, resources with `res/sub` and `*/sub`, resourceNames,
// nonResourceURLs with a trailing `*`, verbs, `*` everywhere), and "covers", the question
// escalation prevention asks: does one set of rules grant everything another rule grants?
#pragma once

#include <boost/json/value.hpp>

#include <string>
#include <vector>

#include "server/apiserver/filters/authz.h"

namespace kite::apiserver::rbac {

struct PolicyRule {
  std::vector<std::string> verbs;
  std::vector<std::string> api_groups;
  std::vector<std::string> resources;
  std::vector<std::string> resource_names;
  std::vector<std::string> non_resource_urls;
  bool operator==(const PolicyRule&) const = default;
};

// `rules` of a Role or ClusterRole: an array of PolicyRule objects. Anything that is not an
// array (null, a missing field) is no rules; members of the wrong type are skipped. Never throws.
std::vector<PolicyRule> ParseRules(const boost::json::value* rules);
boost::json::value RuleJson(const PolicyRule& r);

// Whether `r` allows the request `a` (its user is not looked at).
bool RuleAllows(const PolicyRule& r, const RequestAttributes& a);

// Whether `owner` grants at least what `requested` grants (upstream's validation.Covers):
// `requested` is broken into one verb × group × resource × name (or verb × URL) at a time and
// each piece must be allowed by some owner rule. `missing` (when given) receives the pieces
// that are not.
bool Covers(const std::vector<PolicyRule>& owner, const std::vector<PolicyRule>& requested,
            std::vector<PolicyRule>* missing = nullptr);

// Upstream's PolicyRule.CompactString: {APIGroups:[""], Resources:["pods"], Verbs:["get"]}.
std::string CompactString(const PolicyRule& r);

}  // namespace kite::apiserver::rbac
