// Encryption at rest: the EncryptionConfiguration decoder's rules, upstream's stored forms
// (prefix, IV/nonce, GCM's key-bound authentication), and the encrypting store over a real
// datastore: ciphertext below, plain objects above (reads, transactions, watches), and
// re-encryption after a key rotation.
#include <gtest/gtest.h>

#include <filesystem>

#include "base/encoding.h"
#include "server/apiserver/encryption/encrypting_store.h"
#include "server/apiserver/encryption/encryption_config.h"
#include "tests/unit/datastore/test_util.h"

namespace kite::apiserver::encryption {
namespace {

std::string Config(const std::string& providers, const std::string& resources = R"(["secrets"])") {
  return R"({"kind":"EncryptionConfiguration","apiVersion":"apiserver.config.k8s.io/v1","resources":[{"resources":)" +
         resources + R"(,"providers":)" + providers + "}]}";
}
const std::string kKey32 = Base64Encode(std::string(32, 'k'));
const std::string kKey16 = Base64Encode(std::string(16, 'g'));

std::shared_ptr<const Transformer> Make(const std::string& text) {
  auto c = ParseEncryptionConfig(text);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return *Transformer::Create(*c);
}

TEST(EncryptionConfigTest, DecodesUpstreamFilesInJsonAndYaml) {
  auto c = ParseEncryptionConfig(Config(R"([{"aescbc":{"keys":[{"name":"k1","secret":")" + kKey32 +
                                        R"("}]}},{"aesgcm":{"keys":[{"name":"g","secret":")" + kKey16 + R"("}]}},{"identity":{}}])"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_EQ(c->resources.size(), 1u);
  ASSERT_EQ(c->resources[0].providers.size(), 3u);
  EXPECT_EQ(c->resources[0].providers[0].type, Provider::Type::kAesCbc);
  EXPECT_EQ(c->resources[0].providers[0].keys[0].secret, std::string(32, 'k'));
  EXPECT_EQ(c->resources[0].providers[1].type, Provider::Type::kAesGcm);
  EXPECT_EQ(c->resources[0].providers[2].type, Provider::Type::kIdentity);
  // What it writes reads back the same.
  auto again = ParseEncryptionConfig(SerializeEncryptionConfig(*c));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->resources[0].providers[1].keys[0].name, "g");

  auto yaml = ParseEncryptionConfig(
      "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets, "
      "configmaps]\n  providers:\n  - aesgcm:\n      keys:\n      - name: key1\n        secret: " +
      kKey16 + "\n  - identity: {}\n");
  ASSERT_TRUE(yaml.ok()) << yaml.status().message();
  EXPECT_EQ(yaml->resources[0].resources, (std::vector<std::string>{"secrets", "configmaps"}));
}

TEST(EncryptionConfigTest, RefusesWhatUpstreamRefuses) {
  const std::string cbc = R"([{"aescbc":{"keys":[{"name":"k1","secret":")" + kKey32 + R"("}]}}])";
  EXPECT_FALSE(ParseEncryptionConfig("{}").ok());
  EXPECT_FALSE(ParseEncryptionConfig("not: [valid").ok());
  std::string wrong_kind = Config(cbc);
  wrong_kind.replace(wrong_kind.find("EncryptionConfiguration"), 23, "Policy");
  EXPECT_FALSE(ParseEncryptionConfig(wrong_kind).ok());
  EXPECT_FALSE(ParseEncryptionConfig(Config("[]")).ok());
  EXPECT_FALSE(ParseEncryptionConfig(Config(cbc, "[]")).ok());
  EXPECT_FALSE(ParseEncryptionConfig(Config(R"([{"aescbc":{"keys":[]}}])")).ok());
  EXPECT_FALSE(ParseEncryptionConfig(Config(R"([{"aescbc":{"keys":[{"name":"k","secret":"c2hvcnQ="}]}}])")).ok());
  EXPECT_FALSE(ParseEncryptionConfig(Config(R"([{"aescbc":{"keys":[{"name":"","secret":")" + kKey32 + R"("}]}}])")).ok());
  EXPECT_FALSE(ParseEncryptionConfig(Config(R"([{"aescbc":{"keys":[{"name":"a","secret":")" + kKey32 +
                                            R"("},{"name":"a","secret":")" + kKey32 + R"("}]}}])")).ok());
  EXPECT_FALSE(ParseEncryptionConfig(Config(R"([{"identity":{},"aescbc":{"keys":[]}}])")).ok());
  auto secretbox = ParseEncryptionConfig(Config(R"([{"secretbox":{"keys":[]}}])"));
  ASSERT_FALSE(secretbox.ok());
  EXPECT_NE(secretbox.status().message().find("not supported"), std::string::npos);
}

