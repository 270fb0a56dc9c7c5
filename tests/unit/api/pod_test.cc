// status.qosClass as upstream's GetPodQOS computes it.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/pod.h"

namespace kite::api {
namespace {

namespace json = boost::json;

json::object PodWith(const std::string& containers, const std::string& init = "[]") {
  return json::parse(R"({"metadata":{"name":"p"},"spec":{"containers":)" + containers + R"(,"initContainers":)" + init + "}}")
      .as_object();
}

TEST(PodQOSClass, BestEffortWithoutRequestsOrLimits) {
  EXPECT_EQ(PodQOSClass(PodWith(R"([{"name":"a"},{"name":"b","resources":{}}])")), "BestEffort");
  // Zero and other resources do not count.
  EXPECT_EQ(PodQOSClass(PodWith(R"([{"name":"a","resources":{"requests":{"cpu":"0","ephemeral-storage":"1Gi"}}}])")),
            "BestEffort");
  EXPECT_EQ(PodQOSClass(PodWith("[]")), "BestEffort");
}

TEST(PodQOSClass, GuaranteedWhenEveryContainerLimitsCpuAndMemoryEqualToRequests) {
  EXPECT_EQ(PodQOSClass(PodWith(R"([{"name":"a","resources":{"limits":{"cpu":"1","memory":"1Gi"},
    "requests":{"cpu":"1000m","memory":"1024Mi"}}}])")), "Guaranteed");
  // Requests default to limits.
  EXPECT_EQ(PodQOSClass(PodWith(R"([{"name":"a","resources":{"limits":{"cpu":"500m","memory":"128Mi"}}}])")), "Guaranteed");
}

TEST(PodQOSClass, BurstableOtherwise) {
  EXPECT_EQ(PodQOSClass(PodWith(R"([{"name":"a","resources":{"requests":{"cpu":"100m"}}}])")), "Burstable");
  // cpu limited only.
  EXPECT_EQ(PodQOSClass(PodWith(R"([{"name":"a","resources":{"limits":{"cpu":"1"}}}])")), "Burstable");
  // requests below limits.
  EXPECT_EQ(PodQOSClass(PodWith(R"([{"name":"a","resources":{"limits":{"cpu":"1","memory":"1Gi"},
    "requests":{"cpu":"500m","memory":"1Gi"}}}])")), "Burstable");
  // One guaranteed container and one best-effort one.
  EXPECT_EQ(PodQOSClass(PodWith(R"([{"name":"a","resources":{"limits":{"cpu":"1","memory":"1Gi"}}},{"name":"b"}])")),
            "Burstable");
  // Init containers count.
  EXPECT_EQ(PodQOSClass(PodWith(R"([{"name":"a","resources":{"limits":{"cpu":"1","memory":"1Gi"}}}])",
                                R"([{"name":"i","resources":{"requests":{"memory":"1Mi"}}}])")),
            "Burstable");
  // Unparsable quantities count as unset, never a crash.
  EXPECT_EQ(PodQOSClass(PodWith(R"([{"name":"a","resources":{"limits":{"cpu":"x"},"requests":{"memory":true}}}])")),
            "BestEffort");
}

}  // namespace
}  // namespace kite::api
