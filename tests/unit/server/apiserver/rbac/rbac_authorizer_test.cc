// server/apiserver/rbac/rbac_authorizer over a real store: roles and bindings written to the
// datastore reach its index and decisions follow them; aggregated ClusterRoles get the union.
#include "server/apiserver/rbac/rbac_authorizer.h"

#include <gtest/gtest.h>

#include "tests/unit/server/apiserver/rbac/authorizers_fixture.h"

namespace kite::apiserver::rbac {
namespace {

using testing::AuthorizersTest;

TEST_F(AuthorizersTest, RbacFollowsRolesAndBindings) {
  Put("/registry/roles/a/reader", R"({"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]})");
  RbacAuthorizer rbac(store_.get());
  const UserInfo alice{"alice", "", {"system:authenticated"}, {}};
  EXPECT_FALSE(rbac.Authorize(Req(alice, "get", "pods", "a")).allowed);
  Put("/registry/rolebindings/a/alice", R"({"roleRef":{"kind":"Role","name":"reader"},"subjects":[{"kind":"User","name":"alice"}]})");
  rbac.Sync();
  EXPECT_TRUE(rbac.Authorize(Req(alice, "get", "pods", "a")).allowed);
  EXPECT_FALSE(rbac.Authorize(Req(alice, "get", "pods", "b")).allowed);  // a RoleBinding is its namespace only
  EXPECT_FALSE(rbac.Authorize(Req(alice, "list", "pods", "a")).allowed);
  // Groups and service accounts (a subject without a namespace takes the binding's).
  Put("/registry/clusterroles/lister", R"({"rules":[{"verbs":["list"],"apiGroups":[""],"resources":["pods"]}]})");
  Put("/registry/clusterrolebindings/devs", R"({"roleRef":{"kind":"ClusterRole","name":"lister"},"subjects":[{"kind":"Group","name":"devs"}]})");
  Put("/registry/rolebindings/a/sa", R"({"roleRef":{"kind":"ClusterRole","name":"lister"},"subjects":[{"kind":"ServiceAccount","name":"bot"}]})");
  rbac.Sync();
  EXPECT_TRUE(rbac.Authorize(Req(UserInfo{"bob", "", {"devs"}, {}}, "list", "pods", "z")).allowed);
  const UserInfo bot{"system:serviceaccount:a:bot", "", {"system:serviceaccounts"}, {}};
  EXPECT_TRUE(rbac.Authorize(Req(bot, "list", "pods", "a")).allowed);
  EXPECT_FALSE(rbac.Authorize(Req(bot, "list", "pods", "b")).allowed);
  EXPECT_EQ(rbac.RulesFor(bot, "a").size(), 1u);
  // A role that goes takes its rights with it; so does a binding.
  Delete("/registry/roles/a/reader");
  Delete("/registry/clusterrolebindings/devs");
  rbac.Sync();
  EXPECT_FALSE(rbac.Authorize(Req(alice, "get", "pods", "a")).allowed);
  EXPECT_FALSE(rbac.Authorize(Req(UserInfo{"bob", "", {"devs"}, {}}, "list", "pods", "z")).allowed);
}

TEST_F(AuthorizersTest, AggregationWritesTheUnion) {
  Put("/registry/clusterroles/agg",
      R"({"metadata":{"name":"agg"},"aggregationRule":{"clusterRoleSelectors":[{"matchLabels":{"x":"y"}}]}})");
  Put("/registry/clusterroles/part1", R"({"metadata":{"name":"part1","labels":{"x":"y"}},"rules":[{"verbs":["get"],"apiGroups":[""],"resources":["pods"]}]})");
  RbacAuthorizer rbac(store_.get());
  Put("/registry/clusterroles/part2", R"({"metadata":{"name":"part2","labels":{"x":"y"}},"rules":[{"verbs":["list"],"apiGroups":[""],"resources":["pods"]}]})");
  Put("/registry/clusterroles/other", R"({"metadata":{"name":"other"},"rules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"]}]})");
  std::optional<std::vector<PolicyRule>> rules;
  for (int i = 0; i < 100; ++i) {  // the aggregator's write comes back through the follower
    rbac.Sync();
    rules = rbac.RoleRefRules("ClusterRole", "", "agg");
    if (rules && rules->size() == 2) break;
  }
  ASSERT_TRUE(rules);
  ASSERT_EQ(rules->size(), 2u);
  EXPECT_EQ((*rules)[0].verbs, std::vector<std::string>{"get"});
  EXPECT_EQ((*rules)[1].verbs, std::vector<std::string>{"list"});
}

}  // namespace
}  // namespace kite::apiserver::rbac
