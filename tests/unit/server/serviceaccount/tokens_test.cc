// Service-account JWTs: the base64url and JWS codec, ES256 and RS256 signatures, claims and their
// checks, and the signing keys on disk with rotation.
#include <gtest/gtest.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "server/serviceaccount/jwt.h"
#include "server/serviceaccount/keys.h"
#include "server/serviceaccount/tokens.h"

namespace kite::serviceaccount {
namespace {
namespace json = boost::json;

std::string TempDir() {
  char tmpl[] = "/tmp/kite-sa-test-XXXXXX";
  return mkdtemp(tmpl);
}

Claims PodClaims(int64_t now) {
  Claims c;
  c.ns = "default";
  c.service_account = {"build-bot", "11111111-2222-4333-8444-555555555555"};
  c.pod = {"web-0", "66666666-7777-4888-9999-000000000000"};
  c.node = {"node-a", "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"};
  c.audiences = ApiAudiences();
  c.issued_at = c.not_before = now;
  c.expires = now + 3600;
  return c;
}

TEST(Base64Url, RoundTripsAndRefusesOtherAlphabets) {
  for (std::string s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", std::string("\xff\xfe\x00\x01", 4)}) {
    auto enc = jwt::Base64UrlEncode(s);
    EXPECT_EQ(enc.find('='), std::string::npos);
    EXPECT_EQ(jwt::Base64UrlDecode(enc), s) << enc;
  }
  EXPECT_EQ(jwt::Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(jwt::Base64UrlDecode("Zm9v+"));   // standard alphabet
  EXPECT_FALSE(jwt::Base64UrlDecode("Zm9vYg=="));  // padding
  EXPECT_FALSE(jwt::Base64UrlDecode("Z"));        // impossible length
  EXPECT_FALSE(jwt::Base64UrlDecode("Zh"));       // non-zero leftover bits ("Zg" is canonical)
}

TEST(Jwt, Es256SignsAndVerifies) {
  auto key = jwt::Key::GenerateEs256();
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->alg(), "ES256");
  EXPECT_EQ(key->kid().size(), 43u);  // base64url of a SHA-256
  auto token = jwt::Sign(*key, json::object{{"sub", "x"}});
  ASSERT_TRUE(token.ok());
  auto parsed = jwt::Parse(*token);
  ASSERT_TRUE(parsed.ok()) << parsed.status().message();
  EXPECT_EQ(parsed->signature.size(), 64u);
  EXPECT_EQ(json::value_to<std::string>(parsed->header.at("kid")), key->kid());
  EXPECT_TRUE(jwt::Verify(*parsed, {*key}));
  // The public half alone verifies, and a key from PEM is the same key.
  auto pub = jwt::Key::FromPem(key->PublicPem());
  ASSERT_TRUE(pub.ok());
  EXPECT_FALSE(pub->has_private());
  EXPECT_EQ(pub->kid(), key->kid());
  EXPECT_TRUE(jwt::Verify(*parsed, {*pub}));
  EXPECT_FALSE(pub->Sign("x").ok());
  // Another key does not.
  auto other = jwt::Key::GenerateEs256();
  EXPECT_FALSE(jwt::Verify(*parsed, {*other}));
}

TEST(Jwt, TamperingAlgNoneAndAlgConfusionAreRefused) {
  auto key = jwt::Key::GenerateEs256();
  auto token = jwt::Sign(*key, json::object{{"sub", "alice"}});
  ASSERT_TRUE(token.ok());
  const size_t a = token->find('.'), b = token->rfind('.');
  // Claims changed, signature kept.
  std::string forged = token->substr(0, a + 1) + jwt::Base64UrlEncode(R"({"sub":"admin"})") + token->substr(b);
  auto p = jwt::Parse(forged);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(jwt::Verify(*p, {*key}));
  // alg none with no signature.
  std::string none = jwt::Base64UrlEncode(R"({"alg":"none"})") + "." + jwt::Base64UrlEncode(R"({"sub":"admin"})") + ".";
  p = jwt::Parse(none);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(jwt::Verify(*p, {*key}));
  // The same signature under another alg name.
  std::string hs = jwt::Base64UrlEncode(R"({"alg":"HS256"})") + token->substr(a);
  p = jwt::Parse(hs);
  ASSERT_TRUE(p.ok());
  EXPECT_FALSE(jwt::Verify(*p, {*key}));
}

TEST(Jwt, ParseRefusesMalformedTokens) {
  for (std::string bad : std::vector<std::string>{"", "abc", "a.b", "a.b.c.d", "a b.c.d", "e30.e30", "W10.e30.", "e30.W10.", "e30.e30.***",
                          std::string(jwt::kMaxTokenSize + 1, 'a')}) {
    auto p = jwt::Parse(bad);
    EXPECT_FALSE(p.ok()) << bad.substr(0, 40);
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), Code::kUnauthenticated);
    }
  }
  EXPECT_TRUE(jwt::Parse("e30.e30.").ok());  // {} . {} . empty signature: the shape is fine
}