TEST(TransformerTest, UpstreamStoredFormsRoundTrip) {
  const std::string key = "/registry/secrets/default/s";
  const std::string plain = R"({"kind":"Secret","data":{"a":"c2VjcmV0"}})";
  auto cbc = Make(Config(R"([{"aescbc":{"keys":[{"name":"k1","secret":")" + kKey32 + R"("}]}},{"identity":{}}])"));
  auto sealed = cbc->Encrypt(key, plain);
  ASSERT_TRUE(sealed.ok());
  ASSERT_EQ(sealed->rfind("k8s:enc:aescbc:v1:k1:", 0), 0u);
  // prefix + 16-byte IV + the plaintext padded to whole 16-byte blocks
  EXPECT_EQ(sealed->size(), 21 + 16 + (plain.size() / 16 + 1) * 16);
  EXPECT_EQ(sealed->find("c2VjcmV0"), std::string::npos);
  EXPECT_EQ(*cbc->Decrypt(key, *sealed), plain);
  EXPECT_EQ(*cbc->Decrypt(key, plain), plain);  // identity reads what was stored before
  EXPECT_FALSE(cbc->Covers("/registry/configmaps/default/c"));
  EXPECT_EQ(*cbc->Encrypt("/registry/configmaps/default/c", plain), plain);

  auto gcm = Make(Config(R"([{"aesgcm":{"keys":[{"name":"g","secret":")" + kKey16 + R"("}]}}])"));
  auto g = gcm->Encrypt(key, plain);
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->rfind("k8s:enc:aesgcm:v1:g:", 0), 0u);
  EXPECT_EQ(g->size(), 20 + 12 + plain.size() + 16);
  EXPECT_EQ(*gcm->Decrypt(key, *g), plain);
  // The storage key is authenticated: a value copied under another name does not decrypt.
  EXPECT_FALSE(gcm->Decrypt("/registry/secrets/default/other", *g).ok());
  std::string tampered = *g;
  tampered.back() ^= 1;
  EXPECT_FALSE(gcm->Decrypt(key, tampered).ok());
  // No identity: plain values are refused; an unknown key name too.
  EXPECT_FALSE(gcm->Decrypt(key, plain).ok());
  EXPECT_FALSE(gcm->Decrypt(key, *sealed).ok());
}

TEST(TransformerTest, RotationKeepsOldKeysReadable) {
  const std::string key = "/registry/secrets/ns/s";
  const std::string k2 = Base64Encode(std::string(32, '2'));
  auto before = Make(Config(R"([{"aescbc":{"keys":[{"name":"old","secret":")" + kKey32 + R"("}]}},{"identity":{}}])"));
  auto after = Make(Config(R"([{"aescbc":{"keys":[{"name":"new","secret":")" + k2 + R"("},{"name":"old","secret":")" +
                           kKey32 + R"("}]}},{"identity":{}}])"));
  auto old_value = *before->Encrypt(key, "v");
  EXPECT_EQ(*after->Decrypt(key, old_value), "v");
  EXPECT_FALSE(after->IsCurrent(key, old_value));
  EXPECT_TRUE(after->IsCurrent(key, *after->Encrypt(key, "v")));
}

TEST(TransformerTest, ResourceNamesMapToStoragePrefixes) {
  EXPECT_EQ(StoragePrefixesFor("secrets"), std::vector<std::string>{"/registry/secrets/"});
  EXPECT_EQ(StoragePrefixesFor("deployments.apps"), std::vector<std::string>{"/registry/deployments/"});
  EXPECT_EQ(StoragePrefixesFor("*.*"), std::vector<std::string>{"/registry/"});
  EXPECT_EQ(StoragePrefixesFor("widgets.example.com"), std::vector<std::string>{"/registry/example.com/widgets/"});
}

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
