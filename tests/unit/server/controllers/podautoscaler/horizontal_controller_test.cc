// The HPA controller's Reconcile over the fake API: the scale it sets on the target and the
// status (currentMetrics, conditions) it writes, with usage from a canned metrics source.
#include "server/controllers/podautoscaler/horizontal_controller.h"

#include "api/time.h"
#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
namespace json = boost::json;
using namespace testing;

class HorizontalControllerTest : public ControllerTest {
 protected:
  void SeedWorkload(int replicas) {
    Seed(R"({"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","namespace":"default"},
             "spec":{"replicas":)" + std::to_string(replicas) + R"(,"selector":{"matchLabels":{"app":"web"}},
             "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}})");
    const std::string started = api::FormatTime(clock_.Now() - std::chrono::minutes(10));
    for (int i = 0; i < replicas; ++i) {
      Pod p("web-" + std::to_string(i));
      p.Labels(R"({"app":"web"})");
      p.spec()["containers"].as_array()[0].as_object()["resources"] = J(R"({"requests":{"cpu":"100m"}})");
      p.status()["startTime"] = started;
      p.status()["conditions"] = json::array{json::object{{"type", "Ready"}, {"status", "True"}, {"lastTransitionTime", started}}};
      Seed(std::move(p.o));
    }
    Seed(R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"web","namespace":"default","generation":1},
             "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":1,"maxReplicas":10,
                     "metrics":[{"type":"Resource","resource":{"name":"cpu","target":{"type":"Utilization","averageUtilization":50}}}]}})");
    // The fake serves no scale subresource: answer its patches and remember them.
    fake().PrependReactor("patch", "deployments", [this](const Action& a) -> std::optional<client::Response> {
      if (a.subresource != "scale") return std::nullopt;
      scale_patches_.push_back(json::serialize(a.body));
      return client::Response{200, R"({"kind":"Scale","apiVersion":"autoscaling/v1"})", ""};
    });
  }
  PodCpuMetrics Usage(int64_t milli) {
    return [this, milli](const std::string&, const std::string&) -> std::optional<podautoscaler::PodMetric> {
      const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(clock_.Now().time_since_epoch()).count();
      return podautoscaler::PodMetric{milli, now - 1000, 15'000};
    };
  }
  json::object LastStatus() {
    auto writes = StatusWrites("horizontalpodautoscalers");
    if (writes.empty()) return {};
    return writes.back().body.as_object().at("status").as_object();
  }
  static std::string Reason(const json::object& status, const char* type) {
    for (const auto& c : status.at("conditions").as_array()) {
      if (c.at("type") == type) return std::string(c.at("status").as_string()) + " " + std::string(c.at("reason").as_string());
    }
    return "";
  }
  std::vector<std::string> scale_patches_;
};

TEST_F(HorizontalControllerTest, ScalesUpWithinTheRateLimit) {
  SeedWorkload(2);
  Start(NewHorizontalPodAutoscalerController(client(), Usage(180), &clock_));
  ASSERT_TRUE(Reconcile("default/web").ok());
  ASSERT_EQ(scale_patches_.size(), 1u);
  EXPECT_EQ(scale_patches_[0], R"({"spec":{"replicas":4}})");
  json::object st = LastStatus();
  EXPECT_EQ(st.at("currentReplicas"), 2);
  EXPECT_EQ(st.at("desiredReplicas"), 4);
  EXPECT_TRUE(st.contains("lastScaleTime"));
  EXPECT_EQ(json::serialize(st.at("currentMetrics")),
            R"([{"type":"Resource","resource":{"name":"cpu","current":{"averageValue":"180m","averageUtilization":180}}}])");
  EXPECT_EQ(Reason(st, "AbleToScale"), "True SucceededRescale");
  EXPECT_EQ(Reason(st, "ScalingActive"), "True ValidMetricFound");
  EXPECT_EQ(Reason(st, "ScalingLimited"), "True ScaleUpLimit");
}

TEST_F(HorizontalControllerTest, WithinToleranceNothingMoves) {
  SeedWorkload(2);
  Start(NewHorizontalPodAutoscalerController(client(), Usage(52), &clock_));
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_TRUE(scale_patches_.empty());
  json::object st = LastStatus();
  EXPECT_EQ(st.at("desiredReplicas"), 2);
  EXPECT_EQ(Reason(st, "ScalingLimited"), "False DesiredWithinRange");
  EXPECT_EQ(Reason(st, "AbleToScale"), "True ReadyForNewScale");
}

TEST_F(HorizontalControllerTest, WithoutMetricsScalingIsNotActive) {
  SeedWorkload(2);
  Start(NewHorizontalPodAutoscalerController(client(), nullptr, &clock_));
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_TRUE(scale_patches_.empty());
  json::object st = LastStatus();
  EXPECT_EQ(Reason(st, "ScalingActive"), "False FailedGetResourceMetric");
  EXPECT_EQ(Reason(st, "AbleToScale"), "True SucceededGetScale");
}

TEST_F(HorizontalControllerTest, AMissingTargetCannotScale) {
  Seed(R"({"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","metadata":{"name":"web","namespace":"default"},
           "spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"gone"},"maxReplicas":3}})");
  Start(NewHorizontalPodAutoscalerController(client(), Usage(100), &clock_));
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_EQ(Reason(LastStatus(), "AbleToScale"), "False FailedGetScale");
}

}  // namespace
}  // namespace kite::controllers
