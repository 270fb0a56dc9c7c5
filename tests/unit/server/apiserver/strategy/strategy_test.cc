// The per-kind hooks that replaced branches on a resource's name: PrepareForWrite (a CRD's names
// checked against the served set and its status written; every other kind untouched) and
// ChangesServedResources (CRDs only), and both through an API server in this process.
#include "server/apiserver/strategy/strategy.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/object.h"
#include "server/apiserver/crds/crds.h"
#include "tests/unit/server/apiserver/test_server.h"

namespace kite::apiserver {
namespace {
namespace json = boost::json;

const api::ResourceInfo& Crds() {
  return *api::FindResource("apiextensions.k8s.io", "v1", "customresourcedefinitions");
}

json::object Crd(const std::string& group, const std::string& plural) {
  json::object crd = json::parse(R"({"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition",
      "metadata":{},"spec":{"scope":"Namespaced","names":{"kind":"Widget"},
      "versions":[{"name":"v1","served":true,"storage":true,
                   "schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}})")
                         .as_object();
  crd["metadata"].as_object()["name"] = plural + "." + group;
  crd["spec"].as_object()["group"] = group;
  crd["spec"].as_object()["names"].as_object()["plural"] = plural;
  return crd;
}

TEST(StrategyDispatch, OnlyCrdsPrepareAgainstTheServedSet) {
  CustomResources crds(nullptr);  // the built-ins; no CRD read yet
  json::object crd = Crd("example.com", "widgets");
  ASSERT_FALSE(StrategyFor(Crds()).PrepareForWrite(crd, crds).has_value());
  EXPECT_EQ(api::GetString(crd, {"status", "acceptedNames", "plural"}), "widgets");
  EXPECT_EQ(api::GetString(crd, {"spec", "names", "singular"}), "widget");
  EXPECT_EQ(api::GetArray(crd, {"status", "conditions"}).size(), 2u);

  json::object taken = Crd("events.k8s.io", "events");  // served by a built-in
  auto refused = StrategyFor(Crds()).PrepareForWrite(taken, crds);
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->http_code(), 422);
  EXPECT_NE(refused->message().find("is served by a built-in API"), std::string::npos) << refused->message();

  // Any other kind, built-in or custom, is left as it is.
  const auto served = api::ResourceSet::With({});
  for (const auto& r : served->resources) {
    if (&StrategyFor(r) == &StrategyFor(Crds())) continue;
    json::object obj = Crd("example.com", "widgets");
    const json::object before = obj;
    EXPECT_FALSE(StrategyFor(r).PrepareForWrite(obj, crds).has_value()) << r.resource;
    EXPECT_EQ(obj, before) << r.resource;
  }
}

TEST(StrategyDispatch, OnlyCrdsChangeTheServedResources) {
  const auto served = api::ResourceSet::With({});
  for (const auto& r : served->resources) {
    EXPECT_EQ(StrategyFor(r).ChangesServedResources(),
              r.group == "apiextensions.k8s.io" && r.resource == "customresourcedefinitions")
        << r.group << "/" << r.resource;
  }
  api::ResourceInfo custom = Crds();
  custom.custom = true;  // a custom resource named like CRDs is just a custom resource
  EXPECT_FALSE(StrategyFor(custom).ChangesServedResources());
}

// Through the handlers: a CRD written is prepared (status) and served at once; deleted, it is not.
TEST(StrategyDispatch, ACrdWrittenThroughTheServerIsPreparedAndServed) {
  testing::InProcessApiServer server;
  ASSERT_NO_FATAL_FAILURE(server.Start());
  auto c = server.AdminClient();
  auto created = c->Create(Crds(), "", Crd("example.com", "widgets"));
  ASSERT_TRUE(created.ok()) << created.error().message();
  EXPECT_EQ(api::GetString(*created, {"status", "acceptedNames", "kind"}), "Widget");
  auto refused = c->Create(Crds(), "", Crd("events.k8s.io", "events"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().http_code(), 422);

  api::ResourceInfo widgets;
  widgets.group = "example.com";
  widgets.version = "v1";
  widgets.kind = "Widget";
  widgets.resource = "widgets";
  widgets.namespaced = true;
  widgets.custom = true;
  json::object w{{"apiVersion", "example.com/v1"}, {"kind", "Widget"}, {"metadata", json::object{{"name", "w1"}}}};
  auto made = c->Create(widgets, "default", w);
  ASSERT_TRUE(made.ok()) << made.error().message();
  ASSERT_TRUE(c->Delete(Crds(), "", "widgets.example.com").ok());
  EXPECT_EQ(c->Get(widgets, "default", "w1").error().http_code(), 404);
  c.reset();
}

}  // namespace
}  // namespace kite::apiserver
