// server/apiserver/encryption/encryption_config: the EncryptionConfiguration decoder's rules and
// the Transformer's stored forms, upstream's (prefix, IV/nonce, GCM's key-bound authentication),
// across a key rotation; resource names to storage prefixes.
#include "server/apiserver/encryption/encryption_config.h"

#include <gtest/gtest.h>

#include "base/encoding.h"
#include "tests/unit/server/apiserver/encryption/config_text.h"

namespace kite::apiserver::encryption {
namespace {

using testing::Config;
using testing::Make;

const std::string kKey32 = Base64Encode(std::string(32, 'k'));
const std::string kKey16 = Base64Encode(std::string(16, 'g'));

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

}  // namespace
}  // namespace kite::apiserver::encryption
