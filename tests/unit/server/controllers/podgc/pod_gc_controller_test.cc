// The pod garbage collector: its choice of terminated pods, and its Reconcile over the fake API
// and a fake clock (terminated pods beyond the threshold, pods on nodes gone for the quarantine,
// marked Failed first, terminating pods no kubelet will finish).
#include "server/controllers/podgc/pod_gc_controller.h"

#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
namespace json = boost::json;

client::ObjectPtr TerminatedPod(const std::string& name, const std::string& phase, const std::string& created) {
  return std::make_shared<const json::object>(
      json::parse(R"({"metadata":{"name":")" + name + R"(","namespace":"d","creationTimestamp":")" + created +
                  R"("},"status":{"phase":")" + phase + R"("}})")
          .as_object());
}

TEST(PodGCTest, OldestTerminatedPodsBeyondTheThreshold) {
  std::vector<client::ObjectPtr> pods{TerminatedPod("c", "Succeeded", "2026-01-01T00:00:03Z"), TerminatedPod("a", "Failed", "2026-01-01T00:00:01Z"),
                                      TerminatedPod("r", "Running", "2026-01-01T00:00:00Z"), TerminatedPod("b", "Succeeded", "2026-01-01T00:00:02Z")};
  auto out = podgc::TerminatedToDelete(pods, 1);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0]->at("metadata").as_object().at("name"), "a");
  EXPECT_EQ(out[1]->at("metadata").as_object().at("name"), "b");
  EXPECT_TRUE(podgc::TerminatedToDelete(pods, 3).empty());
  EXPECT_TRUE(podgc::TerminatedToDelete(pods, 0).empty());  // disabled
}

}  // namespace
}  // namespace kite::controllers

namespace kite::controllers {
namespace {
using namespace testing;
using namespace std::chrono_literals;

json::object NodeObj(const std::string& name, bool ready = true, const std::string& taints = "[]") {
  json::object n = J(R"({"apiVersion":"v1","kind":"Node","metadata":{},"spec":{},"status":{}})");
  n["metadata"].as_object()["name"] = name;
  n["spec"].as_object()["taints"] = json::parse(taints);
  n["status"].as_object()["conditions"] = json::array{json::object{{"type", "Ready"}, {"status", ready ? "True" : "False"}}};
  return n;
}

json::object Terminating(Pod p) {
  p.meta()["deletionTimestamp"] = "2025-12-31T00:00:00Z";
  p.meta()["finalizers"] = json::array{"example.com/keep"};  // so the fake keeps it terminating
  return p;
}

class PodGCReconcileTest : public ControllerTest {
 protected:
  // The key the controller queues for its pass (any key does the same).
  std::string Key() {
    auto k = controller().queue().TryGet();
    if (!k) return "podgc";
    controller().queue().Done(*k);
    return *k;
  }
  std::vector<std::string> Deleted() {
    auto names = Names(fake().Writes("delete", "pods"));
    std::sort(names.begin(), names.end());
    return names;
  }
};

TEST_F(PodGCReconcileTest, TerminatedPodsBeyondTheThresholdOldestFirst) {
  struct Case {
    const char* name;
    int64_t threshold;
    std::vector<std::string> want;
  };
  for (const Case& c : std::vector<Case>{{"threshold 1", 1, {"done-1", "done-2"}},
                                          {"threshold 3 keeps all", 3, {}},
                                          {"0 disables", 0, {}}}) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    Seed(NodeObj("n1"));
    Seed(Pod("done-1").Node("n1").Phase("Succeeded").Created("2025-12-01T00:00:00Z"));
    Seed(Pod("done-2").Node("n1").Phase("Failed").Created("2025-12-02T00:00:00Z"));
    Seed(Pod("done-3").Node("n1").Phase("Succeeded").Created("2025-12-03T00:00:00Z"));
    Seed(Pod("running").Node("n1").Phase("Running").Created("2025-11-01T00:00:00Z"));
    Start(NewPodGCController(client(), c.threshold, 40s, &clock_));
    ASSERT_TRUE(Reconcile(Key()).ok());
    EXPECT_EQ(Deleted(), c.want);
    for (const auto& a : fake().Writes("delete", "pods")) {
      EXPECT_EQ(a.body.at("gracePeriodSeconds"), 0);  // force
    }
  }
}

TEST_F(PodGCReconcileTest, PodsOfANodeGoneForTheQuarantineAreFailedAndDeleted) {
  Seed(NodeObj("n1"));
  Seed(Pod("orphaned").Node("gone").Ready());
  Seed(Pod("fine").Node("n1").Ready());
  Start(NewPodGCController(client(), 0, 40s, &clock_));
  const std::string key = Key();
  // First seen missing: quarantined for 40 s (by the controller's clock).
  ASSERT_TRUE(Reconcile(key).ok());
  EXPECT_TRUE(Deleted().empty());
  clock_.Advance(39s);
  ASSERT_TRUE(Reconcile(key).ok());
  EXPECT_TRUE(Deleted().empty());
  clock_.Advance(2s);
  ASSERT_TRUE(Reconcile(key).ok());
  EXPECT_EQ(Deleted(), std::vector<std::string>{"orphaned"});
  // Marked Failed with DisruptionTarget before it went.
  auto marks = StatusWrites("pods");
  ASSERT_EQ(marks.size(), 1u);
  EXPECT_EQ(At(marks[0].body.as_object(), "status.phase"), "Failed");
  EXPECT_EQ(marks[0].body.at("status").at("conditions").as_array().back().at("reason"), "DeletionByPodGC");
}

TEST_F(PodGCReconcileTest, TerminatingPodsNoKubeletWillFinish) {
  Seed(NodeObj("up"));
  Seed(NodeObj("down", false, R"([{"key":"node.kubernetes.io/out-of-service","effect":"NoExecute"}])"));
  Seed(Terminating(Pod("never-scheduled")));
  Seed(Terminating(Pod("on-out-of-service").Node("down")));
  Seed(Terminating(Pod("on-healthy-node").Node("up")));
  Start(NewPodGCController(client(), 0, 40s, &clock_));
  ASSERT_TRUE(Reconcile(Key()).ok());
  EXPECT_EQ(Deleted(), (std::vector<std::string>{"never-scheduled", "on-out-of-service"}));
}

}  // namespace
}  // namespace kite::controllers
