// The service-account token authenticator against objects in a map: the account and the bound
// pod/secret must still exist with the token's uids; legacy tokens must match their secret.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <map>

#include "base/encoding.h"
#include "server/apiserver/filters/serviceaccount_authn.h"
#include "server/serviceaccount/tokens.h"

namespace kite::apiserver {
namespace {
namespace json = boost::json;
namespace sa = serviceaccount;

constexpr int64_t kNow = 1700000000;

class ServiceAccountAuthnTest : public ::testing::Test {
 protected:
  ServiceAccountAuthnTest()
      : key_(*sa::jwt::Key::GenerateEs256()),
        authn_(sa::SigningKeys{key_, {key_}},
               [this](const std::string& r, const std::string& ns, const std::string& name) -> Result<json::object> {
                 auto it = objects_.find(r + "/" + ns + "/" + name);
                 if (it == objects_.end()) return Status(Code::kNotFound, r + " not found");
                 return it->second;
               },
               [this] { return now_; }) {
    Put("serviceaccounts", "ci", "bot", "sa-uid");
    Put("pods", "ci", "runner", "pod-uid");
  }

  void Put(const std::string& r, const std::string& ns, const std::string& name, const std::string& uid) {
    objects_[r + "/" + ns + "/" + name] = json::object{{"metadata", json::object{{"name", name}, {"uid", uid}}}};
  }
  sa::Claims Claims() {
    sa::Claims c;
    c.ns = "ci";
    c.service_account = {"bot", "sa-uid"};
    c.audiences = sa::ApiAudiences();
    c.issued_at = c.not_before = kNow;
    c.expires = kNow + 600;
    c.id = "jti-9";
    return c;
  }
  std::string Token(const sa::Claims& c) { return *sa::Issue(key_, c); }

  sa::jwt::Key key_;
  std::map<std::string, json::object> objects_;
  int64_t now_ = kNow;
  ServiceAccountAuthenticator authn_;
};

TEST_F(ServiceAccountAuthnTest, AuthenticatesAsTheAccount) {
  auto u = authn_.Authenticate(Token(Claims()));
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ(u->name, "system:serviceaccount:ci:bot");
  EXPECT_EQ(u->uid, "sa-uid");
  EXPECT_EQ(u->groups, (std::vector<std::string>{"system:serviceaccounts", "system:serviceaccounts:ci", "system:authenticated"}));
  EXPECT_EQ(u->extra["authentication.kubernetes.io/credential-id"], std::vector<std::string>{"JTI=jti-9"});
}

TEST_F(ServiceAccountAuthnTest, ExpiryAndAudience) {
  const std::string t = Token(Claims());
  now_ = kNow + 600 + 61;
  EXPECT_EQ(authn_.Authenticate(t).status().code(), Code::kUnauthenticated);
  now_ = kNow;
  EXPECT_FALSE(authn_.Authenticate(t, {"vault"}).ok());
  auto c = Claims();
  c.audiences = {"vault"};
  EXPECT_FALSE(authn_.Authenticate(Token(c)).ok());
  EXPECT_TRUE(authn_.Authenticate(Token(c), {"vault"}).ok());
}

TEST_F(ServiceAccountAuthnTest, AccountDeletedOrRecreated) {
  const std::string t = Token(Claims());
  objects_.erase("serviceaccounts/ci/bot");
  EXPECT_FALSE(authn_.Authenticate(t).ok());
  Put("serviceaccounts", "ci", "bot", "another-uid");
  auto u = authn_.Authenticate(t);
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("does not match"), std::string::npos) << u.status().message();
}

TEST_F(ServiceAccountAuthnTest, PodBoundTokenLivesWithThePod) {
  auto c = Claims();
  c.pod = {"runner", "pod-uid"};
  const std::string t = Token(c);
  auto u = authn_.Authenticate(t);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->extra["authentication.kubernetes.io/pod-name"], std::vector<std::string>{"runner"});
  // Terminating: valid until 60 s past the deletion deadline.
  objects_["pods/ci/runner"]["metadata"].as_object()["deletionTimestamp"] = "2023-11-14T22:12:50Z";  // kNow - 30
  EXPECT_TRUE(authn_.Authenticate(t).ok());
  now_ = kNow + 31;
  EXPECT_FALSE(authn_.Authenticate(t).ok());
  now_ = kNow;
  Put("pods", "ci", "runner", "new-pod-uid");  // same name, new pod
  EXPECT_FALSE(authn_.Authenticate(t).ok());
  objects_.erase("pods/ci/runner");
  auto gone = authn_.Authenticate(t);
  ASSERT_FALSE(gone.ok());
  EXPECT_EQ(gone.status().message(), "pod ci/runner has been deleted");
}

TEST_F(ServiceAccountAuthnTest, LegacyTokenMustMatchItsSecret) {
  sa::Claims c;
  c.legacy = true;
  c.ns = "ci";
  c.service_account = {"bot", "sa-uid"};
  c.secret = {"bot-token", ""};
  const std::string t = Token(c);
  json::object secret{{"metadata", json::object{{"name", "bot-token"},
                                                {"annotations", json::object{{"kubernetes.io/service-account.name", "bot"}}}}},
                      {"type", "kubernetes.io/service-account-token"},
                      {"data", json::object{{"token", Base64Encode(t)}}}};
  objects_["secrets/ci/bot-token"] = secret;
  EXPECT_TRUE(authn_.Authenticate(t).ok());
  objects_["secrets/ci/bot-token"]["data"].as_object()["token"] = Base64Encode("other");
  EXPECT_FALSE(authn_.Authenticate(t).ok());
  objects_.erase("secrets/ci/bot-token");
  EXPECT_FALSE(authn_.Authenticate(t).ok());
}

}  // namespace
}  // namespace kite::apiserver
