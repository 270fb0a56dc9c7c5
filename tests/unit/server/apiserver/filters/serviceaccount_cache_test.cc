// The service-account authenticator's object cache over a real store: what it holds follows the
// datastore's writes and deletes, only the fields the authenticator checks are kept, and a key it
// does not hold is read through the fallback.
#include <gtest/gtest.h>

#include <filesystem>

#include "api/object.h"
#include "server/apiserver/filters/serviceaccount_cache.h"
#include "tests/unit/datastore/store_fixture.h"

namespace kite::apiserver {
namespace {
namespace json = boost::json;

class ServiceAccountCacheTest : public datastore::testing::StoreTest {
 protected:
  ServiceAccountAuthenticator::Getter Fallback() {
    return [this](const std::string& r, const std::string& ns, const std::string& name) -> Result<json::object> {
      ++fallback_reads_;
      return Status(Code::kNotFound, r + " " + ns + "/" + name + " not found");
    };
  }

  int fallback_reads_ = 0;
};

TEST_F(ServiceAccountCacheTest, FollowsWritesAndDeletes) {
  Put("/registry/serviceaccounts/ci/bot", R"({"kind":"ServiceAccount","metadata":{"name":"bot","namespace":"ci","uid":"sa-1"}})");
  ServiceAccountObjectCache cache(store_.get(), Fallback());
  auto sa = cache.Get("serviceaccounts", "ci", "bot");
  ASSERT_TRUE(sa.ok());
  EXPECT_EQ(api::Uid(*sa), "sa-1");
  EXPECT_EQ(fallback_reads_, 0);

  Put("/registry/pods/ci/runner",
      R"({"kind":"Pod","metadata":{"name":"runner","namespace":"ci","uid":"pod-1","labels":{"a":"b"},)"
      R"("deletionTimestamp":"2030-01-01T00:00:00Z"},"spec":{"nodeName":"n1"},"status":{"phase":"Running"}})");
  Put("/registry/nodes/n1", R"({"kind":"Node","metadata":{"name":"n1","uid":"node-1"},"status":{}})");
  cache.Sync();
  auto pod = cache.Get("pods", "ci", "runner");
  ASSERT_TRUE(pod.ok());
  EXPECT_EQ(api::Uid(*pod), "pod-1");
  EXPECT_EQ(api::GetString(api::Metadata(*pod), "deletionTimestamp"), "2030-01-01T00:00:00Z");
  EXPECT_FALSE(pod->contains("spec"));  // only what the authenticator reads is kept
  auto node = cache.Get("nodes", "", "n1");
  ASSERT_TRUE(node.ok());
  EXPECT_EQ(api::Uid(*node), "node-1");

  Delete("/registry/pods/ci/runner");
  cache.Sync();
  EXPECT_EQ(cache.Get("pods", "ci", "runner").status().code(), Code::kNotFound);
  EXPECT_EQ(fallback_reads_, 1);  // a miss goes to the datastore
}

TEST_F(ServiceAccountCacheTest, KeepsLegacyTokenSecretsFields) {
  ServiceAccountObjectCache cache(store_.get(), Fallback());
  Put("/registry/secrets/ci/tok",
      R"({"kind":"Secret","type":"kubernetes.io/service-account-token","metadata":{"name":"tok","namespace":"ci",)"
      R"("uid":"s-1","annotations":{"kubernetes.io/service-account.name":"bot","other":"x"}},)"
      R"("data":{"token":"dG9r","ca.crt":"Y2E="}})");
  Put("/registry/secrets/ci/plain", R"({"kind":"Secret","type":"Opaque","metadata":{"name":"plain","uid":"s-2"},"data":{"token":"c2VjcmV0"}})");
  cache.Sync();
  auto tok = cache.Get("secrets", "ci", "tok");
  ASSERT_TRUE(tok.ok());
  EXPECT_EQ(api::GetString(*tok, "type"), "kubernetes.io/service-account-token");
  EXPECT_EQ(api::GetString(api::Annotations(*tok), "kubernetes.io/service-account.name"), "bot");
  EXPECT_FALSE(api::Annotations(*tok).contains("other"));
  EXPECT_EQ(api::GetString(api::GetObject(*tok, "data"), "token"), "dG9r");
  EXPECT_FALSE(api::GetObject(*tok, "data").contains("ca.crt"));
  auto plain = cache.Get("secrets", "ci", "plain");
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(api::Uid(*plain), "s-2");
  EXPECT_FALSE(plain->contains("data"));  // other Secrets' data is never held
}

}  // namespace
}  // namespace kite::apiserver
