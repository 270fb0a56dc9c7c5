// The resource quota controller: usage of pods (requests and limits as upstream sums them,
// scopes, finished pods), and its Reconcile over the fake API (status.hard and status.used
// written when they change, object counts).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/controllers/resourcequota/resource_quota_controller.h"
#include "tests/unit/server/controllers/controller_test_util.h"

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

namespace kite::controllers {
namespace {
using namespace testing;

const api::ResourceInfo& Quotas() { return R("", "v1", "resourcequotas"); }

json::object Quota(const std::string& hard) {
  json::object q = J(R"({"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"q","namespace":"team"},"spec":{}})");
  q["spec"].as_object()["hard"] = J(hard);
  return q;
}

json::object RequestingPod(const std::string& name, const std::string& cpu, const std::string& phase = "Running") {
  Pod p(name, "team");
  p.spec()["containers"] = json::array{json::object{
      {"name", "c"}, {"image", "x"}, {"resources", json::object{{"requests", json::object{{"cpu", cpu}}}}}}};
  p.Phase(phase);
  return p;
}

class ResourceQuotaReconcileTest : public ControllerTest {
 protected:
  json::object Used() { return Stored(Quotas(), "team", "q").at("status").at("used").as_object(); }
};

TEST_F(ResourceQuotaReconcileTest, StatusUsedCountsWhatTheQuotaNames) {
  struct Case {
    const char* name;
    std::string hard;
    std::string want_used;
  };
  const std::vector<Case> cases = {
      {"pods and cpu of running pods", R"({"pods":"10","requests.cpu":"2"})", R"({"pods":"2","requests.cpu":"750m"})"},
      {"object counts", R"({"configmaps":"5","count/secrets":"5","resourcequotas":"1"})",
       R"({"configmaps":"1","count/secrets":"0","resourcequotas":"1"})"},
      {"names without an evaluator are left out", R"({"example.com/widgets":"3"})", "{}"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    Seed(Quota(c.hard));
    Seed(RequestingPod("a", "500m"));
    Seed(RequestingPod("b", "250m"));
    Seed(RequestingPod("done", "4", "Succeeded"));
    Seed(J(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"team"}})"));
    Seed(J(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"elsewhere","namespace":"default"}})"));
    Start(NewResourceQuotaController(client(), &clock_));
    ASSERT_TRUE(Reconcile("team/q").ok());
    ASSERT_EQ(StatusWrites("resourcequotas").size(), 1u);
    EXPECT_EQ(Used(), J(c.want_used));
    EXPECT_EQ(At(Stored(Quotas(), "team", "q"), "status.hard"), J(c.hard));
  }
}

TEST_F(ResourceQuotaReconcileTest, UnchangedUsageIsNotWrittenAgainAndNewPodsAreCounted) {
  Seed(Quota(R"({"pods":"10"})"));
  Seed(RequestingPod("a", "1"));
  Start(NewResourceQuotaController(client(), &clock_));
  ASSERT_TRUE(Reconcile("team/q").ok());
  Settle();
  fake().ClearActions();
  ASSERT_TRUE(Reconcile("team/q").ok());
  EXPECT_TRUE(fake().Writes().empty());
  Seed(RequestingPod("b", "1"));
  Settle();
  ASSERT_TRUE(Reconcile("team/q").ok());
  EXPECT_EQ(Used().at("pods"), "2");
}

TEST_F(ResourceQuotaReconcileTest, AFailedStatusWriteIsRetried) {
  Seed(Quota(R"({"pods":"10"})"));
  Start(NewResourceQuotaController(client(), &clock_));
  fake().FailWith("update", "resourcequotas", 500, "InternalError", "try later");
  EXPECT_FALSE(Reconcile("team/q").ok());
}

}  // namespace
}  // namespace kite::controllers
