// The Deployment controller: its pure pieces (the pod-template-hash, maxSurge/maxUnavailable,
// proportional scaling) and its Reconcile over the fake API (the new ReplicaSet, scaling, a
// rolling update within maxSurge/maxUnavailable, status).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "api/conditions.h"
#include "api/object.h"
#include "server/controllers/deployment/deployment_controller.h"
#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
namespace json = boost::json;

json::object Parse(const char* s) { return json::parse(s).as_object(); }

TEST(PodTemplateHash, StableAcrossKeyOrderAndChangesWithContentOrCollisions) {
  auto a = Parse(R"({"metadata":{"labels":{"app":"web","tier":"x"}},"spec":{"containers":[{"name":"c","image":"nginx"}]}})");
  auto b = Parse(R"({"spec":{"containers":[{"image":"nginx","name":"c"}]},"metadata":{"labels":{"tier":"x","app":"web"}}})");
  auto c = Parse(R"({"metadata":{"labels":{"app":"web","tier":"x"}},"spec":{"containers":[{"name":"c","image":"nginx:2"}]}})");
  EXPECT_EQ(PodTemplateHash(a, 0), PodTemplateHash(b, 0));
  EXPECT_NE(PodTemplateHash(a, 0), PodTemplateHash(c, 0));
  EXPECT_NE(PodTemplateHash(a, 0), PodTemplateHash(a, 1));
  // Usable in a DNS label and a label value: only the safe alphabet.
  for (char ch : PodTemplateHash(a, 0)) EXPECT_NE(std::string("bcdfghjklmnpqrstvwxz2456789").find(ch), std::string::npos);
}

TEST(ResolveSurgeUnavailable, PercentagesRoundAsUpstream) {
  auto d = [](int replicas, const char* surge, const char* unavailable) {
    json::object ru;
    ru["maxSurge"] = json::parse(surge);
    ru["maxUnavailable"] = json::parse(unavailable);
    return json::object{{"spec", json::object{{"replicas", replicas},
                                              {"strategy", json::object{{"type", "RollingUpdate"}, {"rollingUpdate", ru}}}}}};
  };
  EXPECT_EQ(ResolveSurgeUnavailable(d(10, R"("25%")", R"("25%")")), std::make_pair(int64_t{3}, int64_t{2}));
  EXPECT_EQ(ResolveSurgeUnavailable(d(3, R"("25%")", R"("25%")")), std::make_pair(int64_t{1}, int64_t{0}));
  EXPECT_EQ(ResolveSurgeUnavailable(d(4, "2", "1")), std::make_pair(int64_t{2}, int64_t{1}));
  // Both zero would never progress: unavailable becomes 1.
  EXPECT_EQ(ResolveSurgeUnavailable(d(4, "0", "0")), std::make_pair(int64_t{0}, int64_t{1}));
  json::object recreate{{"spec", json::object{{"replicas", 3}, {"strategy", json::object{{"type", "Recreate"}}}}}};
  EXPECT_EQ(ResolveSurgeUnavailable(recreate), std::make_pair(int64_t{0}, int64_t{0}));
}

