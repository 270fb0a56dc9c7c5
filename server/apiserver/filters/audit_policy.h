// The audit policy: upstream's audit.k8s.io/v1 Policy (--audit-policy-file) and the rule matching
// of upstream's policy checker. The first rule that matches a request gives its level; no match
// is level None. A rule matches when each list it sets contains the request's value:
//   users (the authenticated user, before impersonation), userGroups (any of the user's groups),
//   verbs; then resources/namespaces (resource requests only: the group must equal a listed
//   group; its resources "pods", "pods/log", "*", "*/status", "pods/*", optionally limited to
//   resourceNames; namespaces "" for cluster-scoped) or nonResourceURLs (non-resource requests
//   only: exact, "*", or a "/prefix*").
// Stages to omit are the policy's omitStages plus the rule's. Never throws.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/apiserver/filters/authz.h"

namespace kite::apiserver::audit {

enum class Level { kNone = 0, kMetadata = 1, kRequest = 2, kRequestResponse = 3 };

// Stage bits, for omitStages.
enum Stage : unsigned {
  kRequestReceived = 1,
  kResponseStarted = 2,
  kResponseComplete = 4,
  kPanic = 8,
};
const char* StageName(Stage s);
const char* LevelName(Level l);

struct GroupResources {
  std::string group;
  std::vector<std::string> resources, resource_names;
};

struct PolicyRule {
  Level level = Level::kNone;
  std::vector<std::string> users, user_groups, verbs, namespaces, non_resource_urls;
  std::vector<GroupResources> resources;
  unsigned omit_stages = 0;
  std::optional<bool> omit_managed_fields;
};

struct Policy {
  std::vector<PolicyRule> rules;
  unsigned omit_stages = 0;
  bool omit_managed_fields = false;
};

// The policy file's text (YAML or JSON), validated as upstream validates it: apiVersion
// audit.k8s.io/v1, kind Policy, every rule with a valid level, known stages, and resources and
// nonResourceURLs not both in one rule.
Result<Policy> ParsePolicy(std::string_view text);
Result<Policy> LoadPolicy(const std::string& path);

struct AuditDecision {
  Level level = Level::kNone;
  unsigned omit_stages = 0;
  bool omit_managed_fields = false;
};

AuditDecision Evaluate(const Policy& p, const RequestAttributes& a);

}  // namespace kite::apiserver::audit
