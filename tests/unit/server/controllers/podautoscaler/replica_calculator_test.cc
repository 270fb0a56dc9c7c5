#include "server/controllers/podautoscaler/replica_calculator.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace kite::controllers::podautoscaler {
namespace {
namespace json = boost::json;

constexpr int64_t kNow = 1'733'400'000'000;  // 2024-12-05T12:00:00Z
constexpr const char* kLongAgo = "2024-12-05T11:00:00Z";  // past the CPU initialization period

client::ObjectPtr Pod(const std::string& name, const std::string& cpu_request, const std::string& phase = "Running",
                      const char* ready = "True", const char* start = kLongAgo) {
  json::object pod{
      {"metadata", {{"name", name}, {"namespace", "ns"}}},
      {"spec", {{"containers", json::array{json::object{{"name", "c"}, {"resources", {{"requests", {{"cpu", cpu_request}}}}}}}}}},
      {"status", {{"phase", phase}, {"startTime", start},
                  {"conditions", json::array{json::object{{"type", "Ready"}, {"status", ready}, {"lastTransitionTime", start}}}}}}};
  return std::make_shared<const json::object>(std::move(pod));
}

PodMetric Usage(int64_t milli) { return PodMetric{milli, kNow - 1000, 15'000}; }

TEST(CpuReplicas, ScalesUpByTheUtilizationRatio) {
  // 2 pods requesting 100m each, using 150m and 170m: 160% of a 50% target -> ceil(3.2 x 2) = 7.
  auto r = CpuReplicas(2, 50, {Pod("a", "100m"), Pod("b", "100m")}, {{"a", Usage(150)}, {"b", Usage(170)}}, kNow);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->utilization, 160);
  EXPECT_EQ(r->raw_average_milli, 160);
  EXPECT_EQ(r->replicas, 7);
}

TEST(CpuReplicas, WithinToleranceNothingChanges) {
  auto r = CpuReplicas(2, 50, {Pod("a", "100m"), Pod("b", "100m")}, {{"a", Usage(54)}, {"b", Usage(54)}}, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->utilization, 54);
  EXPECT_EQ(r->replicas, 2);  // |1 - 54/50| = 0.08 <= 0.1
}

TEST(CpuReplicas, ScalesDown) {
  auto r = CpuReplicas(4, 50, {Pod("a", "200m"), Pod("b", "200m"), Pod("c", "200m"), Pod("d", "200m")},
                       {{"a", Usage(20)}, {"b", Usage(20)}, {"c", Usage(20)}, {"d", Usage(20)}}, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->utilization, 10);
  EXPECT_EQ(r->replicas, 1);  // ceil(0.2 x 4)
}

TEST(CpuReplicas, MissingPodsCountAsFullOnAScaleDown) {
  // a uses 10% of its request, b has no metrics yet: on a scale-down b counts as 100%, so the
  // ratio is (10 + 100) / 2 = 55% of 50% -> within tolerance, no change.
  auto r = CpuReplicas(2, 50, {Pod("a", "100m"), Pod("b", "100m")}, {{"a", Usage(10)}}, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->replicas, 2);
}

TEST(CpuReplicas, UnreadyPodsCountAsZeroOnAScaleUp) {
  // a at 200% of a 50% target; b is Pending: (200 + 0) / 2 = 100% -> ceil(2 x 2) = 4.
  auto r = CpuReplicas(2, 50, {Pod("a", "100m"), Pod("b", "100m", "Pending")}, {{"a", Usage(200)}}, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->replicas, 4);
}

TEST(CpuReplicas, DeletedAndFailedPodsAreIgnored) {
  auto r = CpuReplicas(2, 50, {Pod("a", "100m"), Pod("b", "100m", "Failed")}, {{"a", Usage(100)}, {"b", Usage(900)}}, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->utilization, 100);
  EXPECT_EQ(r->replicas, 2);  // ceil(2 x 1 ready pod)
}

TEST(CpuReplicas, AFreshlyReadyPodsSampleWaitsAWindow) {
  // Started 10 s ago (within the initialization period), ready since 5 s: a sample taken 1 s
  // ago over a 15 s window began before it was ready -> unready, counted as 0 on a scale-up.
  const char* start = "2024-12-05T11:59:50Z";
  auto r = CpuReplicas(1, 50, {Pod("a", "100m"), Pod("b", "100m", "Running", "True", start)},
                       {{"a", Usage(100)}, {"b", Usage(500)}}, kNow);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->utilization, 100);  // b left out of the first ratio
  // With b at 0: (100 + 0) / 2 = 50%, exactly the target: no change (its 500% is not trusted).
  EXPECT_EQ(r->replicas, 1);
}

TEST(CpuReplicas, UpstreamErrors) {
  EXPECT_EQ(CpuReplicas(1, 50, {}, {}, kNow).status().message(),
            "no pods returned by selector while calculating replica count");
  EXPECT_EQ(CpuReplicas(1, 50, {Pod("a", "100m", "Pending")}, {{"a", Usage(1)}}, kNow).status().message(),
            "did not receive metrics for targeted pods (pods might be unready)");
  json::object no_request = *Pod("a", "1");
  no_request["spec"].as_object()["containers"].as_array()[0].as_object().erase("resources");
  EXPECT_EQ(CpuReplicas(1, 50, {std::make_shared<const json::object>(no_request)}, {{"a", Usage(1)}}, kNow)
                .status()
                .message(),
            "missing request for cpu in container c of Pod a");
}

TEST(Stabilize, ScaleDownWaitsForTheWindow) {
  std::deque<Recommendation> recent;
  EXPECT_EQ(Stabilize(recent, 5, 0), 5);
  EXPECT_EQ(Stabilize(recent, 2, 60'000), 5);    // a higher recommendation within 5 minutes
  EXPECT_EQ(Stabilize(recent, 2, 300'000), 5);   // still within (0 + 300 s)
  EXPECT_EQ(Stabilize(recent, 2, 300'001), 2);   // the 5 has aged out
  EXPECT_EQ(Stabilize(recent, 8, 300'002), 8);   // scale-up at once
}

TEST(ApplyLimits, MinMaxAndTheScaleUpRate) {
  auto l = ApplyLimits(2, 3, 1, 10);
  EXPECT_EQ(l.replicas, 3);
  EXPECT_FALSE(l.limited);
  EXPECT_EQ(l.reason, "DesiredWithinRange");
  l = ApplyLimits(2, 0, 1, 10);
  EXPECT_EQ(l.replicas, 1);
  EXPECT_EQ(l.reason, "TooFewReplicas");
  l = ApplyLimits(2, 9, 1, 10);  // at most max(2 x 2, 4) = 4 at once
  EXPECT_EQ(l.replicas, 4);
  EXPECT_EQ(l.reason, "ScaleUpLimit");
  l = ApplyLimits(5, 20, 1, 8);
  EXPECT_EQ(l.replicas, 8);
  EXPECT_EQ(l.reason, "TooManyReplicas");
}

}  // namespace
}  // namespace kite::controllers::podautoscaler
