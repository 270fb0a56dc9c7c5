// The Endpoints controller's Reconcile over the fake API and a fake clock: the Endpoints of a
// Service list its ready and not-ready pods, are updated only when they change, are left alone
// for a Service without a selector and deleted with their Service.
#include "server/controllers/endpoint/endpoints_controller.h"

#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;

const api::ResourceInfo& Endpoints() { return R("", "v1", "endpoints"); }

json::object Service(const std::string& selector = R"({"app":"web"})") {
  json::object s = J(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default"},
    "spec":{"clusterIP":"10.0.0.10","ports":[{"name":"http","port":80,"targetPort":8080,"protocol":"TCP"}]}})");
  if (!selector.empty()) s["spec"].as_object()["selector"] = J(selector);
  return s;
}

json::object WebPod(const std::string& name, const std::string& ip, bool ready) {
  return Pod(name).Labels(R"({"app":"web"})").Node("n1").Ip(ip).Ready(ready);
}

class EndpointsReconcileTest : public ControllerTest {
 protected:
  void StartController() { Start(NewEndpointsController(client(), &clock_)); }
};

TEST_F(EndpointsReconcileTest, ListsReadyAndNotReadyPodsOfTheService) {
  struct Case {
    const char* name;
    std::vector<json::object> pods;
    std::vector<std::string> want_ready, want_not_ready;
  };
  const std::vector<Case> cases = {
      {"ready pods are addresses", {WebPod("a", "10.1.0.1", true), WebPod("b", "10.1.0.2", true)}, {"10.1.0.1", "10.1.0.2"}, {}},
      {"not ready pods are notReadyAddresses", {WebPod("a", "10.1.0.1", true), WebPod("b", "10.1.0.2", false)},
       {"10.1.0.1"}, {"10.1.0.2"}},
      {"pods of other apps are left out",
       {WebPod("a", "10.1.0.1", true), Pod("other").Labels(R"({"app":"db"})").Ip("10.1.0.9").Ready()},
       {"10.1.0.1"}, {}},
      {"no pods: no subsets", {}, {}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    Seed(Service());
    for (const auto& p : c.pods) Seed(p);
    StartController();
    ASSERT_TRUE(Reconcile("default/web").ok());
    ASSERT_EQ(fake().Writes("create", "endpoints").size(), 1u);
    json::object ep = Stored(Endpoints(), "default", "web");
    std::vector<std::string> ready, not_ready;
    if (auto* subsets = ep.if_contains("subsets")) {
      for (const auto& s : subsets->as_array()) {
        EXPECT_EQ(s.at("ports"), (json::array{J(R"({"name":"http","port":8080,"protocol":"TCP"})")}));
        if (auto* a = s.as_object().if_contains("addresses")) {
          for (const auto& x : a->as_array()) ready.emplace_back(x.at("ip").as_string());
        }
        if (auto* a = s.as_object().if_contains("notReadyAddresses")) {
          for (const auto& x : a->as_array()) not_ready.emplace_back(x.at("ip").as_string());
        }
      }
    }
    EXPECT_EQ(ready, c.want_ready);
    EXPECT_EQ(not_ready, c.want_not_ready);
    // The trigger time is the clock's.
    EXPECT_EQ(ep.at("metadata").at("annotations").at("endpoints.kubernetes.io/last-change-trigger-time"),
              "2026-01-01T00:00:00.000000Z");
  }
}

TEST_F(EndpointsReconcileTest, UnchangedEndpointsAreNotWrittenAgain) {
  Seed(Service());
  Seed(WebPod("a", "10.1.0.1", true));
  StartController();
  ASSERT_TRUE(Reconcile("default/web").ok());
  Settle();
  fake().ClearActions();
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_TRUE(fake().Writes().empty());
  // A pod turning ready is an update.
  Seed(WebPod("b", "10.1.0.2", true));
  Settle();
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_EQ(fake().Writes("update", "endpoints").size(), 1u);
}

TEST_F(EndpointsReconcileTest, ServicesWithoutSelectorAreLeftAloneAndGoneServicesLoseTheirEndpoints) {
  Seed(Service(""));
  Seed(J(R"({"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"web","namespace":"default"},
             "subsets":[{"addresses":[{"ip":"192.168.0.1"}],"ports":[{"port":5432}]}]})"));
  Seed(J(R"({"apiVersion":"v1","kind":"Endpoints","metadata":{"name":"gone","namespace":"default"}})"));
  StartController();
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_TRUE(fake().Writes().empty());
  ASSERT_TRUE(Reconcile("default/gone").ok());
  EXPECT_EQ(Names(fake().Writes("delete", "endpoints")), std::vector<std::string>{"gone"});
  EXPECT_TRUE(fake().Get(Endpoints(), "default", "web").has_value());
}

// ---- the content computed from a Service and its pods, without the API ----------------------

TEST(EndpointsTest, ReadyAndNotReadyAddressesShareASubset) {
  auto subsets = endpoints::Subsets(ServiceWithPorts(), {EndpointPod("b", "10.0.0.2", false), EndpointPod("a", "10.0.0.1", true), EndpointPod("c", "", true)});
  ASSERT_EQ(subsets.size(), 1u);
  const auto& s = subsets[0].as_object();
  EXPECT_EQ(json::serialize(s.at("addresses")),
            R"([{"ip":"10.0.0.1","nodeName":"n1","targetRef":{"kind":"Pod","namespace":"default","name":"a","uid":"u-a"}}])");
  EXPECT_EQ(s.at("notReadyAddresses").as_array()[0].as_object().at("ip"), "10.0.0.2");
  EXPECT_EQ(json::serialize(s.at("ports")), R"([{"port":8080,"protocol":"TCP","name":"http"}])");
}

TEST(EndpointsTest, PodsWithDifferentPortsGetTheirOwnSubsets) {
  auto subsets = endpoints::Subsets(ServiceWithPorts(), {EndpointPod("a", "10.0.0.1", true), EndpointPod("b", "10.0.0.2", true, 9090)});
  EXPECT_EQ(subsets.size(), 2u);
}

TEST(EndpointsTest, PublishNotReadyAddressesListsEveryPodAsReady) {
  auto svc = ServiceWithPorts();
  svc["spec"].as_object()["publishNotReadyAddresses"] = true;
  auto subsets = endpoints::Subsets(svc, {EndpointPod("a", "10.0.0.1", false)});
  ASSERT_EQ(subsets.size(), 1u);
  EXPECT_TRUE(subsets[0].as_object().contains("addresses"));
  EXPECT_FALSE(subsets[0].as_object().contains("notReadyAddresses"));
}

TEST(EndpointsTest, PodWithoutTheNamedPortIsNoEndpoint) {
  auto svc = ServiceWithPorts(R"([{"name":"grpc","port":81,"targetPort":"grpc"}])");
  EXPECT_TRUE(endpoints::Subsets(svc, {EndpointPod("a", "10.0.0.1", true)}).empty());
}

}  // namespace
}  // namespace kite::controllers
