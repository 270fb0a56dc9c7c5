// The service account controller's Reconcile over the fake API: every active namespace gets its
// "default" ServiceAccount, terminating ones do not, a lagging cache is no error.
#include "server/controllers/serviceaccount/serviceaccounts_controller.h"

#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;

json::object Namespace(const std::string& name, const std::string& phase) {
  json::object n = J(R"({"apiVersion":"v1","kind":"Namespace","metadata":{},"status":{}})");
  n["metadata"].as_object()["name"] = name;
  n["status"].as_object()["phase"] = phase;
  if (phase == "Terminating") n["metadata"].as_object()["deletionTimestamp"] = "2025-12-31T00:00:00Z";
  return n;
}

class ServiceAccountsReconcileTest : public ControllerTest {};

TEST_F(ServiceAccountsReconcileTest, EveryActiveNamespaceHasADefaultAccount) {
  struct Case {
    const char* name;
    json::object ns;
    bool has_account;
    size_t want_creates;
  };
  const std::vector<Case> cases = {
      {"a new namespace gets one", Namespace("team", "Active"), false, 1},
      {"an existing account is kept", Namespace("team", "Active"), true, 0},
      {"a terminating namespace gets none", Namespace("team", "Terminating"), false, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    Seed(c.ns);
    if (c.has_account) Seed(J(R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default","namespace":"team"}})"));
    Start(NewServiceAccountsController(client(), &clock_));
    ASSERT_TRUE(Reconcile("team").ok());
    auto creates = fake().Writes("create", "serviceaccounts");
    ASSERT_EQ(creates.size(), c.want_creates);
    if (!creates.empty()) {
      EXPECT_EQ(creates[0].ns, "team");
      EXPECT_EQ(Name(creates[0].object), "default");
    }
  }
}

TEST_F(ServiceAccountsReconcileTest, ADeletedAccountIsMadeAgain) {
  Seed(Namespace("team", "Active"));
  Seed(J(R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"default","namespace":"team"}})"));
  Start(NewServiceAccountsController(client(), &clock_));
  ASSERT_TRUE(client()->Delete(R("", "v1", "serviceaccounts"), "team", "default").ok());
  Settle();
  // The delete queued the namespace.
  EXPECT_EQ(controller().queue().TryGet(), std::optional<std::string>("team"));
  ASSERT_TRUE(Reconcile("team").ok());
  EXPECT_TRUE(fake().Get(R("", "v1", "serviceaccounts"), "team", "default").has_value());
}

TEST_F(ServiceAccountsReconcileTest, ACreateRacingTheCacheIsNoError) {
  Seed(Namespace("team", "Active"));
  Start(NewServiceAccountsController(client(), &clock_));
  fake().FailWith("create", "serviceaccounts", 409, "AlreadyExists", "serviceaccounts \"default\" already exists");
  EXPECT_TRUE(Reconcile("team").ok());
  fake().ClearReactors();
  fake().FailWith("create", "serviceaccounts", 500, "InternalError", "etcd is down");
  EXPECT_FALSE(Reconcile("team").ok());
}

}  // namespace
}  // namespace kite::controllers
