// The Job controller's Reconcile over the fake API and a fake clock: pods up to parallelism with
// the tracking finalizer, success counted through the finalizer and marked Complete, the backoff
// limit and the active deadline.
#include "server/controllers/job/job_controller.h"

#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;

const api::ResourceInfo& Jobs() { return R("batch", "v1", "jobs"); }
constexpr const char* kTracking = "batch.kubernetes.io/job-tracking";

json::object Job(const std::string& spec_extra = "") {
  return J(R"({"apiVersion":"batch/v1","kind":"Job",
    "metadata":{"name":"pi","namespace":"default","uid":"job-uid"},
    "spec":{)" + spec_extra + R"("selector":{"matchLabels":{"batch.kubernetes.io/controller-uid":"job-uid"}},
            "template":{"metadata":{"labels":{"job-name":"pi"}},
                        "spec":{"restartPolicy":"Never","containers":[{"name":"c","image":"perl"}]}}}})");
}

// A pod of the job, tracked by the finalizer, in `phase`.
json::object JobPod(const json::object& job, const std::string& name, const std::string& phase) {
  Pod p(name);
  p.Labels(R"({"job-name":"pi","batch.kubernetes.io/controller-uid":"job-uid"})").Owner(job).Node("n1").Phase(phase);
  p.meta()["finalizers"] = json::array{kTracking};
  return p;
}

bool HasCondition(const json::object& job, const std::string& type, const std::string& reason = "") {
  json::value conds = At(job, "status.conditions");
  if (!conds.is_array()) return false;
  for (const auto& c : conds.as_array()) {
    const auto& o = c.as_object();
    const bool reason_ok = reason.empty() || o.at("reason") == json::value(reason);
    if (o.at("type") == json::value(type) && o.at("status") == "True" && reason_ok) return true;
  }
  return false;
}

class JobReconcileTest : public ControllerTest {
 protected:
  void StartController() { Start(NewJobController(client(), &clock_)); }
  json::object StoredJob() { return Stored(Jobs(), "default", "pi"); }
};

TEST_F(JobReconcileTest, StartsPodsUpToParallelism) {
  struct Case {
    const char* name;
    std::string spec;
    int running;
    size_t want_creates;
  };
  const std::vector<Case> cases = {
      {"parallelism 2 of 5 completions", R"("parallelism":2,"completions":5,)", 0, 2},
      {"never more than the completions left", R"("parallelism":4,"completions":1,)", 0, 1},
      {"running pods count", R"("parallelism":3,"completions":5,)", 2, 1},
      {"suspended starts nothing", R"("parallelism":3,"completions":5,"suspend":true,)", 0, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    json::object job = Seed(Job(c.spec));
    for (int i = 0; i < c.running; ++i) Seed(JobPod(job, "pi-run" + std::to_string(i), "Running"));
    StartController();
    ASSERT_TRUE(Reconcile("default/pi").ok());
    auto creates = fake().Writes("create", "pods");
    ASSERT_EQ(creates.size(), c.want_creates);
    for (const auto& a : creates) {
      EXPECT_EQ(At(a.object, "metadata.labels.job-name"), "pi");
      EXPECT_EQ(a.object.at("metadata").at("labels").at("batch.kubernetes.io/controller-uid"), "job-uid");
      EXPECT_EQ(a.object.at("metadata").at("finalizers"), (json::array{kTracking}));
      EXPECT_EQ(At(a.object, "metadata.ownerReferences"), (json::array{ControllerRef(job)}));
    }
    json::object stored = StoredJob();
    if (c.spec.find("suspend") == std::string::npos) {
      // startTime is the fake clock's now.
      EXPECT_EQ(At(stored, "status.startTime"), "2026-01-01T00:00:00Z");
    } else {
      EXPECT_TRUE(HasCondition(stored, "Suspended", "JobSuspended"));
    }
  }
}

TEST_F(JobReconcileTest, ASucceededPodIsCountedThroughItsFinalizerAndCompletesTheJob) {
  json::object job = Seed(Job(R"("completions":1,"parallelism":1,)"));
  Seed(JobPod(job, "pi-1", "Succeeded"));
  StartController();
  clock_.Advance(std::chrono::minutes(2));
  ASSERT_TRUE(ReconcileUntil("default/pi", [&] { return HasCondition(StoredJob(), "Complete", "CompletionsReached"); }));
  json::object stored = StoredJob();
  EXPECT_EQ(At(stored, "status.succeeded"), 1);
  EXPECT_EQ(At(stored, "status.completionTime"), "2026-01-01T00:02:00Z");
  EXPECT_TRUE(HasCondition(stored, "SuccessCriteriaMet"));
  // The pod lost the tracking finalizer; no pod was started.
  json::object pod = Stored(Pods(), "default", "pi-1");
  EXPECT_TRUE(At(pod, "metadata.finalizers").is_null() || At(pod, "metadata.finalizers").as_array().empty());
  EXPECT_TRUE(fake().Writes("create", "pods").empty());
}

TEST_F(JobReconcileTest, FailedPodsBeyondTheBackoffLimitFailTheJob) {
  json::object job = Seed(Job(R"("completions":3,"parallelism":2,"backoffLimit":0,)"));
  Seed(JobPod(job, "pi-1", "Failed"));
  Seed(JobPod(job, "pi-2", "Running"));
  StartController();
  ASSERT_TRUE(ReconcileUntil("default/pi", [&] { return HasCondition(StoredJob(), "Failed", "BackoffLimitExceeded"); }));
  // The failed pod, and the running one the controller stopped (counted as failed, as upstream).
  EXPECT_EQ(At(StoredJob(), "status.failed"), 2);
  // The running pod is stopped; nothing new is started.
  EXPECT_EQ(Names(fake().Writes("delete", "pods")), std::vector<std::string>{"pi-2"});
  EXPECT_TRUE(fake().Writes("create", "pods").empty());
}

TEST_F(JobReconcileTest, TheActiveDeadlineIsMeasuredOnTheClock) {
  json::object job = Job(R"("completions":1,"parallelism":1,"activeDeadlineSeconds":60,)");
  job["status"] = J(R"({"startTime":"2026-01-01T00:00:00Z","active":1})");
  job = Seed(job);
  Seed(JobPod(job, "pi-1", "Running"));
  StartController();
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(Reconcile("default/pi").ok());
  EXPECT_FALSE(HasCondition(StoredJob(), "FailureTarget"));
  // Looked at again just after the deadline.
  ASSERT_TRUE(controller().queue().NextDelayed().has_value());
  EXPECT_EQ(*controller().queue().NextDelayed() - clock_.SteadyNow(), std::chrono::seconds(31));

  Settle();
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(ReconcileUntil("default/pi", [&] { return HasCondition(StoredJob(), "Failed", "DeadlineExceeded"); }));
  EXPECT_EQ(Names(fake().Writes("delete", "pods")), std::vector<std::string>{"pi-1"});
}

}  // namespace
}  // namespace kite::controllers
