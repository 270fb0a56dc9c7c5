// server/apiserver/rbac/node_authorizer over a real store: the graph follows pods, claims and
// their volumes as written to the datastore, and a node reaches only what its pods reference.
#include "server/apiserver/rbac/node_authorizer.h"

#include <gtest/gtest.h>

#include "tests/unit/server/apiserver/rbac/authorizers_fixture.h"

namespace kite::apiserver::rbac {
namespace {

using testing::AuthorizersTest;

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
