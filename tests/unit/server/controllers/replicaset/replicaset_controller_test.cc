// The ReplicaSet controller's Reconcile over the fake API: pods created from the template with a
// controller reference, surplus pods deleted least valuable first, orphans adopted, status.
#include "server/controllers/replicaset/replicaset_controller.h"

#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;

const api::ResourceInfo& ReplicaSets() { return R("apps", "v1", "replicasets"); }

json::object ReplicaSet(int replicas, int min_ready = 0) {
  json::object rs = J(R"({"apiVersion":"apps/v1","kind":"ReplicaSet",
    "metadata":{"name":"web","namespace":"default","uid":"rs-uid","generation":2},
    "spec":{"selector":{"matchLabels":{"app":"web"}},
            "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}}}})");
  rs["spec"].as_object()["replicas"] = replicas;
  rs["spec"].as_object()["minReadySeconds"] = min_ready;
  return rs;
}

class ReplicaSetReconcileTest : public ControllerTest {
 protected:
  void StartController() { Start(NewReplicaSetController(client(), false, &clock_)); }
};

struct ScaleCase {
  const char* name;
  int replicas;
  std::vector<json::object> pods;  // owned by the set unless they carry no ownerReferences
  size_t want_creates;
  std::vector<std::string> want_deleted;
};

TEST_F(ReplicaSetReconcileTest, CreatesAndDeletesPodsTowardsReplicas) {
  const json::object rs = ReplicaSet(0);
  json::object stored_rs;
  auto owned = [&](const char* name) { return Pod(name).Labels(R"({"app":"web"})").Owner(rs); };
  const std::vector<ScaleCase> cases = {
      {"creates every missing pod", 3, {}, 3, {}},
      {"creates only the difference", 3, {owned("web-a").Ready().Node("n1")}, 2, {}},
      {"nothing to do at the count", 1, {owned("web-a").Ready().Node("n1")}, 0, {}},
      // Unscheduled before scheduled, then not ready before ready.
      {"deletes the least valuable first", 1,
       {owned("web-a").Ready().Node("n1"), owned("web-b"), owned("web-c").Ready(false).Node("n1")},
       0,
       {"web-b", "web-c"}},
      {"terminated pods do not count", 1, {owned("web-done").Phase("Succeeded")}, 1, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    Seed(ReplicaSet(c.replicas));
    for (const auto& p : c.pods) Seed(p);
    StartController();
    ASSERT_TRUE(Reconcile("default/web").ok());
    auto creates = fake().Writes("create", "pods");
    EXPECT_EQ(creates.size(), c.want_creates);
    for (const auto& a : creates) {
      // From the template, named after the set, controlled by it.
      EXPECT_EQ(At(a.object, "metadata.labels.app"), "web");
      EXPECT_EQ(Name(a.object).rfind("web-", 0), 0u);
      EXPECT_EQ(At(a.object, "metadata.ownerReferences"), (json::array{ControllerRef(Stored(ReplicaSets(), "default", "web"))}));
      EXPECT_EQ(At(a.object, "spec.containers"), (json::array{J(R"({"name":"c","image":"nginx"})")}));
    }
    auto deleted = Names(fake().Writes("delete", "pods"));
    std::sort(deleted.begin(), deleted.end());
    EXPECT_EQ(deleted, c.want_deleted);
    informers_.reset();
    controller_.reset();
  }
}

TEST_F(ReplicaSetReconcileTest, StatusCountsReadyAndAvailableOnTheClock) {
  const json::object rs = Seed(ReplicaSet(2, /*min_ready=*/30));
  // Ready since the fake clock's now: available only once minReadySeconds passed.
  const std::string now = "2026-01-01T00:00:00Z";
  Seed(Pod("web-a").Labels(R"({"app":"web"})").Owner(rs).Node("n1").Ready(true, now));
  Seed(Pod("web-b").Labels(R"({"app":"web"})").Owner(rs).Node("n1").Ready(false, now));
  StartController();
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_TRUE(fake().Writes("create", "pods").empty());
  ASSERT_EQ(StatusWrites("replicasets").size(), 1u);
  json::object st = Stored(ReplicaSets(), "default", "web").at("status").as_object();
  EXPECT_EQ(st.at("replicas"), 2);
  EXPECT_EQ(st.at("fullyLabeledReplicas"), 2);
  EXPECT_EQ(st.at("readyReplicas"), 1);
  EXPECT_EQ(st.at("availableReplicas"), 0);
  EXPECT_EQ(st.at("observedGeneration"), 2);
  // The set is looked at again when the ready pod becomes available.
  ASSERT_TRUE(controller().queue().NextDelayed().has_value());
  EXPECT_EQ(*controller().queue().NextDelayed() - clock_.SteadyNow(), std::chrono::seconds(30));

  Settle();
  fake().ClearActions();
  clock_.Advance(std::chrono::seconds(30));
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_EQ(At(Stored(ReplicaSets(), "default", "web"), "status.availableReplicas"), 1);
  // Nothing changed since: no write at all.
  Settle();
  fake().ClearActions();
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_TRUE(fake().Writes().empty());
}

TEST_F(ReplicaSetReconcileTest, AdoptsMatchingOrphansAndReleasesPodsThatStopMatching) {
  const json::object rs = Seed(ReplicaSet(2));
  Seed(Pod("orphan").Labels(R"({"app":"web"})").Node("n1").Ready());
  Seed(Pod("stray").Labels(R"({"app":"other"})").Owner(rs).Node("n1").Ready());
  Seed(Pod("unrelated").Labels(R"({"app":"other"})").Node("n1").Ready());
  StartController();
  ASSERT_TRUE(Reconcile("default/web").ok());
  auto patches = fake().Writes("patch", "pods");
  ASSERT_EQ(patches.size(), 2u);
  json::object orphan = Stored(Pods(), "default", "orphan");
  EXPECT_EQ(At(orphan, "metadata.ownerReferences"), (json::array{ControllerRef(rs)}));
  json::object stray = Stored(Pods(), "default", "stray");
  EXPECT_TRUE(At(stray, "metadata.ownerReferences").is_null() ||
              At(stray, "metadata.ownerReferences").as_array().empty());
  EXPECT_TRUE(At(Stored(Pods(), "default", "unrelated"), "metadata.ownerReferences").is_null());
  // The adopted pod counts: one more is created for replicas 2.
  EXPECT_EQ(fake().Writes("create", "pods").size(), 1u);
}

TEST_F(ReplicaSetReconcileTest, AFailedCreateIsAnErrorAndAnEvent) {
  Seed(ReplicaSet(3));
  StartController();
  fake().FailWith("create", "pods", 403, "Forbidden", "exceeded quota");
  Status s = Reconcile("default/web");
  EXPECT_FALSE(s.ok());
  // Slow start: the first batch of one failed, so no more were tried.
  EXPECT_EQ(fake().Writes("create", "pods").size(), 1u);
  auto reasons = EventReasons();
  EXPECT_NE(std::find(reasons.begin(), reasons.end(), "FailedCreate"), reasons.end());
}

TEST_F(ReplicaSetReconcileTest, AGoneSetIsNoError) {
  StartController();
  EXPECT_TRUE(Reconcile("default/missing").ok());
  EXPECT_TRUE(fake().Writes().empty());
}

}  // namespace
}  // namespace kite::controllers
