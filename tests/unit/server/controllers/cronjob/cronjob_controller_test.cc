// The CronJob controller's Reconcile over the fake API and a fake clock: a Job at the scheduled
// time (named after it, owned by the CronJob), the next wake-up, concurrency policies, suspend
// and the history limits.
#include "server/controllers/cronjob/cronjob_controller.h"

#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;
using namespace std::chrono_literals;

const api::ResourceInfo& CronJobs() { return R("batch", "v1", "cronjobs"); }

// Created at the fake clock's start (2026-01-01T00:00:00Z), every five minutes, in UTC.
json::object CronJob(const std::string& spec_extra = "") {
  return J(R"({"apiVersion":"batch/v1","kind":"CronJob",
    "metadata":{"name":"hello","namespace":"default","uid":"cj-uid","creationTimestamp":"2026-01-01T00:00:00Z"},
    "spec":{)" + spec_extra + R"("schedule":"*/5 * * * *","timeZone":"UTC",
      "jobTemplate":{"metadata":{"labels":{"app":"hello"}},
                     "spec":{"template":{"spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"busybox"}]}}}}}})");
}

// A Job of the CronJob, finished with `condition` ("" = still running).
json::object ChildJob(const json::object& cj, const std::string& name, const std::string& condition,
                      const std::string& start = "2026-01-01T00:00:00Z") {
  json::object j = J(R"({"apiVersion":"batch/v1","kind":"Job","metadata":{"namespace":"default"},"spec":{},"status":{}})");
  j["metadata"].as_object()["name"] = name;
  j["metadata"].as_object()["ownerReferences"] = json::array{ControllerRef(cj)};
  j["status"].as_object()["startTime"] = start;
  if (!condition.empty()) {
    j["status"].as_object()["conditions"] = json::array{json::object{{"type", condition}, {"status", "True"}}};
  }
  return j;
}

class CronJobReconcileTest : public ControllerTest {
 protected:
  void StartController() { Start(NewCronJobController(client(), &clock_)); }
  json::object StoredCronJob() { return Stored(CronJobs(), "default", "hello"); }
};

TEST_F(CronJobReconcileTest, CreatesTheJobAtTheScheduledTime) {
  const json::object cj = Seed(CronJob());
  StartController();
  // 00:00 is the creation time itself: nothing to run yet; wake just after 00:05.
  ASSERT_TRUE(Reconcile("default/hello").ok());
  EXPECT_TRUE(fake().Writes("create", "jobs").empty());
  ASSERT_TRUE(controller().queue().NextDelayed().has_value());
  EXPECT_EQ(*controller().queue().NextDelayed() - clock_.SteadyNow(), 5min + 100ms);

  clock_.Advance(5min);
  ASSERT_TRUE(Reconcile("default/hello").ok());
  auto creates = fake().Writes("create", "jobs");
  ASSERT_EQ(creates.size(), 1u);
  const json::object& job = creates[0].object;
  // Named after the scheduled minute since the epoch (1767225900 / 60).
  EXPECT_EQ(Name(job), "hello-29453765");
  EXPECT_EQ(At(job, "metadata.labels.app"), "hello");
  EXPECT_EQ(job.at("metadata").at("annotations").at("batch.kubernetes.io/cronjob-scheduled-timestamp"),
            "2026-01-01T00:05:00Z");
  EXPECT_EQ(At(job, "metadata.ownerReferences"), (json::array{ControllerRef(cj)}));
  EXPECT_EQ(At(job, "spec.template.spec.restartPolicy"), "Never");
  json::object stored = StoredCronJob();
  EXPECT_EQ(At(stored, "status.lastScheduleTime"), "2026-01-01T00:05:00Z");
  ASSERT_TRUE(At(stored, "status.active").is_array());
  EXPECT_EQ(At(stored, "status.active").as_array().at(0).at("name"), "hello-29453765");

  // The same time is never run twice.
  Settle();
  fake().ClearActions();
  clock_.Advance(1min);
  ASSERT_TRUE(Reconcile("default/hello").ok());
  EXPECT_TRUE(fake().Writes("create", "jobs").empty());
}

TEST_F(CronJobReconcileTest, ConcurrencyPolicyAndSuspend) {
  struct Case {
    const char* name;
    std::string spec;
    bool running_job;
    size_t want_creates;
    std::vector<std::string> want_deleted;
  };
  const std::vector<Case> cases = {
      {"Allow runs beside a running job", R"("concurrencyPolicy":"Allow",)", true, 1, {}},
      {"Forbid waits for the running job", R"("concurrencyPolicy":"Forbid",)", true, 0, {}},
      {"Replace deletes the running job first", R"("concurrencyPolicy":"Replace",)", true, 1, {"hello-old"}},
      {"suspend runs nothing", R"("suspend":true,)", false, 0, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    json::object cj = CronJob(c.spec);
    json::object seeded = Seed(cj);
    if (c.running_job) {
      json::object running = Seed(ChildJob(seeded, "hello-old", ""));
      json::object ref{{"kind", "Job"}, {"namespace", "default"}, {"name", "hello-old"},
                       {"uid", running.at("metadata").at("uid")}, {"apiVersion", "batch/v1"}};
      seeded["status"] = json::object{{"active", json::array{ref}}};
      seeded = Seed(seeded);
    }
    StartController();
    clock_.Advance(5min);
    ASSERT_TRUE(Reconcile("default/hello").ok());
    EXPECT_EQ(fake().Writes("create", "jobs").size(), c.want_creates);
    EXPECT_EQ(Names(fake().Writes("delete", "jobs")), c.want_deleted);
    if (std::string(c.name).rfind("Forbid", 0) == 0) {
      auto reasons = EventReasons();
      EXPECT_NE(std::find(reasons.begin(), reasons.end(), "JobAlreadyActive"), reasons.end());
    }
    // Rewind for the next case: every case starts at 00:00.
    informers_.reset();
    controller_.reset();
    clock_.SetWall(clock_.Now() - 5min);
  }
}

TEST_F(CronJobReconcileTest, FinishedJobsBeyondTheHistoryLimitsGoOldestFirst) {
  const json::object cj = Seed(CronJob(R"("successfulJobsHistoryLimit":1,"failedJobsHistoryLimit":0,)"));
  Seed(ChildJob(cj, "hello-1", "Complete", "2025-12-31T10:00:00Z"));
  Seed(ChildJob(cj, "hello-2", "Complete", "2025-12-31T11:00:00Z"));
  Seed(ChildJob(cj, "hello-3", "Complete", "2025-12-31T12:00:00Z"));
  Seed(ChildJob(cj, "hello-f", "Failed", "2025-12-31T09:00:00Z"));
  StartController();
  ASSERT_TRUE(Reconcile("default/hello").ok());
  auto deleted = Names(fake().Writes("delete", "jobs"));
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<std::string>{"hello-1", "hello-2", "hello-f"}));
}

TEST_F(CronJobReconcileTest, AnUnknownTimeZoneRunsNothing) {
  json::object cj = CronJob();
  cj["spec"].as_object()["timeZone"] = "Mars/Olympus";
  Seed(cj);
  StartController();
  clock_.Advance(10min);
  ASSERT_TRUE(Reconcile("default/hello").ok());
  EXPECT_TRUE(fake().Writes("create", "jobs").empty());
  auto reasons = EventReasons();
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "UnknownTimeZone"), reasons.end());
}

}  // namespace
}  // namespace kite::controllers
