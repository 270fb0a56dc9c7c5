// The namespace controller's status conditions, worded as upstream's (kubectl describe and
// scripts read them).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/controllers/namespace/namespace_controller.h"

namespace kite::controllers::ns {
namespace {
namespace json = boost::json;

const json::object& Find(const json::array& conds, const std::string& type) {
  for (const auto& c : conds) {
    if (c.as_object().at("type").as_string() == type) return c.as_object();
  }
  static const json::object kNone;
  ADD_FAILURE() << "no condition " << type;
  return kNone;
}

std::string S(const json::object& c, const char* k) { return std::string(c.at(k).as_string()); }

TEST(NamespaceConditionsTest, EmptyNamespaceReportsEverythingDone) {
  auto conds = DeletionConditions(Remaining{}, {}, "2026-01-01T00:00:00Z");
  ASSERT_EQ(conds.size(), 5u);
  const auto& content = Find(conds, "NamespaceContentRemaining");
  EXPECT_EQ(S(content, "status"), "False");
  EXPECT_EQ(S(content, "reason"), "ContentRemoved");
  EXPECT_EQ(S(content, "message"), "All content successfully removed");
  const auto& fin = Find(conds, "NamespaceFinalizersRemaining");
  EXPECT_EQ(S(fin, "reason"), "ContentHasNoFinalizers");
  EXPECT_EQ(S(fin, "message"), "All content-preserving finalizers finished");
  EXPECT_EQ(S(Find(conds, "NamespaceDeletionContentFailure"), "reason"), "ContentDeleted");
  EXPECT_EQ(S(Find(conds, "NamespaceDeletionDiscoveryFailure"), "reason"), "ResourcesDiscovered");
  EXPECT_EQ(S(Find(conds, "NamespaceDeletionGroupVersionParsingFailure"), "reason"), "ParsedGroupVersions");
}

TEST(NamespaceConditionsTest, RemainingContentAndFinalizersAreNamed) {
  Remaining r;
  r.resources["pods."] = 2;
  r.resources["widgets.example.com"] = 1;
  r.finalizers["example.com/keep"] = 3;
  auto conds = DeletionConditions(r, {}, "2026-01-01T00:00:00Z");
  const auto& content = Find(conds, "NamespaceContentRemaining");
  EXPECT_EQ(S(content, "status"), "True");
  EXPECT_EQ(S(content, "reason"), "SomeResourcesRemain");
  EXPECT_EQ(S(content, "message"),
            "Some resources are remaining: pods. has 2 resource instances, widgets.example.com has 1 resource instances");
  const auto& fin = Find(conds, "NamespaceFinalizersRemaining");
  EXPECT_EQ(S(fin, "reason"), "SomeFinalizersRemain");
  EXPECT_EQ(S(fin, "message"), "Some content in the namespace has finalizers remaining: example.com/keep in 3 resource instances");
}

TEST(NamespaceConditionsTest, FailuresAreReported) {
  Remaining r;
  r.failures["secrets."] = "boom";
  auto conds = DeletionConditions(r, {}, "t");
  const auto& c = Find(conds, "NamespaceDeletionContentFailure");
  EXPECT_EQ(S(c, "status"), "True");
  EXPECT_EQ(S(c, "reason"), "ContentDeletionFailed");
  EXPECT_EQ(S(c, "message"), "Failed to delete all resource types, 1 remaining: secrets.: boom");
}

TEST(NamespaceConditionsTest, TransitionTimeMovesOnlyWithTheStatus) {
  Remaining r;
  r.resources["pods."] = 1;
  auto first = DeletionConditions(r, {}, "2026-01-01T00:00:00Z");
  // Same status later: the time stays; a changed status gets the new time.
  auto again = DeletionConditions(r, first, "2026-01-01T00:05:00Z");
  EXPECT_EQ(S(Find(again, "NamespaceContentRemaining"), "lastTransitionTime"), "2026-01-01T00:00:00Z");
  auto done = DeletionConditions(Remaining{}, first, "2026-01-01T00:09:00Z");
  EXPECT_EQ(S(Find(done, "NamespaceContentRemaining"), "lastTransitionTime"), "2026-01-01T00:09:00Z");
  EXPECT_EQ(S(Find(done, "NamespaceFinalizersRemaining"), "lastTransitionTime"), "2026-01-01T00:00:00Z");
}

}  // namespace
}  // namespace kite::controllers::ns
