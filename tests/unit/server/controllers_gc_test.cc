// The garbage collector's decisions on JSON objects: what happens to a dependent given the state
// of its owners (upstream's attemptToDeleteItem cases), and the pinned patches it writes.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/controllers/garbagecollector/garbage_collector.h"

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
