// The disruption controller: PodDisruptionBudget arithmetic, and its Reconcile over the fake API
// and a fake clock: a budget's status from its matching pods (minAvailable, maxUnavailable against the controllers' scale), the
// DisruptionAllowed condition, and disruptedPods entries that time out after two minutes.
#include "server/controllers/disruption/disruption_controller.h"

#include "api/time.h"
#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
namespace json = boost::json;

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

namespace kite::controllers {
namespace {
using namespace testing;
using namespace std::chrono_literals;

const api::ResourceInfo& Budgets() { return R("policy", "v1", "poddisruptionbudgets"); }

json::object Budget(const std::string& rule) {
  json::object b = J(R"({"apiVersion":"policy/v1","kind":"PodDisruptionBudget",
    "metadata":{"name":"web","namespace":"default","generation":3},
    "spec":{"selector":{"matchLabels":{"app":"web"}}}})");
  for (const auto& [k, v] : J(rule)) b["spec"].as_object()[k] = v;
  return b;
}

class DisruptionReconcileTest : public ControllerTest {
 protected:
  void StartController() { Start(NewDisruptionController(client(), &clock_)); }
  json::object StoredStatus() { return Stored(Budgets(), "default", "web").at("status").as_object(); }
  std::string Allowed() {
    const json::object status = StoredStatus();
    for (const auto& c : status.at("conditions").as_array()) {
      if (c.at("type") == "DisruptionAllowed") return std::string(c.at("reason").as_string());
    }
    return "";
  }
};

TEST_F(DisruptionReconcileTest, StatusFromMatchingPods) {
  struct Case {
    const char* name;
    std::string rule;
    int ready, not_ready;
    int64_t want_allowed, want_desired;
    std::string want_reason;
  };
  const std::vector<Case> cases = {
      {"minAvailable 2 of 3 ready", R"({"minAvailable":2})", 3, 0, 1, 2, "SufficientPods"},
      {"minAvailable 2 with one not ready", R"({"minAvailable":2})", 2, 1, 0, 2, "InsufficientPods"},
      {"maxUnavailable 1 of a ReplicaSet of 4", R"({"maxUnavailable":1})", 4, 0, 1, 3, "SufficientPods"},
      {"minAvailable 50% of 4", R"({"minAvailable":"50%"})", 3, 1, 1, 2, "SufficientPods"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    Seed(Budget(c.rule));
    const json::object rs = Seed(J(R"({"apiVersion":"apps/v1","kind":"ReplicaSet",
        "metadata":{"name":"web-1","namespace":"default"},"spec":{"replicas":4}})"));
    int i = 0;
    for (int k = 0; k < c.ready; ++k) Seed(Pod("p" + std::to_string(i++)).Labels(R"({"app":"web"})").Owner(rs).Ready());
    for (int k = 0; k < c.not_ready; ++k) {
      Seed(Pod("p" + std::to_string(i++)).Labels(R"({"app":"web"})").Owner(rs).Ready(false));
    }
    Seed(Pod("other").Labels(R"({"app":"db"})").Ready());
    StartController();
    ASSERT_TRUE(Reconcile("default/web").ok());
    json::object st = StoredStatus();
    EXPECT_EQ(st.at("currentHealthy"), c.ready);
    EXPECT_EQ(st.at("desiredHealthy"), c.want_desired);
    EXPECT_EQ(st.at("disruptionsAllowed"), c.want_allowed);
    EXPECT_EQ(st.at("observedGeneration"), 3);
    EXPECT_EQ(Allowed(), c.want_reason);
  }
}

TEST_F(DisruptionReconcileTest, DisruptedPodsCountAsUnhealthyForTwoMinutes) {
  json::object b = Budget(R"({"minAvailable":1})");
  b["status"] = json::object{{"disruptedPods", json::object{{"p0", api::FormatTime(clock_.Now())}}}};
  Seed(b);
  Seed(Pod("p0").Labels(R"({"app":"web"})").Ready());
  Seed(Pod("p1").Labels(R"({"app":"web"})").Ready());
  StartController();
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_EQ(StoredStatus().at("currentHealthy"), 1);
  EXPECT_EQ(StoredStatus().at("disruptionsAllowed"), 0);
  // Looked at again when the entry times out.
  ASSERT_TRUE(controller().queue().NextDelayed().has_value());
  EXPECT_EQ(*controller().queue().NextDelayed() - clock_.SteadyNow(), 2min + 1s);
  Settle();
  clock_.Advance(2min + 1s);
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_EQ(StoredStatus().at("currentHealthy"), 2);
  EXPECT_EQ(StoredStatus().at("disruptionsAllowed"), 1);
  EXPECT_FALSE(StoredStatus().contains("disruptedPods"));
}

TEST_F(DisruptionReconcileTest, UnknownScaleIsSyncFailed) {
  Seed(Budget(R"({"maxUnavailable":1})"));
  Seed(Pod("bare").Labels(R"({"app":"web"})").Ready());  // no controller: no scale to read
  StartController();
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_EQ(StoredStatus().at("disruptionsAllowed"), 0);
  EXPECT_EQ(Allowed(), "SyncFailed");
}

}  // namespace
}  // namespace kite::controllers
