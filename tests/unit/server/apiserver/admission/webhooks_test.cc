// Which writes a webhook's rule picks (WebhookRuleMatches, upstream's rule matcher): operations,
// groups, versions under Exact and Equivalent, resources with "*" and "res/sub" forms, and scope.
// The AdmissionReview exchange with a real HTTPS webhook: tests/integration/kubectl/webhooks.sh.
#include "server/apiserver/admission/webhooks.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace kite::apiserver {
namespace {
namespace json = boost::json;

json::object Rule(const char* text) { return json::parse(text).as_object(); }

AdmissionAttributes Write(const char* group, const char* version, const char* resource, const char* sub,
                          const char* op) {
  AdmissionAttributes a;
  a.r = api::FindResource(group, version, resource);
  EXPECT_NE(a.r, nullptr) << resource;
  a.subresource = sub;
  a.operation = op;
  return a;
}

TEST(WebhookRules, OperationsGroupsAndVersions) {
  const json::object r = Rule(R"({"operations":["CREATE","UPDATE"],"apiGroups":["apps"],"apiVersions":["v1beta1"],
                                  "resources":["deployments"],"scope":"*"})");
  const auto create = Write("apps", "v1", "deployments", "", "CREATE");
  EXPECT_TRUE(WebhookRuleMatches(r, create, /*exact=*/false));  // Equivalent: another version is the same object
  EXPECT_FALSE(WebhookRuleMatches(r, create, /*exact=*/true));
  EXPECT_FALSE(WebhookRuleMatches(r, Write("apps", "v1", "deployments", "", "DELETE"), false));
  EXPECT_FALSE(WebhookRuleMatches(r, Write("", "v1", "pods", "", "CREATE"), false));
  const json::object any = Rule(R"({"operations":["*"],"apiGroups":["*"],"apiVersions":["*"],"resources":["*"]})");
  EXPECT_TRUE(WebhookRuleMatches(any, Write("", "v1", "pods", "", "DELETE"), true));
}

TEST(WebhookRules, ResourcesAndSubresources) {
  auto rule = [](const char* resources) {
    return Rule((std::string(R"({"operations":["*"],"apiGroups":[""],"apiVersions":["v1"],"resources":)") + resources + "}").c_str());
  };
  const auto pod = Write("", "v1", "pods", "", "UPDATE");
  const auto status = Write("", "v1", "pods", "status", "UPDATE");
  EXPECT_TRUE(WebhookRuleMatches(rule(R"(["pods"])"), pod, true));
  EXPECT_FALSE(WebhookRuleMatches(rule(R"(["pods"])"), status, true));  // the resource alone is not its subresources
  EXPECT_TRUE(WebhookRuleMatches(rule(R"(["pods/status"])"), status, true));
  EXPECT_FALSE(WebhookRuleMatches(rule(R"(["pods/status"])"), pod, true));
  EXPECT_TRUE(WebhookRuleMatches(rule(R"(["*/status"])"), status, true));
  EXPECT_FALSE(WebhookRuleMatches(rule(R"(["*"])"), status, true));
  EXPECT_TRUE(WebhookRuleMatches(rule(R"(["*"])"), pod, true));
  EXPECT_TRUE(WebhookRuleMatches(rule(R"(["pods/*"])"), pod, true));  // upstream: "*" matches the empty subresource too
  EXPECT_TRUE(WebhookRuleMatches(rule(R"(["*/*"])"), status, true));
  EXPECT_FALSE(WebhookRuleMatches(rule(R"(["services"])"), pod, true));
}

TEST(WebhookRules, Scope) {
  auto scoped = [](const char* scope) {
    return Rule((std::string(R"({"operations":["*"],"apiGroups":["*"],"apiVersions":["*"],"resources":["*"],"scope":")") +
                 scope + "\"}").c_str());
  };
  const auto pod = Write("", "v1", "pods", "", "CREATE");
  const auto node = Write("", "v1", "nodes", "", "CREATE");
  EXPECT_TRUE(WebhookRuleMatches(scoped("Namespaced"), pod, true));
  EXPECT_FALSE(WebhookRuleMatches(scoped("Namespaced"), node, true));
  EXPECT_TRUE(WebhookRuleMatches(scoped("Cluster"), node, true));
  EXPECT_FALSE(WebhookRuleMatches(scoped("Cluster"), pod, true));
  EXPECT_TRUE(WebhookRuleMatches(scoped("*"), node, true));
}

}  // namespace
}  // namespace kite::apiserver
