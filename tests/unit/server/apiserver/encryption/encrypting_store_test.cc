// server/apiserver/encryption/encrypting_store: the encrypting store over a real datastore:
// ciphertext below, plain objects above (reads, transactions, watches), and re-encryption after a
// key rotation.
#include "server/apiserver/encryption/encrypting_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/encoding.h"
#include "tests/unit/datastore/test_util.h"
#include "tests/unit/server/apiserver/encryption/config_text.h"

namespace kite::apiserver::encryption {
namespace {

using testing::Config;
using testing::Make;

class EncryptingStoreTest : public ::testing::Test {
 protected:
  EncryptingStoreTest() : dir_(datastore::testing::TempDir()), inner_(datastore::testing::Open(dir_ + "/db")) {}
  ~EncryptingStoreTest() override {
    inner_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::string Raw(const std::string& key) {
    datastore::RangeRequest q;
    q.key = key;
    auto r = inner_->Range(q);
    return r.ok() && !r->kvs.empty() ? r->kvs[0].value_or_empty() : "";
  }
  std::string dir_;
  std::unique_ptr<datastore::Store> inner_;
};

TEST_F(EncryptingStoreTest, CiphertextBelowPlainAbove) {
  const std::string k1 = Base64Encode(std::string(32, '1')), k2 = Base64Encode(std::string(32, '2'));
  EncryptingStore store(inner_.get(),
                        Make(Config(R"([{"aescbc":{"keys":[{"name":"one","secret":")" + k1 + R"("}]}},{"identity":{}}])")));
  datastore::WatchOptions wo;
  wo.key = "/registry/";
  wo.range_end = "/registry0";
  wo.prev_kv = true;
  auto watcher = store.Watch(wo, [] {});
  ASSERT_TRUE(store.Put("/registry/secrets/ns/a", R"({"data":{"x":"plain-value"}})").ok());
  ASSERT_TRUE(store.Put("/registry/configmaps/ns/c", R"({"data":{"x":"visible"}})").ok());
  EXPECT_EQ(Raw("/registry/secrets/ns/a").rfind("k8s:enc:aescbc:v1:one:", 0), 0u);
  EXPECT_EQ(Raw("/registry/secrets/ns/a").find("plain-value"), std::string::npos);
  EXPECT_EQ(Raw("/registry/configmaps/ns/c"), R"({"data":{"x":"visible"}})");

  datastore::RangeRequest q;
  q.key = "/registry/";
  q.range_end = "/registry0";
  auto all = store.Range(q);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->kvs.size(), 2u);
  EXPECT_EQ(all->kvs[1].value_or_empty(), R"({"data":{"x":"plain-value"}})");
  auto batch = watcher->Next(10);
  ASSERT_EQ(batch.events.size(), 2u);
  EXPECT_EQ(batch.events[0].kv.value_or_empty(), R"({"data":{"x":"plain-value"}})");

  // Rotate: the new key first, the old one still listed; re-encryption rewrites the old value.
  ASSERT_TRUE(store.Put("/registry/secrets/ns/a", R"({"data":{"x":"second"}})").ok());
  batch = watcher->Next(10);
  ASSERT_EQ(batch.events.size(), 1u);
  ASSERT_TRUE(batch.events[0].prev_kv.has_value());
  EXPECT_EQ(batch.events[0].prev_kv->value_or_empty(), R"({"data":{"x":"plain-value"}})");
  store.SetTransformer(Make(Config(R"([{"aescbc":{"keys":[{"name":"two","secret":")" + k2 + R"("},{"name":"one","secret":")" +
                                   k1 + R"("}]}},{"identity":{}}])")));
  auto n = store.Reencrypt();
  ASSERT_TRUE(n.ok()) << n.status().message();
  EXPECT_EQ(*n, 1);
  EXPECT_EQ(Raw("/registry/secrets/ns/a").rfind("k8s:enc:aescbc:v1:two:", 0), 0u);
  EXPECT_EQ(*store.Reencrypt(), 0);  // nothing left in an old form
  // The old key gone: everything still decrypts.
  store.SetTransformer(Make(Config(R"([{"aescbc":{"keys":[{"name":"two","secret":")" + k2 + R"("}]}},{"identity":{}}])")));
  q.key = "/registry/secrets/ns/a";
  q.range_end.clear();
  auto one = store.Range(q);
  ASSERT_TRUE(one.ok()) << one.status().message();
  EXPECT_EQ(one->kvs[0].value_or_empty(), R"({"data":{"x":"second"}})");
  // A value no configured key opens fails the read rather than show ciphertext.
  store.SetTransformer(Make(Config(R"([{"aescbc":{"keys":[{"name":"three","secret":")" + k1 + R"("}]}},{"identity":{}}])")));
  EXPECT_FALSE(store.Range(q).ok());
}

}  // namespace
}  // namespace kite::apiserver::encryption