TEST(Jwt, Rs256KeysFromPemSignAndVerify) {
  EVP_PKEY* rsa = EVP_RSA_gen(2048);
  ASSERT_NE(rsa, nullptr);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, rsa, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<size_t>(n));
  BIO_free(bio);
  EVP_PKEY_free(rsa);
  auto key = jwt::Key::FromPem(pem);
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_EQ(key->alg(), "RS256");
  auto jwk = key->Jwk();
  EXPECT_EQ(jwk.at("kty"), "RSA");
  EXPECT_EQ(jwk.at("e"), "AQAB");
  auto token = Issue(*key, PodClaims(1000));
  ASSERT_TRUE(token.ok());
  auto claims = Verify(*token, {*key}, 1000, ApiAudiences());
  ASSERT_TRUE(claims.ok()) << claims.status().message();
  EXPECT_EQ(claims->pod.uid, "66666666-7777-4888-9999-000000000000");
}

TEST(Jwt, EcJwkHasTheCoordinates) {
  auto key = jwt::Key::GenerateEs256();
  auto jwk = key->Jwk();
  EXPECT_EQ(jwk.at("kty"), "EC");
  EXPECT_EQ(jwk.at("crv"), "P-256");
  EXPECT_EQ(jwk.at("use"), "sig");
  EXPECT_EQ(jwt::Base64UrlDecode(json::value_to<std::string>(jwk.at("x")))->size(), 32u);
  EXPECT_EQ(jwt::Base64UrlDecode(json::value_to<std::string>(jwk.at("y")))->size(), 32u);
}

TEST(Claims, BoundTokenHasUpstreamsClaims) {
  auto c = PodClaims(1700000000);
  c.id = "jti-1";
  json::object o = ToJson(c);
  EXPECT_EQ(o.at("iss"), "https://kubernetes.default.svc.cluster.local");
  EXPECT_EQ(o.at("sub"), "system:serviceaccount:default:build-bot");
  EXPECT_EQ(o.at("exp"), 1700003600);
  EXPECT_EQ(o.at("nbf"), 1700000000);
  EXPECT_EQ(o.at("iat"), 1700000000);
  EXPECT_EQ(o.at("jti"), "jti-1");
  const auto& k = o.at("kubernetes.io").as_object();
  EXPECT_EQ(k.at("namespace"), "default");
  EXPECT_EQ(k.at("serviceaccount").at("name"), "build-bot");
  EXPECT_EQ(k.at("pod").at("name"), "web-0");
  EXPECT_EQ(k.at("node").at("name"), "node-a");
  EXPECT_FALSE(k.contains("secret"));
}

