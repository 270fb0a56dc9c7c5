// The audit policy: upstream's decoding rules and its checker's matching (first rule wins; users,
// groups, verbs, group/resource/subresource wildcards, resourceNames, namespaces,
// nonResourceURLs; omitStages are the policy's plus the rule's).
#include <gtest/gtest.h>

#include "server/apiserver/filters/audit_policy.h"

namespace kite::apiserver::audit {
namespace {

RequestAttributes Res(std::string verb, std::string group, std::string resource, std::string sub, std::string ns,
                      std::string name = "", std::string user = "jane") {
  RequestAttributes a;
  a.user = {std::move(user), "", {"devs", "system:authenticated"}, {}};
  a.verb = std::move(verb);
  a.resource_request = true;
  a.api_group = std::move(group);
  a.resource = std::move(resource);
  a.subresource = std::move(sub);
  a.namespace_ = std::move(ns);
  a.name = std::move(name);
  return a;
}

TEST(AuditPolicyTest, FirstMatchingRuleGivesTheLevel) {
  auto p = ParsePolicy(R"(apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  users: [system:kube-proxy]
- level: None
  nonResourceURLs: [/healthz*, /version]
- level: RequestResponse
  resources: [{group: "", resources: [pods/log, "*/status"]}]
- level: Request
  namespaces: [kube-system]
  resources: [{group: apps, resources: ["deployments/*"]}]
- level: Metadata
  resources: [{group: "", resources: [secrets], resourceNames: [admin-token]}]
  omitStages: [ResponseStarted]
- level: Metadata
  userGroups: [ops]
- level: Request
  verbs: [delete]
)");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(Evaluate(*p, Res("get", "", "pods", "log", "a")).level, Level::kRequestResponse);
  EXPECT_EQ(Evaluate(*p, Res("update", "", "nodes", "status", "")).level, Level::kRequestResponse);  // */status
  EXPECT_EQ(Evaluate(*p, Res("update", "apps", "deployments", "status", "a")).level, Level::kNone);  // another group
  EXPECT_EQ(Evaluate(*p, Res("get", "", "pods", "", "a")).level, Level::kNone);
  EXPECT_EQ(Evaluate(*p, Res("get", "apps", "deployments", "scale", "kube-system")).level, Level::kRequest);
  EXPECT_EQ(Evaluate(*p, Res("get", "apps", "deployments", "scale", "default")).level, Level::kNone);
  const auto token = Evaluate(*p, Res("get", "", "secrets", "", "a", "admin-token"));
  EXPECT_EQ(token.level, Level::kMetadata);
  EXPECT_EQ(token.omit_stages, unsigned{kRequestReceived | kResponseStarted});
  EXPECT_EQ(Evaluate(*p, Res("get", "", "secrets", "", "a", "other")).level, Level::kNone);
  EXPECT_EQ(Evaluate(*p, Res("delete", "", "configmaps", "", "a")).level, Level::kRequest);
  EXPECT_EQ(Evaluate(*p, Res("delete", "", "pods", "", "a", "", "system:kube-proxy")).level, Level::kNone);
  RequestAttributes health;
  health.user = {"jane", "", {}, {}};
  health.verb = "get";
  health.path = "/healthz/etcd";
  EXPECT_EQ(Evaluate(*p, health).level, Level::kNone);
  health.verb = "delete";
  EXPECT_EQ(Evaluate(*p, health).level, Level::kNone);  // the None rule comes first
  health.path = "/metrics";
  EXPECT_EQ(Evaluate(*p, health).level, Level::kRequest);  // verbs rule: no resources, matches any request
  EXPECT_EQ(Evaluate(*p, health).omit_stages, unsigned{kRequestReceived});
}

TEST(AuditPolicyTest, RefusesWhatUpstreamRefuses) {
  EXPECT_FALSE(ParsePolicy("apiVersion: audit.k8s.io/v1beta1\nkind: Policy\nrules: [{level: None}]\n").ok());
  EXPECT_FALSE(ParsePolicy("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n").ok());
  EXPECT_FALSE(ParsePolicy("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: Loud}]\n").ok());
  EXPECT_FALSE(ParsePolicy("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, omitStages: [Later]}]\n").ok());
  EXPECT_FALSE(ParsePolicy("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: [/a], "
                           "resources: [{group: \"\"}]}]\n").ok());
  EXPECT_FALSE(ParsePolicy("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None, nonResourceURLs: [a*b]}]\n").ok());
  EXPECT_FALSE(ParsePolicy("{").ok());
}

}  // namespace
}  // namespace kite::apiserver::audit
