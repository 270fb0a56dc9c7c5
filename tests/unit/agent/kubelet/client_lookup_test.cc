// ClientLookup over the fake API: objects (RuntimeClasses too) by GET, NotFound, Services by
// LIST, TokenRequest.
#include "agent/kubelet/client_lookup.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "client/testing/fake_transport.h"

namespace kite::kubelet {
namespace {

namespace json = boost::json;

TEST(ClientLookup, ReadsObjectsThroughTheClient) {
  auto fake = std::make_shared<client::testing::FakeTransport>();
  fake->Add(json::parse(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"shop"},"data":{"a":"1"}})").as_object());
  fake->Add(json::parse(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"db","namespace":"shop"},"spec":{"clusterIP":"10.43.0.9"}})").as_object());
  fake->Add(json::parse(R"({"apiVersion":"node.k8s.io/v1","kind":"RuntimeClass","metadata":{"name":"crun"},"handler":"crun"})").as_object());
  client::Client c(fake);
  ClientLookup lookup(&c);
  auto cm = lookup.GetConfigMap("shop", "cfg");
  ASSERT_TRUE(cm.ok());
  EXPECT_EQ(api::GetString(*cm, {"data", "a"}), "1");
  EXPECT_TRUE(lookup.GetSecret("shop", "nope").NotFound());
  EXPECT_TRUE(lookup.GetPersistentVolume("pv").NotFound());
  auto rc = lookup.GetRuntimeClass("crun");
  ASSERT_TRUE(rc.ok()) << rc.error().ToString();
  EXPECT_EQ(api::GetString(*rc, "handler"), "crun");
  EXPECT_TRUE(lookup.GetRuntimeClass("kata").NotFound());
  auto svcs = lookup.ListServices("shop");
  ASSERT_TRUE(svcs.ok());
  ASSERT_EQ(svcs->size(), 1u);
  EXPECT_EQ(api::Name((*svcs)[0]), "db");
}

TEST(ClientLookup, TokenRequest) {
  auto fake = std::make_shared<client::testing::FakeTransport>();
  client::Client c(fake);
  ClientLookup lookup(&c);
  auto pod = json::parse(R"({"metadata":{"name":"web","namespace":"shop","uid":"u-1"}})").as_object();
  // A server without the subresource: kUnimplemented.
  fake->FailWith("create", "serviceaccounts", 404, "NotFound", "the server could not find the requested resource");
  auto none = lookup.RequestToken("shop", "robot", "api", 3600, pod);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code(), Code::kUnimplemented);
  fake->ClearReactors();
  fake->PrependReactor("create", "serviceaccounts", [](const client::testing::Action& a) -> std::optional<client::Response> {
    EXPECT_EQ(a.subresource, "token");
    EXPECT_EQ(a.name, "robot");
    const json::object& spec = a.body.as_object().at("spec").as_object();
    EXPECT_EQ(spec.at("audiences").as_array()[0].as_string(), "api");
    EXPECT_EQ(spec.at("expirationSeconds").as_int64(), 3600);
    EXPECT_EQ(spec.at("boundObjectRef").as_object().at("uid").as_string(), "u-1");
    client::Response r;
    r.code = 201;
    r.body = R"({"kind":"TokenRequest","status":{"token":"jwt","expirationTimestamp":"2030-01-01T00:00:00Z"}})";
    return r;
  });
  auto t = lookup.RequestToken("shop", "robot", "api", 3600, pod);
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  EXPECT_EQ(t->token, "jwt");
  EXPECT_EQ(t->expiration_unix, 1893456000);
}

}  // namespace
}  // namespace kite::kubelet