TEST(Claims, VerifyChecksTimeAudienceIssuerAndSubject) {
  auto key = jwt::Key::GenerateEs256();
  const int64_t now = 1700000000;
  auto token = Issue(*key, PodClaims(now));
  ASSERT_TRUE(token.ok());
  EXPECT_TRUE(Verify(*token, {*key}, now, ApiAudiences()).ok());
  EXPECT_TRUE(Verify(*token, {*key}, now + 3600 + 59, ApiAudiences()).ok());  // leeway
  EXPECT_FALSE(Verify(*token, {*key}, now + 3600 + 61, ApiAudiences()).ok());
  EXPECT_FALSE(Verify(*token, {*key}, now - 61, ApiAudiences()).ok());  // not yet valid
  EXPECT_FALSE(Verify(*token, {*key}, now, {"vault"}).ok());
  // Another audience, asked for by name.
  Claims c = PodClaims(now);
  c.audiences = {"vault"};
  auto vault = Issue(*key, c);
  EXPECT_TRUE(Verify(*vault, {*key}, now, {"vault"}).ok());
  EXPECT_FALSE(Verify(*vault, {*key}, now, ApiAudiences()).ok());
  // A subject that disagrees with the kubernetes.io claim.
  json::object o = ToJson(PodClaims(now));
  o["sub"] = "system:serviceaccount:kube-system:admin";
  auto lying = jwt::Sign(*key, o);
  EXPECT_FALSE(Verify(*lying, {*key}, now, ApiAudiences()).ok());
  // Another issuer.
  o = ToJson(PodClaims(now));
  o["iss"] = "https://example.com";
  auto foreign = jwt::Sign(*key, o);
  EXPECT_FALSE(Verify(*foreign, {*key}, now, ApiAudiences()).ok());
  // No expiry.
  o = ToJson(PodClaims(now));
  o.erase("exp");
  auto forever = jwt::Sign(*key, o);
  EXPECT_FALSE(Verify(*forever, {*key}, now, ApiAudiences()).ok());
}

TEST(Claims, LegacyTokensVerifyWithoutExpiryUnlessRefused) {
  auto key = jwt::Key::GenerateEs256();
  Claims c;
  c.legacy = true;
  c.ns = "ci";
  c.service_account = {"deployer", "uid-1"};
  c.secret = {"deployer-token", ""};
  auto token = Issue(*key, c);
  ASSERT_TRUE(token.ok());
  auto got = Verify(*token, {*key}, 4000000000, ApiAudiences());
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_TRUE(got->legacy);
  EXPECT_EQ(got->secret.name, "deployer-token");
  EXPECT_EQ(got->service_account.uid, "uid-1");
  EXPECT_FALSE(Verify(*token, {*key}, 0, ApiAudiences(), /*allow_legacy=*/false).ok());
}

TEST(Keys, CreatedOnceWithMode0600AndReloaded) {
  const std::string dir = TempDir();
  auto first = LoadOrCreateKeys(dir);
  ASSERT_TRUE(first.ok()) << first.status().message();
  for (const char* f : {"/service.current.key", "/service.key"}) {
    struct stat st {};
    ASSERT_EQ(stat((dir + f).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
  auto again = LoadOrCreateKeys(dir);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->signing.kid(), first->signing.kid());
  EXPECT_EQ(again->verifying.size(), 1u);
  std::filesystem::remove_all(dir);
}

TEST(Keys, RotationKeepsOldTokensValidUntilTheOldKeyIsRemoved) {
  const std::string dir = TempDir();
  auto before = LoadOrCreateKeys(dir);
  ASSERT_TRUE(before.ok());
  const int64_t now = 1700000000;
  auto old_token = Issue(before->signing, PodClaims(now));
  auto after = RotateKeys(dir);
  ASSERT_TRUE(after.ok());
  EXPECT_NE(after->signing.kid(), before->signing.kid());
  ASSERT_EQ(after->verifying.size(), 2u);
  auto reloaded = LoadOrCreateKeys(dir);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_EQ(reloaded->signing.kid(), after->signing.kid());
  EXPECT_TRUE(Verify(*old_token, reloaded->verifying, now, ApiAudiences()).ok());
  auto new_token = Issue(reloaded->signing, PodClaims(now));
  EXPECT_TRUE(Verify(*new_token, reloaded->verifying, now, ApiAudiences()).ok());
  EXPECT_FALSE(Verify(*new_token, before->verifying, now, ApiAudiences()).ok());
  // The operator drops the old key: its tokens stop verifying, the new ones still do.
  {
    std::ofstream out(dir + "/service.key", std::ios::trunc);
    out << reloaded->signing.PublicPem();
  }
  auto pruned = LoadOrCreateKeys(dir);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->verifying.size(), 1u);
  EXPECT_FALSE(Verify(*old_token, pruned->verifying, now, ApiAudiences()).ok());
  EXPECT_TRUE(Verify(*new_token, pruned->verifying, now, ApiAudiences()).ok());
  std::filesystem::remove_all(dir);
}

TEST(Keys, BadKeyFilesAreErrors) {
  const std::string dir = TempDir();
  {
    std::ofstream out(dir + "/service.current.key");
    out << "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n";
  }
  EXPECT_FALSE(LoadOrCreateKeys(dir).ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kite::serviceaccount
