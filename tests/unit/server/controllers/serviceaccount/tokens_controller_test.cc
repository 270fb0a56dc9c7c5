// The serviceaccount-token controller's Reconcile over the fake API: a hand-made token Secret gets
// a legacy token (verifiable with the key, naming the account, secret and uid), the CA and the
// namespace; one of a missing account is deleted; one already filled is left alone.
#include "server/controllers/serviceaccount/tokens_controller.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "base/encoding.h"
#include "server/serviceaccount/tokens.h"
#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;
namespace sa = serviceaccount;

json::object TokenSecret(const std::string& name, const std::string& account) {
  json::object s = J(R"({"apiVersion":"v1","kind":"Secret","type":"kubernetes.io/service-account-token",
                        "metadata":{"namespace":"team","annotations":{}}})");
  s["metadata"].as_object()["name"] = name;
  s["metadata"].as_object()["annotations"].as_object()["kubernetes.io/service-account.name"] = account;
  return s;
}

class TokensControllerTest : public ControllerTest {
 protected:
  void SetUp() override {
    key_file_ = "/tmp/kite-tokens-controller-test-" + std::to_string(::getpid()) + ".key";
    std::ofstream(key_file_) << key_.PrivatePem();
  }
  void TearDown() override { std::remove(key_file_.c_str()); }
  sa::jwt::Key key_ = *sa::jwt::Key::GenerateEs256();
  std::string key_file_;
};

TEST_F(TokensControllerTest, FillsAHandMadeSecret) {
  Seed(J(R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"ci","namespace":"team","uid":"sa-1"}})"));
  Seed(TokenSecret("ci-token", "ci"));
  Start(NewServiceAccountTokensController(client(), key_file_, "CA PEM"));
  ASSERT_TRUE(Reconcile("team/ci-token").ok());
  auto s = fake().Get(R("", "v1", "secrets"), "team", "ci-token");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(At(*s, "metadata.annotations").as_object().at("kubernetes.io/service-account.uid"), "sa-1");
  EXPECT_EQ(*Base64Decode(std::string(At(*s, "data.namespace").as_string())), "team");
  EXPECT_EQ(*Base64Decode(std::string(At(*s, "data").as_object().at("ca.crt").as_string())), "CA PEM");
  auto token = Base64Decode(std::string(At(*s, "data.token").as_string()));
  ASSERT_TRUE(token.has_value());
  auto claims = sa::Verify(*token, {key_}, 0, sa::ApiAudiences());
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_TRUE(claims->legacy);
  EXPECT_EQ(claims->service_account.uid, "sa-1");
  EXPECT_EQ(claims->secret.name, "ci-token");
  // Filled: the next pass writes nothing.
  Settle();
  const size_t writes = fake().Writes("update", "secrets").size();
  ASSERT_TRUE(Reconcile("team/ci-token").ok());
  EXPECT_EQ(fake().Writes("update", "secrets").size(), writes);
}

TEST_F(TokensControllerTest, ASecretOfAMissingAccountIsDeleted) {
  Seed(TokenSecret("ghost-token", "ghost"));
  Start(NewServiceAccountTokensController(client(), key_file_, ""));
  ASSERT_TRUE(Reconcile("team/ghost-token").ok());
  EXPECT_FALSE(fake().Get(R("", "v1", "secrets"), "team", "ghost-token").has_value());
}

TEST_F(TokensControllerTest, WithoutAKeyNothingHappens) {
  Seed(J(R"({"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"ci","namespace":"team","uid":"sa-1"}})"));
  Seed(TokenSecret("ci-token", "ci"));
  Start(NewServiceAccountTokensController(client(), "", ""));
  EXPECT_FALSE(controller().queue().TryGet().has_value());
}

}  // namespace
}  // namespace kite::controllers
