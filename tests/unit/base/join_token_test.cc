// The K10 join token (base/join_token.h): the forms k3s accepts and what is refused.
#include <gtest/gtest.h>

#include "base/join_token.h"

namespace kite {
namespace {

const std::string kHash = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";  // sha256("abc")

TEST(JoinTokenTest, HashIsSha256OfTheBundleBytes) {
  EXPECT_EQ(CaBundleHash("abc"), kHash);
  EXPECT_EQ(FormatJoinToken("abc", "server", "s3cret"), "K10" + kHash + "::server:s3cret");
}

TEST(JoinTokenTest, ParsesTheFullForm) {
  auto t = ParseJoinToken("K10" + kHash + "::server:s3cret:with:colons\n");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->ca_hash, kHash);
  EXPECT_EQ(t->user, "server");
  EXPECT_EQ(t->secret, "s3cret:with:colons");
}

TEST(JoinTokenTest, UpperCaseHashIsLowered) {
  std::string upper = kHash;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto t = ParseJoinToken("K10" + upper + "::node:x");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->ca_hash, kHash);
}

TEST(JoinTokenTest, HashlessAndBareSecrets) {
  auto hashless = ParseJoinToken("K10::node:abc");
  ASSERT_TRUE(hashless.ok());
  EXPECT_EQ(hashless->ca_hash, "");
  EXPECT_EQ(hashless->user, "node");
  EXPECT_EQ(hashless->secret, "abc");
  auto bare = ParseJoinToken("  just-a-secret ");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->ca_hash, "");
  EXPECT_EQ(bare->user, "");
  EXPECT_EQ(bare->secret, "just-a-secret");
}

TEST(JoinTokenTest, RefusesMalformedTokensWithoutEchoingTheSecret) {
  EXPECT_FALSE(ParseJoinToken("").ok());
  EXPECT_FALSE(ParseJoinToken("   \n").ok());
  auto short_hash = ParseJoinToken("K10abcd::server:topsecret");
  ASSERT_FALSE(short_hash.ok());
  EXPECT_NE(short_hash.status().message().find("64 hex"), std::string::npos);
  EXPECT_EQ(short_hash.status().message().find("topsecret"), std::string::npos);
  EXPECT_FALSE(ParseJoinToken("K10" + kHash.substr(0, 63) + "g::server:x").ok());  // not hex
  EXPECT_FALSE(ParseJoinToken("K10" + kHash + "::server").ok());                      // no secret
  EXPECT_FALSE(ParseJoinToken("K10" + kHash + "::server:").ok());                     // empty secret
  EXPECT_FALSE(ParseJoinToken("K10" + kHash + ":server:x").ok());                     // no ::
}

TEST(JoinTokenTest, ClusterSettingsRoundTripAsJson) {
  ClusterSettings s{"10.42.0.0/16,fd00:42::/56", "10.96.0.0/16", "10.96.0.10", "example.internal", "host-gw", "disabled"};
  const std::string text = EncodeClusterSettings(s);
  EXPECT_EQ(text,
            "{\"clusterCIDR\": \"10.42.0.0/16,fd00:42::/56\", \"serviceCIDR\": \"10.96.0.0/16\", \"clusterDNS\": \"10.96.0.10\", "
            "\"clusterDomain\": \"example.internal\", \"flannelBackend\": \"host-gw\", \"networkPolicy\": \"disabled\"}");
  auto back = DecodeClusterSettings(text);
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->cluster_cidr, s.cluster_cidr);
  EXPECT_EQ(back->service_cidr, s.service_cidr);
  EXPECT_EQ(back->cluster_dns, s.cluster_dns);
  EXPECT_EQ(back->cluster_domain, s.cluster_domain);
  EXPECT_EQ(back->flannel_backend, s.flannel_backend);
  EXPECT_EQ(back->network_policy, s.network_policy);
  auto partial = DecodeClusterSettings("{\"clusterDNS\": \"10.43.0.10\", \"future\": [1]}");
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(partial->cluster_dns, "10.43.0.10");
  EXPECT_EQ(partial->cluster_cidr, "");
  for (const char* bad : {"[1]", "{\"clusterDNS\": [1]}", "{", "\"text\""}) EXPECT_FALSE(DecodeClusterSettings(bad).ok()) << bad;
}

TEST(JoinTokenTest, RandomSecretsAre128BitHex) {
  const std::string a = RandomSecret(), b = RandomSecret();
  EXPECT_EQ(a.size(), 32u);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

}  // namespace
}  // namespace kite
