// Endpoints subsets and EndpointSlice contents computed from a Service and its pods.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/controllers/common/endpoint_utils.h"
#include "server/controllers/endpoint/endpoints_controller.h"
#include "server/controllers/endpointslice/endpointslice_controller.h"

namespace kite::controllers {
namespace {
namespace json = boost::json;

json::object Service(const std::string& ports = R"([{"name":"http","port":80,"targetPort":"http","protocol":"TCP"}])") {
  return json::parse(R"({"metadata":{"name":"web","namespace":"default","uid":"u-svc"},
    "spec":{"selector":{"app":"web"},"clusterIP":"10.43.0.5","ports":)" + ports + "}}")
      .as_object();
}

client::ObjectPtr Pod(const std::string& name, const std::string& ip, bool ready, const std::string& extra_meta = "",
                      int container_port = 8080) {
  return std::make_shared<const json::object>(
      json::parse(R"({"metadata":{"name":")" + name + R"(","namespace":"default","uid":"u-)" + name + "\"" + extra_meta +
                  R"(},"spec":{"nodeName":"n1","containers":[{"name":"c","ports":[{"name":"http","containerPort":)" +
                  std::to_string(container_port) + R"(}]}]},"status":{"phase":"Running","podIP":")" + ip +
                  R"(","conditions":[{"type":"Ready","status":")" + (ready ? "True" : "False") + R"("}]}})")
          .as_object());
}

TEST(EndpointUtilsTest, FindPortResolvesNumbersAndNames) {
  auto pod = Pod("a", "10.0.0.1", true);
  EXPECT_EQ(FindPort(*pod, json::parse(R"({"port":80,"targetPort":9090})").as_object()), 9090);
  EXPECT_EQ(FindPort(*pod, json::parse(R"({"port":80,"targetPort":"http"})").as_object()), 8080);
  EXPECT_EQ(FindPort(*pod, json::parse(R"({"port":80})").as_object()), 80);
  EXPECT_FALSE(FindPort(*pod, json::parse(R"({"port":80,"targetPort":"grpc"})").as_object()));
  EXPECT_FALSE(FindPort(*pod, json::parse(R"({"port":80,"targetPort":"http","protocol":"UDP"})").as_object()));
}

TEST(EndpointUtilsTest, WhichPodsAreEndpoints) {
  EXPECT_TRUE(ShouldPodBeInEndpoints(*Pod("a", "10.0.0.1", false), false));
  EXPECT_FALSE(ShouldPodBeInEndpoints(*Pod("a", "", true), false));
  auto deleting = Pod("a", "10.0.0.1", true, R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")");
  EXPECT_FALSE(ShouldPodBeInEndpoints(*deleting, false));
  EXPECT_TRUE(ShouldPodBeInEndpoints(*deleting, true));
}

TEST(EndpointsTest, ReadyAndNotReadyAddressesShareASubset) {
  auto subsets = endpoints::Subsets(Service(), {Pod("b", "10.0.0.2", false), Pod("a", "10.0.0.1", true), Pod("c", "", true)});
  ASSERT_EQ(subsets.size(), 1u);
  const auto& s = subsets[0].as_object();
  EXPECT_EQ(json::serialize(s.at("addresses")),
            R"([{"ip":"10.0.0.1","nodeName":"n1","targetRef":{"kind":"Pod","namespace":"default","name":"a","uid":"u-a"}}])");
  EXPECT_EQ(s.at("notReadyAddresses").as_array()[0].as_object().at("ip"), "10.0.0.2");
  EXPECT_EQ(json::serialize(s.at("ports")), R"([{"port":8080,"protocol":"TCP","name":"http"}])");
}

TEST(EndpointsTest, PodsWithDifferentPortsGetTheirOwnSubsets) {
  auto subsets = endpoints::Subsets(Service(), {Pod("a", "10.0.0.1", true), Pod("b", "10.0.0.2", true, "", 9090)});
  EXPECT_EQ(subsets.size(), 2u);
}

TEST(EndpointsTest, PublishNotReadyAddressesListsEveryPodAsReady) {
  auto svc = Service();
  svc["spec"].as_object()["publishNotReadyAddresses"] = true;
  auto subsets = endpoints::Subsets(svc, {Pod("a", "10.0.0.1", false)});
  ASSERT_EQ(subsets.size(), 1u);
  EXPECT_TRUE(subsets[0].as_object().contains("addresses"));
  EXPECT_FALSE(subsets[0].as_object().contains("notReadyAddresses"));
}

TEST(EndpointsTest, PodWithoutTheNamedPortIsNoEndpoint) {
  auto svc = Service(R"([{"name":"grpc","port":81,"targetPort":"grpc"}])");
  EXPECT_TRUE(endpoints::Subsets(svc, {Pod("a", "10.0.0.1", true)}).empty());
}

TEST(EndpointSliceTest, ConditionsFollowReadinessAndTermination) {
  auto slices = endpointslice::DesiredSlices(
      Service(), {Pod("a", "10.0.0.1", true), Pod("b", "10.0.0.2", false),
                  Pod("c", "10.0.0.3", true, R"(,"deletionTimestamp":"2026-01-01T00:00:00Z")")});
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
  for (int i = 0; i < 250; ++i) pods.push_back(Pod("p" + std::to_string(i), "10.1." + std::to_string(i / 200) + "." + std::to_string(i % 200), true));
  auto slices = endpointslice::DesiredSlices(Service(), pods);
  ASSERT_EQ(slices.size(), 3u);
  EXPECT_EQ(slices[0].at("endpoints").as_array().size(), 100u);
  EXPECT_EQ(slices[2].at("endpoints").as_array().size(), 50u);
}

TEST(EndpointSliceTest, NothingToOfferKeepsAPlaceholder) {
  auto slices = endpointslice::DesiredSlices(Service(), {});
  ASSERT_EQ(slices.size(), 1u);
  EXPECT_TRUE(slices[0].at("endpoints").as_array().empty());
  // IPv6 pods are not in an IPv4 slice.
  EXPECT_TRUE(endpointslice::DesiredSlices(Service(), {Pod("a", "fd00::1", true)})[0].at("endpoints").as_array().empty());
}

}  // namespace
}  // namespace kite::controllers
