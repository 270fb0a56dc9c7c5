// The review resources' dispatch (handlers/reviews.h): the table names exactly the built-in
// resources of authentication.k8s.io and authorization.k8s.io (what the handler used to send to
// the reviews by group), never a custom resource; each answer, called on its own; and the whole
// path through an API server in this process.
#include "server/apiserver/handlers/reviews.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>

#include "api/object.h"
#include "tests/unit/server/apiserver/test_server.h"

namespace kite::apiserver {
namespace {
namespace json = boost::json;

// Allows what names resource "pods"; remembers the last question.
class RecordingAuthorizer final : public Authorizer {
 public:
  Decision Authorize(const RequestAttributes& a) const override {
    last = a;
    if (a.resource == "pods") return {true, "pods are fine"};
    return {false, ""};
  }
  mutable RequestAttributes last;
};

class ReviewsTest : public ::testing::Test {
 protected:
  ReviewsTest() : authn_(Authenticator::Create("").value()) {}

  const api::ResourceInfo& R(const char* group, const char* resource) {
    const api::ResourceInfo* r = api::FindResource(group, "v1", resource);
    EXPECT_NE(r, nullptr) << resource;
    return *r;
  }
  // Calls the table's answer for `resource` as `user_` in namespace `ns_`.
  Result<ApiResponse> Answer(const char* group, const char* resource, const char* body) {
    const api::ResourceInfo& r = R(group, resource);
    ReviewAnswer answer = ReviewFor(r);
    EXPECT_NE(answer, nullptr) << resource;
    if (!answer) return Status::Api(500, "InternalError", "no answer");
    json::object obj = json::parse(body).as_object();
    const ReviewContext ctx{user_, ns_, &authn_, &authz_, nullptr};
    return answer(ctx, r, obj);
  }

