// Taints and tolerations as the node lifecycle and taint eviction controllers apply them.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/defaults.h"
#include "server/controllers/nodelifecycle/taints.h"

namespace kite::controllers::nodelifecycle {
namespace {
namespace json = boost::json;
using std::chrono::seconds;

json::object O(const char* text) { return json::parse(text).as_object(); }

TEST(TolerationTest, MatchingRules) {
  auto taint = O(R"({"key":"k","value":"v","effect":"NoExecute"})");
  EXPECT_TRUE(Tolerates(O(R"({"key":"k","operator":"Exists"})"), taint));
  EXPECT_TRUE(Tolerates(O(R"({"key":"k","value":"v"})"), taint));  // Equal by default
  EXPECT_FALSE(Tolerates(O(R"({"key":"k","value":"w"})"), taint));
  EXPECT_FALSE(Tolerates(O(R"({"key":"k","operator":"Exists","effect":"NoSchedule"})"), taint));
  EXPECT_TRUE(Tolerates(O(R"({"operator":"Exists"})"), taint));
  EXPECT_FALSE(Tolerates(O(R"({"key":"other","operator":"Exists"})"), taint));
}

TEST(TolerationTest, WindowIsTheSmallestTolerationSecondsUsed) {
  json::array taints = json::parse(R"([{"key":"node.kubernetes.io/unreachable","effect":"NoExecute"},
                                      {"key":"node.kubernetes.io/unreachable","effect":"NoSchedule"}])").as_array();
  auto pod = O(R"({"spec":{"tolerations":[
      {"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":30},
      {"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":5}]}})");
  EXPECT_EQ(TolerationWindow(pod, taints), seconds(30));
  EXPECT_EQ(TolerationWindow(O(R"({"spec":{}})"), taints), seconds(0));  // not tolerated: at once
  EXPECT_FALSE(TolerationWindow(O(R"({"spec":{"tolerations":[{"operator":"Exists"}]}})"), taints));  // for ever
  EXPECT_FALSE(TolerationWindow(O(R"({"spec":{}})"), json::array{}));  // no NoExecute taint
}

TEST(TaintsTest, ConditionsDriveTheOwnedTaints) {
  auto node = O(R"({"spec":{"taints":[{"key":"user","effect":"NoSchedule"}]},
                    "status":{"conditions":[{"type":"Ready","status":"Unknown"}]}})");
  auto t = DesiredTaints(node, "2026-01-01T00:00:00Z");
  EXPECT_EQ(json::serialize(t),
            R"([{"key":"user","effect":"NoSchedule"},{"key":"node.kubernetes.io/unreachable","effect":"NoSchedule"},)"
            R"({"key":"node.kubernetes.io/unreachable","effect":"NoExecute","timeAdded":"2026-01-01T00:00:00Z"}])");
  // Unreachable → not-ready swaps the taints; existing ones keep their timeAdded.
  node["spec"].as_object()["taints"] = t;
  EXPECT_EQ(json::serialize(DesiredTaints(node, "later")), json::serialize(t));
  node["status"].as_object()["conditions"].as_array()[0].as_object()["status"] = "False";
  auto nr = DesiredTaints(node, "later");
  EXPECT_EQ(json::serialize(nr),
            R"([{"key":"user","effect":"NoSchedule"},{"key":"node.kubernetes.io/not-ready","effect":"NoSchedule"},)"
            R"({"key":"node.kubernetes.io/not-ready","effect":"NoExecute","timeAdded":"later"}])");
  node["status"].as_object()["conditions"].as_array()[0].as_object()["status"] = "True";
  node["spec"].as_object()["unschedulable"] = true;
  EXPECT_EQ(json::serialize(DesiredTaints(node, "x")),
            R"([{"key":"user","effect":"NoSchedule"},{"key":"node.kubernetes.io/unschedulable","effect":"NoSchedule"}])");
}

TEST(TaintsTest, SilentNodeConditionsBecomeUnknown) {
  auto conds = json::parse(R"([{"type":"Ready","status":"True","reason":"KubeletReady",
      "lastHeartbeatTime":"2026-01-01T00:00:00Z","lastTransitionTime":"2026-01-01T00:00:00Z"}])").as_array();
  auto out = UnknownConditions(conds, "2026-01-01T00:01:00Z");
  ASSERT_EQ(out.size(), 4u);
  const auto& ready = out[0].as_object();
  EXPECT_EQ(ready.at("status"), "Unknown");
  EXPECT_EQ(ready.at("reason"), "NodeStatusUnknown");
  EXPECT_EQ(ready.at("message"), "Kubelet stopped posting node status.");
  EXPECT_EQ(ready.at("lastHeartbeatTime"), "2026-01-01T00:00:00Z");
  EXPECT_EQ(ready.at("lastTransitionTime"), "2026-01-01T00:01:00Z");
  EXPECT_EQ(out[1].as_object().at("reason"), "NodeStatusNeverUpdated");
  EXPECT_EQ(out[1].as_object().at("message"), "Kubelet never posted node status.");
}

TEST(DefaultTolerationSecondsTest, AddedUnlessAlreadyTolerated) {
  auto spec = O(R"({"tolerations":[{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":3}]})");
  api::AddDefaultTolerationSeconds(spec);
  EXPECT_EQ(json::serialize(spec.at("tolerations")),
            R"([{"key":"node.kubernetes.io/unreachable","operator":"Exists","effect":"NoExecute","tolerationSeconds":3},)"
            R"({"key":"node.kubernetes.io/not-ready","operator":"Exists","effect":"NoExecute","tolerationSeconds":300}])");
  auto all = O(R"({"tolerations":[{"operator":"Exists"}]})");
  api::AddDefaultTolerationSeconds(all);
  EXPECT_EQ(all.at("tolerations").as_array().size(), 1u);
}

}  // namespace
}  // namespace kite::controllers::nodelifecycle
