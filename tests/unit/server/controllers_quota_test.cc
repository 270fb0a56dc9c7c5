// ResourceQuota usage of pods: requests and limits as upstream sums them, scopes, finished pods.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/controllers/resourcequota/resource_quota_controller.h"

namespace kite::controllers::quota {
namespace {
namespace json = boost::json;

client::ObjectPtr Pod(const std::string& spec, const std::string& phase = "Running") {
  return std::make_shared<const json::object>(
      json::parse(R"({"metadata":{"name":"p"},"spec":)" + spec + R"(,"status":{"phase":")" + phase + R"("}})").as_object());
}

TEST(QuotaTest, RequestsTakeTheLargerOfContainersAndInitContainers) {
  std::vector<client::ObjectPtr> pods{
      Pod(R"({"containers":[{"resources":{"requests":{"cpu":"250m","memory":"64Mi"}}},{"resources":{"requests":{"cpu":"250m"}}}]})"),
      Pod(R"({"initContainers":[{"resources":{"requests":{"cpu":"2"}}}],"containers":[{"resources":{"requests":{"cpu":"100m"}}}],
             "overhead":{"cpu":"10m"}})")};
  EXPECT_EQ(PodUsage("requests.cpu", pods, {}), "2510m");
  EXPECT_EQ(PodUsage("cpu", pods, {}), "2510m");
  EXPECT_EQ(PodUsage("requests.memory", pods, {}), "64Mi");
  EXPECT_EQ(PodUsage("limits.cpu", pods, {}), "0");
  EXPECT_EQ(PodUsage("pods", pods, {}), "2");
  EXPECT_FALSE(PodUsage("services", pods, {}));
}

TEST(QuotaTest, FinishedPodsAndScopes) {
  std::vector<client::ObjectPtr> pods{Pod(R"({"containers":[{}]})"), Pod(R"({"containers":[{}]})", "Succeeded"),
                                      Pod(R"({"activeDeadlineSeconds":5,"containers":[{"resources":{"limits":{"cpu":"1"}}}]})")};
  EXPECT_EQ(PodUsage("count/pods", pods, {}), "2");
  EXPECT_EQ(PodUsage("pods", pods, {"BestEffort"}), "1");
  EXPECT_EQ(PodUsage("pods", pods, {"Terminating"}), "1");
  EXPECT_EQ(PodUsage("limits.cpu", pods, {"NotTerminating"}), "0");
}

}  // namespace
}  // namespace kite::controllers::quota
