// The RBAC and Node authorizers over a real store: objects written straight to the datastore
// (as the API server stores them) reach the indexes, and decisions follow them.
#include <gtest/gtest.h>

#include <filesystem>

#include "server/apiserver/rbac/node_authorizer.h"
#include "server/apiserver/rbac/rbac_authorizer.h"
#include "tests/unit/datastore/store_fixture.h"

namespace kite::apiserver::rbac {
namespace {

class AuthorizersTest : public datastore::testing::StoreTest {
 protected:
  static RequestAttributes Req(UserInfo user, std::string verb, std::string resource, std::string ns,
                               std::string name = "") {
    RequestAttributes a;
    a.user = std::move(user);
    a.verb = std::move(verb);
    a.resource_request = true;
    a.resource = std::move(resource);
    a.namespace_ = std::move(ns);
    a.name = std::move(name);
    return a;
  }

};

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

TEST_F(AuthorizersTest, NodeGraphFollowsPods) {
  Put("/registry/pods/a/p", R"({"spec":{"nodeName":"n1","serviceAccountName":"sa","volumes":[{"name":"v","secret":{"secretName":"s"}},
      {"name":"c","persistentVolumeClaim":{"claimName":"claim"}}],"containers":[{"name":"c","envFrom":[{"configMapRef":{"name":"cm"}}]}]}})");
  Put("/registry/persistentvolumeclaims/a/claim", R"({"spec":{"volumeName":"pv1"}})");
  NodeAuthorizer node(store_.get());
  const UserInfo n1{"system:node:n1", "", {"system:nodes", "system:authenticated"}, {}};
  const UserInfo n2{"system:node:n2", "", {"system:nodes", "system:authenticated"}, {}};
  EXPECT_TRUE(node.Authorize(Req(n1, "get", "secrets", "a", "s")).allowed);
  EXPECT_TRUE(node.Authorize(Req(n1, "get", "configmaps", "a", "cm")).allowed);
  EXPECT_TRUE(node.Authorize(Req(n1, "get", "persistentvolumeclaims", "a", "claim")).allowed);
  EXPECT_TRUE(node.Authorize(Req(n1, "get", "persistentvolumes", "", "pv1")).allowed);
  RequestAttributes token = Req(n1, "create", "serviceaccounts", "a", "sa");
  token.subresource = "token";
  EXPECT_TRUE(node.Authorize(token).allowed);
  EXPECT_FALSE(node.Authorize(Req(n1, "get", "secrets", "a", "other")).allowed);
  EXPECT_FALSE(node.Authorize(Req(n1, "list", "secrets", "a")).allowed);
  EXPECT_FALSE(node.Authorize(Req(n2, "get", "secrets", "a", "s")).allowed);
  EXPECT_EQ(node.Authorize(Req(n2, "get", "secrets", "a", "s")).reason,
            "no relationship found between node 'n2' and this object");
  // Not a node: no opinion at all.
  EXPECT_FALSE(node.Authorize(Req(UserInfo{"system:node:n1", "", {}, {}}, "get", "secrets", "a", "s")).allowed);
  // Rebinding the pod moves its references.
  Put("/registry/pods/a/p", R"({"spec":{"nodeName":"n2","volumes":[{"name":"v","secret":{"secretName":"s"}}]}})");
  node.Sync();
  EXPECT_FALSE(node.Authorize(Req(n1, "get", "secrets", "a", "s")).allowed);
  EXPECT_TRUE(node.Authorize(Req(n2, "get", "secrets", "a", "s")).allowed);
  EXPECT_EQ(node.NodeOfPod("a", "p"), "n2");
  Delete("/registry/pods/a/p");
  node.Sync();
  EXPECT_FALSE(node.Authorize(Req(n2, "get", "secrets", "a", "s")).allowed);
  // Leases: its own, in kube-node-lease; other resources as system:node's rules.
  RequestAttributes lease = Req(n1, "update", "leases", "kube-node-lease", "n1");
  lease.api_group = "coordination.k8s.io";
  EXPECT_TRUE(node.Authorize(lease).allowed);
  lease.name = "n2";
  EXPECT_FALSE(node.Authorize(lease).allowed);
  EXPECT_TRUE(node.Authorize(Req(n1, "list", "pods", "")).allowed);
  EXPECT_FALSE(node.Authorize(Req(n1, "create", "namespaces", "")).allowed);
}

}  // namespace
}  // namespace kite::apiserver::rbac
