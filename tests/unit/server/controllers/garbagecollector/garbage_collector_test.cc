// The garbage collector: its decisions on JSON objects (what happens to a dependent given the
// state of its owners, upstream's attemptToDeleteItem cases; the pinned patches it writes), and
// its Reconcile over the fake API (dangling owners, orphaning, foreground deletion).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/controllers/garbagecollector/garbage_collector.h"
#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers::gc {
namespace {
namespace json = boost::json;

json::object Item(const std::string& extra_meta = "") {
  return json::parse(R"({"metadata":{"name":"rs","uid":"u-rs","resourceVersion":"7",)" + extra_meta +
                     R"("ownerReferences":[
        {"apiVersion":"apps/v1","kind":"Deployment","name":"a","uid":"u-a","blockOwnerDeletion":true},
        {"apiVersion":"v1","kind":"ConfigMap","name":"b","uid":"u-b"}]}})")
      .as_object();
}

TEST(GarbageCollectorTest, OwnerRefsOfReadsEveryReference) {
  auto refs = OwnerRefsOf(Item());
  ASSERT_EQ(refs.size(), 2u);
  EXPECT_EQ(refs[0].uid, "u-a");
  EXPECT_EQ(refs[0].kind, "Deployment");
  EXPECT_TRUE(refs[0].block);
  EXPECT_FALSE(refs[1].block);
  EXPECT_TRUE(OwnerRefsOf(json::object{}).empty());
}

TEST(GarbageCollectorTest, AllOwnersSolidLeavesTheObject) {
  auto item = Item();
  auto d = Decide(item, OwnerRefsOf(item), {OwnerState::kSolid, OwnerState::kSolid}, false, false);
  EXPECT_EQ(d.action, Decision::Action::kNothing);
}

TEST(GarbageCollectorTest, SolidOwnerLeftRemovesOnlyTheGoneReferences) {
  auto item = Item();
  auto d = Decide(item, OwnerRefsOf(item), {OwnerState::kDangling, OwnerState::kSolid}, true, false);
  EXPECT_EQ(d.action, Decision::Action::kRemoveRefs);
  EXPECT_EQ(d.remove_uids, std::vector<std::string>{"u-a"});
  d = Decide(item, OwnerRefsOf(item), {OwnerState::kWaiting, OwnerState::kSolid}, true, false);
  EXPECT_EQ(d.action, Decision::Action::kRemoveRefs);
  EXPECT_EQ(d.remove_uids, std::vector<std::string>{"u-a"});
}

TEST(GarbageCollectorTest, EveryOwnerGoneDeletesInBackground) {
  auto item = Item();
  auto d = Decide(item, OwnerRefsOf(item), {OwnerState::kDangling, OwnerState::kDangling}, true, false);
  EXPECT_EQ(d.action, Decision::Action::kDelete);
  EXPECT_EQ(d.policy, "Background");
  EXPECT_FALSE(d.unblock);
}

TEST(GarbageCollectorTest, OwnFinalizersChooseThePolicy) {
  auto orphan = Item(R"("finalizers":["orphan"],)");
  EXPECT_EQ(Decide(orphan, OwnerRefsOf(orphan), {OwnerState::kDangling, OwnerState::kDangling}, false, false).policy,
            "Orphan");
  auto fg = Item(R"("finalizers":["foregroundDeletion"],)");
  EXPECT_EQ(Decide(fg, OwnerRefsOf(fg), {OwnerState::kDangling, OwnerState::kDangling}, false, false).policy,
            "Foreground");
}

TEST(GarbageCollectorTest, WaitingOwnerDeletesDependentsWithDependentsInForeground) {
  auto item = Item();
  std::vector<OwnerState> states{OwnerState::kWaiting, OwnerState::kDangling};
  auto d = Decide(item, OwnerRefsOf(item), states, /*has_dependents=*/true, false);
  EXPECT_EQ(d.action, Decision::Action::kDelete);
  EXPECT_EQ(d.policy, "Foreground");
  EXPECT_FALSE(d.unblock);
  // Without dependents of its own, nothing to wait for: background.
  EXPECT_EQ(Decide(item, OwnerRefsOf(item), states, false, false).policy, "Background");
  // A dependent itself deleting its dependents may close a cycle: unblock first.
  EXPECT_TRUE(Decide(item, OwnerRefsOf(item), states, true, true).unblock);
}

TEST(GarbageCollectorTest, NoOwnersNothingToDo) {
  json::object item = json::parse(R"({"metadata":{"name":"x","uid":"u"}})").as_object();
  EXPECT_EQ(Decide(item, {}, {}, false, false).action, Decision::Action::kNothing);
}

TEST(GarbageCollectorTest, PinnedMetaPatchCarriesTheResourceVersion) {
  auto item = Item();
  auto patch = json::parse(PinnedMetaPatch(item, "finalizers", nullptr)).as_object();
  EXPECT_EQ(json::serialize(patch), R"({"metadata":{"finalizers":null,"resourceVersion":"7"}})");
  EXPECT_TRUE(HasFinalizer(Item(R"("finalizers":["a","orphan"],)"), "orphan"));
  EXPECT_FALSE(HasFinalizer(Item(), "orphan"));
}

}  // namespace
}  // namespace kite::controllers::gc

