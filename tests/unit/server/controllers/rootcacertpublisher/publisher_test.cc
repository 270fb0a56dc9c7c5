// The root CA certificate publisher's Reconcile over the fake API: kube-root-ca.crt in every
// active namespace, put back when edited, nothing without a CA or in a terminating namespace.
#include "server/controllers/rootcacertpublisher/publisher.h"

#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;

constexpr const char* kCa = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

const api::ResourceInfo& ConfigMaps() { return R("", "v1", "configmaps"); }

json::object Namespace(const std::string& phase) {
  json::object n = J(R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team"},"status":{}})");
  n["status"].as_object()["phase"] = phase;
  return n;
}

json::object RootCa(const std::string& data) {
  json::object cm = J(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"kube-root-ca.crt","namespace":"team"}})");
  cm["data"] = json::object{{"ca.crt", data}};
  return cm;
}

class RootCaCertPublisherReconcileTest : public ControllerTest {};

TEST_F(RootCaCertPublisherReconcileTest, PublishesTheCaInEveryActiveNamespace) {
  struct Case {
    const char* name;
    std::string ca, phase;
    std::optional<std::string> existing;  // the ConfigMap's ca.crt before
    std::string want_verb;                // "create", "update" or "" (no write)
  };
  const std::vector<Case> cases = {
      {"missing: created", kCa, "Active", std::nullopt, "create"},
      {"edited: put back", kCa, "Active", "tampered", "update"},
      {"right: left alone", kCa, "Active", kCa, ""},
      {"terminating namespace: nothing", kCa, "Terminating", std::nullopt, ""},
      {"no CA: nothing", "", "Active", std::nullopt, ""},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    Seed(Namespace(c.phase));
    if (c.existing) Seed(RootCa(*c.existing));
    Start(NewRootCaCertPublisher(client(), c.ca, &clock_));
    ASSERT_TRUE(Reconcile("team").ok());
    auto writes = fake().Writes();
    if (c.want_verb.empty()) {
      EXPECT_TRUE(writes.empty());
      continue;
    }
    ASSERT_EQ(writes.size(), 1u);
    EXPECT_EQ(writes[0].Describe(), c.want_verb + " configmaps");
    EXPECT_EQ(Stored(ConfigMaps(), "team", "kube-root-ca.crt").at("data"), (json::object{{"ca.crt", kCa}}));
  }
}

TEST_F(RootCaCertPublisherReconcileTest, AWriteErrorIsRetried) {
  Seed(Namespace("Active"));
  Start(NewRootCaCertPublisher(client(), kCa, &clock_));
  fake().FailWith("create", "configmaps", 500, "InternalError", "try later");
  EXPECT_FALSE(Reconcile("team").ok());
  fake().ClearReactors();
  EXPECT_TRUE(Reconcile("team").ok());
  EXPECT_TRUE(fake().Get(ConfigMaps(), "team", "kube-root-ca.crt").has_value());
}

}  // namespace
}  // namespace kite::controllers
