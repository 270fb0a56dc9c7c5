// The EndpointSlice controller's Reconcile over the fake API: slices for a Service's pods with
// the managed-by and service-name labels and the Service as owner, at most 100 endpoints each,
// a placeholder when nothing is offered, updates in place and surplus slices deleted.
#include "server/controllers/endpointslice/endpointslice_controller.h"

#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;

const api::ResourceInfo& Slices() { return R("discovery.k8s.io", "v1", "endpointslices"); }

json::object Service() {
  return J(R"({"apiVersion":"v1","kind":"Service","metadata":{"name":"web","namespace":"default","uid":"svc-uid"},
    "spec":{"clusterIP":"10.0.0.10","selector":{"app":"web"},
            "ports":[{"name":"http","port":80,"targetPort":8080,"protocol":"TCP"}]}})");
}

json::object WebPod(int i) {
  return Pod("web-" + std::to_string(i)).Labels(R"({"app":"web"})").Node("n1").Ready().Ip(
      "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1));
}

class EndpointSliceReconcileTest : public ControllerTest {
 protected:
  void StartController() { Start(NewEndpointSliceController(client(), &clock_)); }
  size_t EndpointsIn(const json::object& slice) {
    auto* e = slice.if_contains("endpoints");
    return e && e->is_array() ? e->as_array().size() : 0;
  }
};

TEST_F(EndpointSliceReconcileTest, SlicesHoldAtMostAHundredEndpoints) {
  struct Case {
    const char* name;
    int pods;
    std::vector<size_t> want_sizes;  // endpoints per created slice, sorted
  };
  const std::vector<Case> cases = {
      {"no pods: a placeholder", 0, {0}},
      {"three pods, one slice", 3, {3}},
      {"150 pods, two slices", 150, {50, 100}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    const json::object svc = Seed(Service());
    for (int i = 0; i < c.pods; ++i) Seed(WebPod(i));
    StartController();
    ASSERT_TRUE(Reconcile("default/web").ok());
    auto creates = fake().Writes("create", "endpointslices");
    std::vector<size_t> sizes;
    for (const auto& a : creates) {
      sizes.push_back(EndpointsIn(a.object));
      const auto& labels = a.object.at("metadata").at("labels").as_object();
      EXPECT_EQ(labels.at("kubernetes.io/service-name"), "web");
      EXPECT_EQ(labels.at("endpointslice.kubernetes.io/managed-by"), "endpointslice-controller.k8s.io");
      EXPECT_EQ(At(a.object, "addressType"), "IPv4");
      EXPECT_EQ(Name(a.object).rfind("web-", 0), 0u);
      const auto& ref = a.object.at("metadata").at("ownerReferences").as_array().at(0).as_object();
      EXPECT_EQ(ref.at("kind"), "Service");
      EXPECT_EQ(ref.at("uid"), "svc-uid");
    }
    std::sort(sizes.begin(), sizes.end());
    EXPECT_EQ(sizes, c.want_sizes);
  }
}

TEST_F(EndpointSliceReconcileTest, ASliceIsUpdatedInPlaceAndLeftAloneWhenRight) {
  Seed(Service());
  Seed(WebPod(1));
  StartController();
  ASSERT_TRUE(Reconcile("default/web").ok());
  Settle();
  fake().ClearActions();
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_TRUE(fake().Writes().empty());
  Seed(WebPod(2));
  Settle();
  ASSERT_TRUE(Reconcile("default/web").ok());
  auto updates = fake().Writes("update", "endpointslices");
  ASSERT_EQ(updates.size(), 1u);
  EXPECT_EQ(EndpointsIn(updates[0].object), 2u);
  EXPECT_TRUE(fake().Writes("create", "endpointslices").empty());
}

TEST_F(EndpointSliceReconcileTest, SurplusSlicesAreDeleted) {
  Seed(Service());
  for (int i = 0; i < 150; ++i) Seed(WebPod(i));
  StartController();
  ASSERT_TRUE(Reconcile("default/web").ok());
  Settle();
  // Down to ten pods: one slice is enough.
  for (int i = 10; i < 150; ++i) {
    client::DeleteParams p;
    ASSERT_TRUE(client()->Delete(Pods(), "default", "web-" + std::to_string(i), p).ok());
  }
  Settle();
  fake().ClearActions();
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_EQ(fake().Writes("delete", "endpointslices").size(), 1u);
  auto slices = fake().List(Slices(), "default");
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_EQ(EndpointsIn(slices[0]), 10u);
}

// ---- the content computed from a Service and its pods, without the API ----------------------

TEST(EndpointSliceTest, ConditionsFollowReadinessAndTermination) {
  auto slices = endpointslice::DesiredSlices(
      ServiceWithPorts(), {EndpointPod("a", "10.0.0.1", true), EndpointPod("b", "10.0.0.2", false),
                          Pod(*EndpointPod("c", "10.0.0.3", true)).Deleting().Shared()});
  ASSERT_EQ(slices.size(), 1u);
  const auto& eps = slices[0].at("endpoints").as_array();
  ASSERT_EQ(eps.size(), 3u);
  EXPECT_EQ(json::serialize(eps[0].as_object().at("conditions")), R"({"ready":true,"serving":true,"terminating":false})");
  EXPECT_EQ(json::serialize(eps[1].as_object().at("conditions")), R"({"ready":false,"serving":false,"terminating":false})");
  EXPECT_EQ(json::serialize(eps[2].as_object().at("conditions")), R"({"ready":false,"serving":true,"terminating":true})");
  EXPECT_EQ(json::serialize(slices[0].at("ports")), R"([{"name":"http","port":8080,"protocol":"TCP"}])");
}

TEST(EndpointSliceTest, AtMostAHundredEndpointsPerSlice) {
  std::vector<client::ObjectPtr> pods;
  for (int i = 0; i < 250; ++i) pods.push_back(EndpointPod("p" + std::to_string(i), "10.1." + std::to_string(i / 200) + "." + std::to_string(i % 200), true));
  auto slices = endpointslice::DesiredSlices(ServiceWithPorts(), pods);
  ASSERT_EQ(slices.size(), 3u);
  EXPECT_EQ(slices[0].at("endpoints").as_array().size(), 100u);
  EXPECT_EQ(slices[2].at("endpoints").as_array().size(), 50u);
}

TEST(EndpointSliceTest, NothingToOfferKeepsAPlaceholder) {
  auto slices = endpointslice::DesiredSlices(ServiceWithPorts(), {});
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_TRUE(slices[0].at("endpoints").as_array().empty());
  // IPv6 pods are not in an IPv4 slice.
  EXPECT_TRUE(endpointslice::DesiredSlices(ServiceWithPorts(), {EndpointPod("a", "fd00::1", true)})[0].at("endpoints").as_array().empty());
}

}  // namespace
}  // namespace kite::controllers