TEST(ProportionalSizes, SpreadsAResizeOverActiveReplicaSets) {
  // 10 replicas mid-rollout (maxSurge 3): old 8 + new 5, both sized for max 13. Resized to 20
  // (maxSurge 5, 25 allowed): each grows by its share of 25/13, the larger first.
  std::vector<ActiveReplicaSet> sets{{8, 13, "2026-01-01T00:00:00Z"}, {5, 13, "2026-01-02T00:00:00Z"}};
  EXPECT_EQ(ProportionalSizes(sets, 20, 25, 13), (std::vector<int64_t>{15, 10}));
  // Back down to 5 (maxSurge 2, 7 allowed) from 15 + 10.
  std::vector<ActiveReplicaSet> big{{15, 25, "2026-01-01T00:00:00Z"}, {10, 25, "2026-01-02T00:00:00Z"}};
  EXPECT_EQ(ProportionalSizes(big, 5, 7, 25), (std::vector<int64_t>{4, 3}));
  // To zero: every set goes.
  EXPECT_EQ(ProportionalSizes(big, 0, 0, 25), (std::vector<int64_t>{0, 0}));
  // Equal sizes: growing favours the newer set, shrinking takes from the older one first.
  std::vector<ActiveReplicaSet> even{{5, 10, "2026-01-01T00:00:00Z"}, {5, 10, "2026-01-02T00:00:00Z"}};
  EXPECT_EQ(ProportionalSizes(even, 10, 11, 10), (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(ProportionalSizes(even, 8, 9, 10), (std::vector<int64_t>{4, 5}));
  // No max-replicas annotation: the Deployment's status.replicas stands in.
  std::vector<ActiveReplicaSet> bare{{6, std::nullopt, "a"}, {4, std::nullopt, "b"}};
  EXPECT_EQ(ProportionalSizes(bare, 20, 20, 10), (std::vector<int64_t>{12, 8}));
  // Nothing to add: sizes stay.
  EXPECT_EQ(ProportionalSizes(sets, 10, 13, 13), (std::vector<int64_t>{8, 5}));
}

// --- Reconcile ---

const api::ResourceInfo& Deployments() { return testing::R("apps", "v1", "deployments"); }
const api::ResourceInfo& ReplicaSets() { return testing::R("apps", "v1", "replicasets"); }

json::object Deployment(int replicas, const std::string& image = "nginx:1") {
  json::object d = Parse(R"({"apiVersion":"apps/v1","kind":"Deployment",
    "metadata":{"name":"web","namespace":"default","uid":"d-uid"},
    "spec":{"selector":{"matchLabels":{"app":"web"}},
            "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1,"maxUnavailable":0}},
            "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"c"}]}}}})");
  d["spec"].as_object()["replicas"] = replicas;
  d["spec"].as_object()["template"].as_object()["spec"].as_object()["containers"].as_array()[0].as_object()["image"] = image;
  return d;
}

class DeploymentReconcileTest : public testing::ControllerTest {
 protected:
  void StartController() { Start(NewDeploymentController(client(), &clock_)); }
  std::vector<json::object> Sets() { return fake().List(ReplicaSets(), "default"); }
  // Marks every pod of the ReplicaSet ready and available, as its controller would report.
  void AllAvailable(json::object rs) {
    const json::value n = rs.at("spec").at("replicas");
    rs["status"] = json::object{{"replicas", n}, {"readyReplicas", n}, {"availableReplicas", n},
                                {"observedGeneration", rs.at("metadata").at("generation")}};
    Seed(rs);
  }
};

TEST_F(DeploymentReconcileTest, ANewDeploymentGetsItsReplicaSet) {
  const json::object d = Seed(Deployment(3));
  StartController();
  ASSERT_TRUE(Reconcile("default/web").ok());
  auto creates = fake().Writes("create", "replicasets");
  ASSERT_EQ(creates.size(), 1u);
  const json::object& rs = creates[0].object;
  const std::string hash = PodTemplateHash(d.at("spec").at("template").as_object(), 0);
  EXPECT_EQ(testing::Name(rs), "web-" + hash);
  EXPECT_EQ(testing::At(rs, "spec.replicas"), 3);
  EXPECT_EQ(rs.at("spec").at("selector").at("matchLabels").at("pod-template-hash"), json::value(hash));
  EXPECT_EQ(rs.at("spec").at("template").at("metadata").at("labels").at("pod-template-hash"), json::value(hash));
  EXPECT_EQ(rs.at("metadata").at("annotations").at("deployment.kubernetes.io/revision"), "1");
  EXPECT_EQ(testing::At(rs, "metadata.ownerReferences"), (json::array{testing::ControllerRef(d)}));
  // The Deployment carries the revision too.
  EXPECT_EQ(fake().Get(Deployments(), "default", "web")->at("metadata").at("annotations").at(
                "deployment.kubernetes.io/revision"),
            "1");
}

TEST_F(DeploymentReconcileTest, AResizeScalesTheReplicaSet) {
  struct Case {
    const char* name;
    int from, to;
  };
  for (const Case& c : std::vector<Case>{{"up", 3, 5}, {"down", 3, 1}, {"to zero", 2, 0}}) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    json::object d = Seed(Deployment(c.from));
    StartController();
    ASSERT_TRUE(Reconcile("default/web").ok());
    Settle();
    d = *fake().Get(Deployments(), "default", "web");
    d["spec"].as_object()["replicas"] = c.to;
    Seed(d);
    Settle();
    fake().ClearActions();
    ASSERT_TRUE(Reconcile("default/web").ok());
    EXPECT_TRUE(fake().Writes("create", "replicasets").empty());
    auto sets = Sets();
    ASSERT_EQ(sets.size(), 1u);
    EXPECT_EQ(testing::At(sets[0], "spec.replicas"), c.to);
    EXPECT_EQ(sets[0].at("metadata").at("annotations").at("deployment.kubernetes.io/desired-replicas"),
              json::value(std::to_string(c.to)));
  }
}

TEST_F(DeploymentReconcileTest, ARollingUpdateSurgesWithinMaxSurgeAndKeepsTheOldUntilAvailable) {
  json::object d = Seed(Deployment(3, "nginx:1"));
  StartController();
  ASSERT_TRUE(Reconcile("default/web").ok());
  Settle();
  ASSERT_EQ(Sets().size(), 1u);
  AllAvailable(Sets()[0]);
  const std::string old_name = testing::Name(Sets()[0]);
  // A new image: a new ReplicaSet of one (maxSurge 1); the old keeps its 3 (maxUnavailable 0).
  d = *fake().Get(Deployments(), "default", "web");
  d["spec"].as_object()["template"].as_object()["spec"].as_object()["containers"].as_array()[0].as_object()["image"] =
      "nginx:2";
  Seed(d);
  Settle();
  fake().ClearActions();
  ASSERT_TRUE(Reconcile("default/web").ok());
  auto creates = fake().Writes("create", "replicasets");
  ASSERT_EQ(creates.size(), 1u);
  EXPECT_EQ(testing::At(creates[0].object, "spec.replicas"), 1);
  EXPECT_EQ(creates[0].object.at("metadata").at("annotations").at("deployment.kubernetes.io/revision"), "2");
  EXPECT_EQ(testing::At(*fake().Get(ReplicaSets(), "default", old_name), "spec.replicas"), 3);
  // Once the new pod is available, one old one may go.
  Settle();
  AllAvailable(*fake().Get(ReplicaSets(), "default", testing::Name(creates[0].object)));
  Settle();
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_EQ(testing::At(*fake().Get(ReplicaSets(), "default", old_name), "spec.replicas"), 2);
}

TEST_F(DeploymentReconcileTest, StatusSumsTheReplicaSets) {
  Seed(Deployment(2));
  StartController();
  ASSERT_TRUE(Reconcile("default/web").ok());
  Settle();
  AllAvailable(Sets()[0]);
  Settle();
  ASSERT_TRUE(testing::ControllerTest::ReconcileUntil("default/web", [&] {
    return testing::At(*fake().Get(Deployments(), "default", "web"), "status.availableReplicas") == 2;
  }));
  json::object st = fake().Get(Deployments(), "default", "web")->at("status").as_object();
  EXPECT_EQ(st.at("replicas"), 2);
  EXPECT_EQ(st.at("updatedReplicas"), 2);
  EXPECT_EQ(st.at("readyReplicas"), 2);
  bool available = false;
  for (const auto& c : st.at("conditions").as_array()) {
    if (c.at("type") == "Available") available = c.at("status") == "True";
  }
  EXPECT_TRUE(available);
}

// The progress deadline runs on the controller's clock: a rollout that makes no progress for
// progressDeadlineSeconds becomes Progressing=False ProgressDeadlineExceeded, not a moment before.
TEST_F(DeploymentReconcileTest, NoProgressForTheDeadlineIsProgressDeadlineExceeded) {
  json::object d = Deployment(1);
  d["spec"].as_object()["progressDeadlineSeconds"] = 60;
  Seed(d);
  StartController();
  auto progressing = [&] {
    Settle();
    const json::object dep = *fake().Get(Deployments(), "default", "web");
    const json::object* c = api::FindCondition(api::GetObject(dep, "status"), "Progressing");
    return c ? api::GetString(*c, "status") + " " + api::GetString(*c, "reason") : std::string("none");
  };
  ASSERT_TRUE(testing::ControllerTest::ReconcileUntil("default/web", [&] { return progressing() != "none"; }));
  EXPECT_EQ(progressing().substr(0, 5), "True ");
  clock_.Advance(std::chrono::seconds(59));
  ASSERT_TRUE(Reconcile("default/web").ok());
  EXPECT_EQ(progressing().substr(0, 5), "True ") << "a second before the deadline";
  clock_.Advance(std::chrono::seconds(2));
  ASSERT_TRUE(testing::ControllerTest::ReconcileUntil(
      "default/web", [&] { return progressing() == "False ProgressDeadlineExceeded"; }));
}

}  // namespace
}  // namespace kite::controllers
