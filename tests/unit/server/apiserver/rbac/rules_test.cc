#include "server/apiserver/rbac/rules.h"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace kite::apiserver::rbac {
namespace {

RequestAttributes Res(std::string verb, std::string group, std::string resource, std::string sub = "",
                      std::string name = "", std::string ns = "default") {
  RequestAttributes a;
  a.verb = std::move(verb);
  a.resource_request = true;
  a.api_group = std::move(group);
  a.resource = std::move(resource);
  a.subresource = std::move(sub);
  a.name = std::move(name);
  a.namespace_ = std::move(ns);
  return a;
}

RequestAttributes Url(std::string verb, std::string path) {
  RequestAttributes a;
  a.verb = std::move(verb);
  a.path = std::move(path);
  return a;
}

PolicyRule Rule(std::vector<std::string> verbs, std::vector<std::string> groups, std::vector<std::string> resources,
                std::vector<std::string> names = {}) {
  return PolicyRule{std::move(verbs), std::move(groups), std::move(resources), std::move(names), {}};
}

TEST(RbacRules, VerbsGroupsResources) {
  PolicyRule r = Rule({"get", "list"}, {""}, {"pods"});
  EXPECT_TRUE(RuleAllows(r, Res("get", "", "pods")));
  EXPECT_TRUE(RuleAllows(r, Res("list", "", "pods")));
  EXPECT_FALSE(RuleAllows(r, Res("create", "", "pods")));
  EXPECT_FALSE(RuleAllows(r, Res("get", "apps", "pods")));
  EXPECT_FALSE(RuleAllows(r, Res("get", "", "secrets")));
  // A subresource is its own resource: "pods" does not grant "pods/log".
  EXPECT_FALSE(RuleAllows(r, Res("get", "", "pods", "log")));
}

TEST(RbacRules, Wildcards) {
  EXPECT_TRUE(RuleAllows(Rule({"*"}, {"*"}, {"*"}), Res("delete", "apps", "deployments", "scale")));
  EXPECT_TRUE(RuleAllows(Rule({"get"}, {""}, {"pods/log"}), Res("get", "", "pods", "log")));
  EXPECT_FALSE(RuleAllows(Rule({"get"}, {""}, {"pods/log"}), Res("get", "", "pods")));
  // `*/scale` is any resource's scale subresource, never the resource itself.
  PolicyRule scale = Rule({"get"}, {"*"}, {"*/scale"});
  EXPECT_TRUE(RuleAllows(scale, Res("get", "apps", "deployments", "scale")));
  EXPECT_FALSE(RuleAllows(scale, Res("get", "apps", "deployments")));
  EXPECT_FALSE(RuleAllows(scale, Res("get", "apps", "deployments", "status")));
}

TEST(RbacRules, ResourceNames) {
  PolicyRule r = Rule({"get"}, {""}, {"pods"}, {"web"});
  EXPECT_TRUE(RuleAllows(r, Res("get", "", "pods", "", "web")));
  EXPECT_FALSE(RuleAllows(r, Res("get", "", "pods", "", "db")));
  // A list names no object, so a rule limited to names never allows it.
  EXPECT_FALSE(RuleAllows(Rule({"list"}, {""}, {"pods"}, {"web"}), Res("list", "", "pods")));
}

TEST(RbacRules, NonResourceUrls) {
  PolicyRule r{{"get"}, {}, {}, {}, {"/healthz", "/apis/*"}};
  EXPECT_TRUE(RuleAllows(r, Url("get", "/healthz")));
  EXPECT_FALSE(RuleAllows(r, Url("get", "/healthz/etcd")));
  EXPECT_TRUE(RuleAllows(r, Url("get", "/apis/apps/v1")));
  EXPECT_FALSE(RuleAllows(r, Url("get", "/apis")));
  EXPECT_FALSE(RuleAllows(r, Url("post", "/healthz")));
  // A URL rule never allows a resource request and the other way round.
  EXPECT_FALSE(RuleAllows(r, Res("get", "", "pods")));
  EXPECT_FALSE(RuleAllows(Rule({"*"}, {"*"}, {"*"}), Url("get", "/healthz")));
  EXPECT_TRUE(RuleAllows(PolicyRule{{"*"}, {}, {}, {}, {"*"}}, Url("delete", "/anything")));
}

TEST(RbacRules, Covers) {
  const std::vector<PolicyRule> admin = {Rule({"*"}, {"*"}, {"*"})};
  const std::vector<PolicyRule> view = {Rule({"get", "list", "watch"}, {""}, {"pods", "services"})};
  EXPECT_TRUE(Covers(admin, view));
  EXPECT_FALSE(Covers(view, admin));
  std::vector<PolicyRule> missing;
  EXPECT_FALSE(Covers(view, {Rule({"get", "create"}, {""}, {"pods"})}, &missing));
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(CompactString(missing[0]), R"({APIGroups:[""], Resources:["pods"], Verbs:["create"]})");
  // Names: an owner limited to names covers only those names.
  const std::vector<PolicyRule> one = {Rule({"get"}, {""}, {"pods"}, {"web"})};
  EXPECT_TRUE(Covers(one, {Rule({"get"}, {""}, {"pods"}, {"web"})}));
  EXPECT_FALSE(Covers(one, {Rule({"get"}, {""}, {"pods"})}));
  EXPECT_TRUE(Covers(view, {Rule({"get"}, {""}, {"pods"}, {"web"})}));
  // `*/scale` covers deployments/scale; URLs with a trailing star cover their subpaths.
  EXPECT_TRUE(Covers({Rule({"get"}, {"apps"}, {"*/scale"})}, {Rule({"get"}, {"apps"}, {"deployments/scale"})}));
  EXPECT_TRUE(Covers({PolicyRule{{"get"}, {}, {}, {}, {"/apis/*"}}}, {PolicyRule{{"get"}, {}, {}, {}, {"/apis/apps"}}}));
  EXPECT_FALSE(Covers(view, {PolicyRule{{"get"}, {}, {}, {}, {"/healthz"}}}));
}

TEST(RbacRules, ParseIsLenient) {
  boost::json::value v = boost::json::parse(
      R"([{"verbs":["get"],"apiGroups":[""],"resources":["pods"],"resourceNames":["a",3]}, 7, {"nonResourceURLs":["/x"],"verbs":"get"}])");
  auto rules = ParseRules(&v);
  ASSERT_EQ(rules.size(), 2u);
  EXPECT_EQ(rules[0].resource_names, std::vector<std::string>{"a"});
  EXPECT_TRUE(rules[1].verbs.empty());
  EXPECT_TRUE(ParseRules(nullptr).empty());
  boost::json::value null_value;
  EXPECT_TRUE(ParseRules(&null_value).empty());
  EXPECT_EQ(boost::json::serialize(RuleJson(rules[0])),
            R"({"verbs":["get"],"apiGroups":[""],"resources":["pods"],"resourceNames":["a"]})");
}

}  // namespace
}  // namespace kite::apiserver::rbac