  Authenticator authn_;
  RecordingAuthorizer authz_;
  UserInfo user_{"alice", "u-1", {"system:authenticated"}, {}};
  std::string ns_;
};

TEST_F(ReviewsTest, TheTableNamesTheBuiltInReviewsOnly) {
  const auto served = api::ResourceSet::With({});
  std::set<std::string> reviews;
  for (const auto& r : served->resources) {
    const bool review_group = r.group == "authentication.k8s.io" || r.group == "authorization.k8s.io";
    EXPECT_EQ(ReviewFor(r) != nullptr, review_group) << r.group << "/" << r.resource;
    if (ReviewFor(r)) reviews.insert(r.resource);
  }
  EXPECT_EQ(reviews, (std::set<std::string>{"selfsubjectreviews", "tokenreviews", "selfsubjectaccessreviews",
                                            "subjectaccessreviews", "localsubjectaccessreviews",
                                            "selfsubjectrulesreviews"}));
  api::ResourceInfo custom = R("authorization.k8s.io", "subjectaccessreviews");
  custom.custom = true;  // a CRD may not borrow a review's answer by naming its group
  EXPECT_EQ(ReviewFor(custom), nullptr);
}

TEST_F(ReviewsTest, AccessReviewsAskForTheRightSubject) {
  auto self = Answer("authorization.k8s.io", "selfsubjectaccessreviews",
                     R"({"spec":{"resourceAttributes":{"verb":"get","resource":"pods","namespace":"a"}}})");
  ASSERT_TRUE(self.ok()) << self.error().message();
  EXPECT_EQ(self->code, 201);
  EXPECT_EQ(authz_.last.user.name, "alice");
  EXPECT_EQ(authz_.last.namespace_, "a");
  EXPECT_TRUE(api::GetBool(self->body, {"status", "allowed"}));
  EXPECT_EQ(api::GetString(self->body, {"status", "reason"}), "pods are fine");

  auto other = Answer("authorization.k8s.io", "subjectaccessreviews",
                      R"({"spec":{"user":"bob","groups":["g"],"nonResourceAttributes":{"path":"/x","verb":"get"}}})");
  ASSERT_TRUE(other.ok()) << other.error().message();
  EXPECT_EQ(authz_.last.user.name, "bob");
  EXPECT_FALSE(authz_.last.resource_request);
  EXPECT_EQ(authz_.last.path, "/x");
  EXPECT_FALSE(api::GetBool(other->body, {"status", "allowed"}));

  auto nobody = Answer("authorization.k8s.io", "subjectaccessreviews", R"({"spec":{"resourceAttributes":{}}})");
  ASSERT_FALSE(nobody.ok());
  EXPECT_EQ(nobody.error().message(),
            "SubjectAccessReview.authorization.k8s.io \"\" is invalid: spec.user: Invalid value: \"\": at least one of "
            "user or group must be specified");
  auto no_attrs = Answer("authorization.k8s.io", "selfsubjectaccessreviews", R"({"spec":{}})");
  ASSERT_FALSE(no_attrs.ok());

  // A local review: the attributes' namespace must be the request's, and the answer names it.
  ns_ = "a";
  auto local = Answer("authorization.k8s.io", "localsubjectaccessreviews",
                      R"({"spec":{"user":"bob","resourceAttributes":{"verb":"get","resource":"pods","namespace":"a"}}})");
  ASSERT_TRUE(local.ok()) << local.error().message();
  EXPECT_EQ(api::GetString(local->body, {"metadata", "namespace"}), "a");
  auto elsewhere = Answer("authorization.k8s.io", "localsubjectaccessreviews",
                          R"({"spec":{"user":"bob","resourceAttributes":{"verb":"get","resource":"pods","namespace":"b"}}})");
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.error().http_code(), 422);
}

TEST_F(ReviewsTest, IdentityAndRulesReviews) {
  auto who = Answer("authentication.k8s.io", "selfsubjectreviews", "{}");
  ASSERT_TRUE(who.ok());
  EXPECT_EQ(api::GetString(who->body, {"status", "userInfo", "username"}), "alice");
  EXPECT_EQ(api::GetString(who->body, {"status", "userInfo", "uid"}), "u-1");

  auto token = Answer("authentication.k8s.io", "tokenreviews", R"({"spec":{"token":"nope"}})");
  ASSERT_TRUE(token.ok());
  EXPECT_FALSE(api::GetBool(token->body, {"status", "authenticated"}));
  EXPECT_TRUE(api::GetArray(token->body, {"status", "audiences"}).empty());
  auto no_token = Answer("authentication.k8s.io", "tokenreviews", R"({"spec":{}})");
  ASSERT_FALSE(no_token.ok());
  EXPECT_EQ(no_token.error().message(), "TokenReview.authentication.k8s.io \"\" is invalid: spec.token: Required value");

  auto rules = Answer("authorization.k8s.io", "selfsubjectrulesreviews", R"({"spec":{"namespace":"a"}})");
  ASSERT_TRUE(rules.ok());  // no RBAC authorizer: nothing listed
  EXPECT_TRUE(api::GetArray(rules->body, {"status", "resourceRules"}).empty());
  EXPECT_FALSE(api::GetBool(rules->body, {"status", "incomplete"}, true));
}

// Through the handlers: a review is answered on create only, from the requester's identity.
TEST(ReviewsThroughTheServer, CreateIsAnsweredOtherVerbsAreNot) {
  testing::InProcessApiServer server;
  ASSERT_NO_FATAL_FAILURE(server.Start());
  auto c = server.AdminClient();
  const api::ResourceInfo& ssr = *api::FindResource("authentication.k8s.io", "v1", "selfsubjectreviews");
  auto who = c->Create(ssr, "", json::object{{"apiVersion", "authentication.k8s.io/v1"}, {"kind", "SelfSubjectReview"}});
  ASSERT_TRUE(who.ok()) << who.error().message();
  EXPECT_EQ(api::GetString(*who, {"status", "userInfo", "username"}), "test");
  EXPECT_EQ(c->Get(ssr, "", "x").error().http_code(), 405);

  const api::ResourceInfo& lsar = *api::FindResource("authorization.k8s.io", "v1", "localsubjectaccessreviews");
  json::object body = json::parse(R"({"apiVersion":"authorization.k8s.io/v1","kind":"LocalSubjectAccessReview",
      "spec":{"user":"bob","resourceAttributes":{"verb":"get","resource":"secrets","namespace":"default"}}})").as_object();
  auto local = c->Create(lsar, "default", body);
  ASSERT_TRUE(local.ok()) << local.error().message();
  EXPECT_FALSE(api::GetBool(*local, {"status", "allowed"}, true));
  EXPECT_EQ(api::GetString(*local, {"metadata", "namespace"}), "default");
  c.reset();
}

}  // namespace
}  // namespace kite::apiserver
