// The namespace controller: its status conditions, worded as upstream's (kubectl describe and
// scripts read them), and its Reconcile over the fake API (content deleted, conditions while
// something remains, the namespace finalized once empty).
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "server/controllers/namespace/namespace_controller.h"
#include "tests/unit/server/controllers/controller_test_util.h"

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

namespace kite::controllers {
namespace {
using namespace testing;
using namespace std::chrono_literals;

const api::ResourceInfo& Namespaces() { return R("", "v1", "namespaces"); }

json::object Namespace(const std::string& name, bool terminating) {
  json::object n = J(R"({"apiVersion":"v1","kind":"Namespace","metadata":{},"spec":{"finalizers":["kubernetes"]},
                         "status":{"phase":"Active"}})");
  n["metadata"].as_object()["name"] = name;
  if (terminating) n["metadata"].as_object()["deletionTimestamp"] = "2025-12-31T23:59:00Z";
  return n;
}

class NamespaceReconcileTest : public ControllerTest {
 protected:
  void StartController() { Start(NewNamespaceController(client(), &clock_)); }
  bool HasCondition(const std::string& type) {
    auto n = fake().Get(Namespaces(), "", "doomed");
    if (!n) return false;
    json::value conds = At(*n, "status.conditions");
    if (!conds.is_array()) return false;
    for (const auto& c : conds.as_array()) {
      if (c.at("type") == json::value(type) && c.at("status") == "True") return true;
    }
    return false;
  }
};

TEST_F(NamespaceReconcileTest, AnActiveNamespaceIsLeftAlone) {
  Seed(Namespace("live", false));
  Seed(Pod("p", "live"));
  StartController();
  ASSERT_TRUE(Reconcile("live").ok());
  EXPECT_TRUE(fake().Writes().empty());
}

TEST_F(NamespaceReconcileTest, DeletesTheContentThenFinalizes) {
  Seed(Namespace("doomed", true));
  const json::object pod = Seed(Pod("p", "doomed"));
  Seed(J(R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm","namespace":"doomed"}})"));
  Seed(Pod("elsewhere", "default"));
  StartController();
  ASSERT_TRUE(Reconcile("doomed").ok());
  auto deleted = Names(fake().Writes("delete", "pods"));
  EXPECT_EQ(deleted, std::vector<std::string>{"p"});
  EXPECT_EQ(Names(fake().Writes("delete", "configmaps")), std::vector<std::string>{"cm"});
  // Background, pinned to the uid listed.
  const json::object opts = fake().Writes("delete", "pods").at(0).body.as_object();
  EXPECT_EQ(opts.at("propagationPolicy"), "Background");
  EXPECT_EQ(opts.at("preconditions").at("uid"), pod.at("metadata").at("uid"));
  // Empty now: finalized, and so gone.
  EXPECT_EQ(fake().Writes("update", "namespaces", "finalize").size(), 1u);
  EXPECT_FALSE(fake().Get(Namespaces(), "", "doomed").has_value());
  EXPECT_TRUE(fake().Get(Pods(), "default", "elsewhere").has_value());
}

// Errors keep the API's reason (the work queue backs off and the caller can branch on it): a
// failed read of the live namespace and a refused finalize are not flattened into Unavailable.
TEST_F(NamespaceReconcileTest, ClientErrorsKeepTheirReason) {
  Seed(Namespace("doomed", true));
  StartController();
  fake().FailWith("get", "namespaces", 429, "TooManyRequests", "slow down");
  Status read = Reconcile("doomed");
  EXPECT_EQ(read.reason(), "TooManyRequests");
  EXPECT_EQ(read.http_code(), 429);
  fake().ClearReactors();
  fake().PrependReactor("update", "namespaces", [](const Action& a) -> std::optional<client::Response> {
    if (a.subresource != "finalize") return std::nullopt;
    return client::testing::FakeTransport::StatusResponse(409, "Conflict", "the object has been modified");
  });
  Status finalize = Reconcile("doomed");
  EXPECT_TRUE(finalize.IsConflict());
  EXPECT_EQ(finalize.reason(), "Conflict");
  EXPECT_NE(finalize.message().find("finalizing namespace doomed"), std::string::npos) << finalize.message();
}

TEST_F(NamespaceReconcileTest, ContentHeldByAFinalizerKeepsTheNamespaceAndSaysWhy) {
  Seed(Namespace("doomed", true));
  Pod held("held", "doomed");
  held.meta()["finalizers"] = json::array{"example.com/hold"};
  Seed(held);
  StartController();
  ASSERT_TRUE(Reconcile("doomed").ok());
  EXPECT_TRUE(fake().Writes("update", "namespaces", "finalize").empty());
  EXPECT_TRUE(fake().Get(Namespaces(), "", "doomed").has_value());
  EXPECT_TRUE(HasCondition("NamespaceContentRemaining"));
  EXPECT_TRUE(HasCondition("NamespaceFinalizersRemaining"));
  // Looked at again in a second.
  ASSERT_TRUE(controller().queue().NextDelayed().has_value());
  EXPECT_EQ(*controller().queue().NextDelayed() - clock_.SteadyNow(), 1s);

  // The finalizer goes: the next pass finalizes.
  json::object pod = *fake().Get(Pods(), "doomed", "held");
  pod["metadata"].as_object().erase("finalizers");
  ASSERT_TRUE(client()->Update(Pods(), "doomed", pod).ok());
  Settle();
  ASSERT_TRUE(Reconcile("doomed").ok());
  EXPECT_FALSE(fake().Get(Namespaces(), "", "doomed").has_value());
}

}  // namespace
}  // namespace kite::controllers