namespace kite::controllers {
namespace {
using namespace testing;

const api::ResourceInfo& ReplicaSets() { return R("apps", "v1", "replicasets"); }

json::object ReplicaSet(const std::string& name, const std::string& uid, const std::string& finalizer = "") {
  json::object rs = J(R"({"apiVersion":"apps/v1","kind":"ReplicaSet","metadata":{"namespace":"default"},
                          "spec":{"replicas":1}})");
  rs["metadata"].as_object()["name"] = name;
  rs["metadata"].as_object()["uid"] = uid;
  if (!finalizer.empty()) {
    rs["metadata"].as_object()["finalizers"] = json::array{json::string(finalizer)};
    rs["metadata"].as_object()["deletionTimestamp"] = "2025-12-31T00:00:00Z";
  }
  return rs;
}

json::object OwnerRefTo(const std::string& name, const std::string& uid, bool block = false) {
  return json::object{{"apiVersion", "apps/v1"}, {"kind", "ReplicaSet"}, {"name", name},
                      {"uid", uid},           {"controller", true},  {"blockOwnerDeletion", block}};
}

json::object Dependent(const std::string& name, json::array owners) {
  Pod p(name);
  p.meta()["ownerReferences"] = std::move(owners);
  return p;
}

class GarbageCollectorReconcileTest : public ControllerTest {
 protected:
  void StartController() { Start(NewGarbageCollector(client(), &clock_)); }
  std::string Uid(const json::object& o) { return std::string(o.at("metadata").at("uid").as_string()); }
  // Runs every queued work item until the queue is empty (the collector's items feed each other).
  void Drain() {
    for (int round = 0; round < 20; ++round) {
      Settle();
      auto k = controller().queue().TryGet();
      if (!k) return;
      Status s = Reconcile(*k);
      controller().queue().Done(*k);
      if (!s.ok()) controller().queue().AddRateLimited(*k);
    }
  }
};

TEST_F(GarbageCollectorReconcileTest, ADependentOfAGoneOwnerIsDeleted) {
  struct Case {
    const char* name;
    json::array owners;
    bool want_deleted;
  };
  const std::vector<Case> cases = {
      {"its only owner is gone", json::array{OwnerRefTo("gone", "uid-gone")}, true},
      {"its owner exists", json::array{OwnerRefTo("alive", "uid-alive")}, false},
      {"another object holds the owner's name", json::array{OwnerRefTo("alive", "uid-old")}, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    Seed(ReplicaSet("alive", "uid-alive"));
    const json::object pod = Seed(Dependent("p", c.owners));
    StartController();
    ASSERT_TRUE(Reconcile("delete:" + Uid(pod)).ok());
    auto deletes = fake().Writes("delete", "pods");
    ASSERT_EQ(deletes.size(), c.want_deleted ? 1u : 0u);
    if (c.want_deleted) {
      EXPECT_EQ(deletes[0].body.at("preconditions").at("uid"), json::value(Uid(pod)));
    }
  }
}

TEST_F(GarbageCollectorReconcileTest, ADanglingReferenceBesideASolidOwnerIsRemoved) {
  Seed(ReplicaSet("alive", "uid-alive"));
  json::object alive_ref = OwnerRefTo("alive", "uid-alive");
  json::object gone_ref = OwnerRefTo("gone", "uid-gone");
  gone_ref["controller"] = false;
  const json::object pod = Seed(Dependent("p", json::array{alive_ref, gone_ref}));
  StartController();
  ASSERT_TRUE(Reconcile("delete:" + Uid(pod)).ok());
  EXPECT_TRUE(fake().Writes("delete", "pods").empty());
  ASSERT_EQ(fake().Writes("patch", "pods").size(), 1u);
  EXPECT_EQ(At(Stored(Pods(), "default", "p"), "metadata.ownerReferences"), (json::array{alive_ref}));
}

TEST_F(GarbageCollectorReconcileTest, OrphanFinalizerReleasesDependentsThenTheOwner) {
  const json::object rs = Seed(ReplicaSet("web", "uid-web", "orphan"));
  Seed(Dependent("p1", json::array{OwnerRefTo("web", "uid-web")}));
  Seed(Dependent("p2", json::array{OwnerRefTo("web", "uid-web")}));
  StartController();
  Drain();
  for (const char* name : {"p1", "p2"}) {
    json::object pod = Stored(Pods(), "default", name);
    json::value refs = At(pod, "metadata.ownerReferences");
    EXPECT_TRUE(refs.is_null() || refs.as_array().empty()) << name;
  }
  // The finalizer went last, and with it the ReplicaSet.
  EXPECT_FALSE(fake().Get(ReplicaSets(), "default", "web").has_value());
  EXPECT_TRUE(fake().Writes("delete", "pods").empty());
}

TEST_F(GarbageCollectorReconcileTest, ForegroundDeletionRemovesBlockingDependentsFirst) {
  Seed(ReplicaSet("web", "uid-web", "foregroundDeletion"));
  Seed(Dependent("p1", json::array{OwnerRefTo("web", "uid-web", /*block=*/true)}));
  StartController();
  Drain();
  EXPECT_EQ(Names(fake().Writes("delete", "pods")), std::vector<std::string>{"p1"});
  EXPECT_FALSE(fake().Get(Pods(), "default", "p1").has_value());
  EXPECT_FALSE(fake().Get(ReplicaSets(), "default", "web").has_value());
}

}  // namespace
}  // namespace kite::controllers
