// Pod GC's choice of terminated pods, and PodDisruptionBudget arithmetic.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/controllers/disruption/disruption_controller.h"
#include "server/controllers/podgc/pod_gc_controller.h"

namespace kite::controllers {
namespace {
namespace json = boost::json;

client::ObjectPtr Pod(const std::string& name, const std::string& phase, const std::string& created) {
  return std::make_shared<const json::object>(
      json::parse(R"({"metadata":{"name":")" + name + R"(","namespace":"d","creationTimestamp":")" + created +
                  R"("},"status":{"phase":")" + phase + R"("}})")
          .as_object());
}

TEST(PodGCTest, OldestTerminatedPodsBeyondTheThreshold) {
  std::vector<client::ObjectPtr> pods{Pod("c", "Succeeded", "2026-01-01T00:00:03Z"), Pod("a", "Failed", "2026-01-01T00:00:01Z"),
                                      Pod("r", "Running", "2026-01-01T00:00:00Z"), Pod("b", "Succeeded", "2026-01-01T00:00:02Z")};
  auto out = podgc::TerminatedToDelete(pods, 1);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]->at("metadata").as_object().at("name"), "a");
  EXPECT_EQ(out[1]->at("metadata").as_object().at("name"), "b");
  EXPECT_TRUE(podgc::TerminatedToDelete(pods, 3).empty());
  EXPECT_TRUE(podgc::TerminatedToDelete(pods, 0).empty());  // disabled
}

json::object Pdb(const char* spec) { return json::parse(std::string(R"({"spec":)") + spec + "}").as_object(); }

TEST(DisruptionTest, MinAvailableCountsMatchingPods) {
  auto c = disruption::ComputeCounts(Pdb(R"({"minAvailable":2})"), 3, std::nullopt);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->expected, 3);
  EXPECT_EQ(c->desired_healthy, 2);
}

TEST(DisruptionTest, PercentagesAndMaxUnavailableUseTheControllersScale) {
  auto half = disruption::ComputeCounts(Pdb(R"({"minAvailable":"50%"})"), 2, 5);
  ASSERT_TRUE(half.ok());
  EXPECT_EQ(half->expected, 5);
  EXPECT_EQ(half->desired_healthy, 3);  // rounded up
  auto mu = disruption::ComputeCounts(Pdb(R"({"maxUnavailable":"25%"})"), 4, 4);
  ASSERT_TRUE(mu.ok());
  EXPECT_EQ(mu->desired_healthy, 3);
  auto mu1 = disruption::ComputeCounts(Pdb(R"({"maxUnavailable":1})"), 0, 3);
  ASSERT_TRUE(mu1.ok());
  EXPECT_EQ(mu1->desired_healthy, 2);
  EXPECT_FALSE(disruption::ComputeCounts(Pdb(R"({"maxUnavailable":1})"), 3, std::nullopt).ok());
}

TEST(DisruptionTest, ScaledValues) {
  EXPECT_EQ(disruption::ScaledValue(json::value(3), 10).value(), 3);
  EXPECT_EQ(disruption::ScaledValue(json::value("10%"), 15).value(), 2);
  EXPECT_EQ(disruption::ScaledValue(json::value("7"), 15).value(), 7);
  EXPECT_FALSE(disruption::ScaledValue(json::value("x%"), 15).ok());
}

}  // namespace
}  // namespace kite::controllers
