// The TTL-after-finished controller's Reconcile over the fake API and a fake clock: a finished
// Job is deleted (Foreground, pinned to its uid) once its TTL passed, and looked at again when it
// will have.
#include "server/controllers/job/ttl_after_finished_controller.h"

#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;
using namespace std::chrono_literals;

// A Job finished at `finished` (completionTime, or the Failed condition's time) with `ttl`.
json::object FinishedJob(const std::string& name, const std::string& how, const std::string& finished, int ttl) {
  json::object j = J(R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"namespace":"default"},"spec":{},"status":{}})");
  j["metadata"].as_object()["name"] = name;
  j["spec"].as_object()["ttlSecondsAfterFinished"] = ttl;
  auto& st = j["status"].as_object();
  if (how == "Complete") {
    st["completionTime"] = finished;
    st["conditions"] = json::array{json::object{{"type", "Complete"}, {"status", "True"}}};
  } else if (how == "Failed") {
    st["conditions"] = json::array{json::object{{"type", "Failed"}, {"status", "True"}, {"lastTransitionTime", finished}}};
  }
  return j;
}

class TtlAfterFinishedReconcileTest : public ControllerTest {};

TEST_F(TtlAfterFinishedReconcileTest, DeletesFinishedJobsOnceTheirTtlPassed) {
  struct Case {
    const char* name;
    json::object job;
    bool want_delete;
    std::optional<std::chrono::milliseconds> want_requeue;
  };
  // The fake clock reads 2026-01-01T00:00:00Z.
  const std::vector<Case> cases = {
      {"completed long ago", FinishedJob("done", "Complete", "2025-12-31T23:00:00Z", 60), true, std::nullopt},
      {"failed long ago", FinishedJob("failed", "Failed", "2025-12-31T23:00:00Z", 60), true, std::nullopt},
      {"ttl not yet over", FinishedJob("fresh", "Complete", "2025-12-31T23:59:30Z", 60), false, 30s + 100ms},
      {"still running", FinishedJob("running", "", "", 0), false, std::nullopt},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    json::object job = Seed(c.job);
    Start(NewTtlAfterFinishedController(client(), &clock_));
    const std::string key = "default/" + Name(job);
    ASSERT_TRUE(Reconcile(key).ok());
    auto deletes = fake().Writes("delete", "jobs");
    ASSERT_EQ(deletes.size(), c.want_delete ? 1u : 0u);
    if (c.want_delete) {
      const auto& opts = deletes[0].body.as_object();
      EXPECT_EQ(opts.at("propagationPolicy"), "Foreground");
      EXPECT_EQ(opts.at("preconditions").at("uid"), job.at("metadata").at("uid"));
    }
    auto next = controller().queue().NextDelayed();
    ASSERT_EQ(next.has_value(), c.want_requeue.has_value());
    if (next) {
      EXPECT_EQ(*next - clock_.SteadyNow(), *c.want_requeue);
    }
  }
}

TEST_F(TtlAfterFinishedReconcileTest, TheJobGoesWhenTheClockReachesItsTtl) {
  Seed(FinishedJob("fresh", "Complete", "2026-01-01T00:00:00Z", 100));
  Start(NewTtlAfterFinishedController(client(), &clock_));
  clock_.Advance(99s);
  ASSERT_TRUE(Reconcile("default/fresh").ok());
  EXPECT_TRUE(fake().Writes("delete", "jobs").empty());
  clock_.Advance(1s);
  ASSERT_TRUE(Reconcile("default/fresh").ok());
  EXPECT_EQ(fake().Writes("delete", "jobs").size(), 1u);
}

TEST_F(TtlAfterFinishedReconcileTest, AJobReplacedUnderTheSameNameIsNotDeleted) {
  json::object job = Seed(FinishedJob("done", "Complete", "2025-12-31T23:00:00Z", 60));
  Start(NewTtlAfterFinishedController(client(), &clock_));
  // The server answers the uid precondition with 409: no error, nothing retried.
  fake().FailWith("delete", "jobs", 409, "Conflict", "Precondition failed: UID in precondition");
  EXPECT_TRUE(Reconcile("default/done").ok());
  EXPECT_EQ(fake().Writes("delete", "jobs").size(), 1u);
  EXPECT_TRUE(fake().Get(R("batch", "v1", "jobs"), "default", "done").has_value());
}

}  // namespace
}  // namespace kite::controllers
