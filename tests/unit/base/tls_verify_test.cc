// base/tls_verify.h: certificate validity in handshakes judged by kite's clock, not OpenSSL's
// time(). Natively both agree on "now"; a FakeClock shows which one decides. The armhf run of
// the same idea past 2038 is tests/unit/time64_test.cc's.
#include "base/tls_verify.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>

#include "base/pki.h"
#include "base/testing/fake_clock.h"
#include "tests/unit/base/tls_round_trip.h"

namespace kite {
namespace {

using std::chrono::days;
using Tp = std::chrono::system_clock::time_point;

// A client and a server SSL over a memory BIO pair, driven to the end of the handshake.
struct MemoryHandshake {
  bool ok = false;
  long client_verify = X509_V_OK;  // SSL_get_verify_result on each side
  long server_verify = X509_V_OK;
};

X509* PemCert(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* x = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return x;
}

EVP_PKEY* PemKey(const std::string& pem) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  EVP_PKEY* k = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  return k;
}

// A context that presents `self` and verifies its peer against `ca` (verify_peer), its times
// judged by `clock` (nullptr: OpenSSL's own check, as before base/tls_verify.h).
SSL_CTX* NewCtx(bool server, const pki::KeyPair& self, const pki::KeyPair& ca, const Clock* clock,
                int mode = SSL_VERIFY_PEER) {
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  X509* cert = PemCert(self.cert_pem);
  EVP_PKEY* key = PemKey(self.key_pem);
  SSL_CTX_use_certificate(ctx, cert);
  SSL_CTX_use_PrivateKey(ctx, key);
  X509_free(cert);
  EVP_PKEY_free(key);
  X509* anchor = PemCert(ca.cert_pem);
  X509_STORE_add_cert(SSL_CTX_get_cert_store(ctx), anchor);
  X509_free(anchor);
  SSL_CTX_set_verify(ctx, mode, nullptr);
  if (clock) UseClockForCertificateTimes(ctx, clock);
  return ctx;
}

MemoryHandshake Handshake(SSL_CTX* server_ctx, SSL_CTX* client_ctx) {
  SSL* s = SSL_new(server_ctx);
  SSL* c = SSL_new(client_ctx);
  BIO *bs = nullptr, *bc = nullptr;
  BIO_new_bio_pair(&bs, 0, &bc, 0);
  SSL_set_bio(s, bs, bs);
  SSL_set_bio(c, bc, bc);
  SSL_set_accept_state(s);
  SSL_set_connect_state(c);
  MemoryHandshake r;
  bool c_done = false, s_done = false, failed = false;
  for (int i = 0; i < 50 && !(c_done && s_done) && !failed; ++i) {
    for (auto [ssl, done] : {std::pair{c, &c_done}, std::pair{s, &s_done}}) {
      if (*done) continue;
      const int rc = SSL_do_handshake(ssl);
      if (rc == 1) *done = true;
      else if (int e = SSL_get_error(ssl, rc); e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) failed = true;
    }
  }
  // TLS 1.3: the server judges the client's certificate after the client is done; a rejection
  // reaches the client on its next read.
  if (!failed && c_done && s_done) {
    char byte;
    SSL_write(s, "x", 1);
    failed = SSL_read(c, &byte, 1) != 1;
  }
  r.ok = c_done && s_done && !failed;
  r.client_verify = SSL_get_verify_result(c);
  r.server_verify = SSL_get_verify_result(s);
  SSL_free(s);
  SSL_free(c);
  return r;
}

class TlsVerifyTest : public ::testing::Test {
 protected:
  // Leaves valid from `not_before` for `days`, under a CA valid from now for 60 years.
  void MakeCerts(Tp not_before, int leaf_days) { peers_ = testing::MakeTlsPeers(not_before, leaf_days); }
  MemoryHandshake Run(const Clock* server_clock, const Clock* client_clock, int client_mode = SSL_VERIFY_PEER) {
    SSL_CTX* sc = NewCtx(true, peers_.server, peers_.ca, server_clock);
    SSL_CTX* cc = NewCtx(false, peers_.client, peers_.ca, client_clock, client_mode);
    MemoryHandshake r = Handshake(sc, cc);
    SSL_CTX_free(sc);
    SSL_CTX_free(cc);
    return r;
  }
  testing::TlsPeers peers_;
  testing::FakeClock clock_;
};

TEST_F(TlsVerifyTest, ValidCertificatesPass) {
  MakeCerts(Clock::Real()->Now() - days(1), 365);
  clock_.SetWall(Clock::Real()->Now());
  auto r = Run(&clock_, &clock_);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.client_verify, X509_V_OK);
  EXPECT_EQ(r.server_verify, X509_V_OK);
}

TEST_F(TlsVerifyTest, ExpiredByKitesClockFailsThoughOpenSslsTimeSaysValid) {
  const Tp now = Clock::Real()->Now();
  MakeCerts(now - days(1), 365);
  EXPECT_TRUE(Run(nullptr, nullptr).ok);  // OpenSSL's own check: valid today
  clock_.SetWall(now + days(400));
  auto r = Run(nullptr, &clock_);  // the client judges the server's certificate
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.client_verify, X509_V_ERR_CERT_HAS_EXPIRED);
  r = Run(&clock_, nullptr);  // the server judges the client's
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.server_verify, X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_F(TlsVerifyTest, NotYetValidByKitesClockFails) {
  const Tp now = Clock::Real()->Now();
  MakeCerts(now - days(1), 365);
  clock_.SetWall(now - days(30));
  auto r = Run(&clock_, &clock_);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.client_verify, X509_V_ERR_CERT_NOT_YET_VALID);
}

// A certificate valid 2037-2045: OpenSSL's time() (today) would call it not yet valid; with
// kite's clock at 2040 it passes — what an armhf node meets after 2038, where time() fails.
TEST_F(TlsVerifyTest, KitesClockDecidesNotOpenSsls) {
  const Tp y2037 = Tp(std::chrono::seconds(2114380800));  // 2037-01-01
  MakeCerts(y2037, 365 * 8);
  EXPECT_FALSE(Run(nullptr, nullptr).ok);
  clock_.SetWall(Tp(std::chrono::seconds(2208988800)));  // 2040-01-01
  auto r = Run(&clock_, &clock_);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.client_verify, X509_V_OK);
  EXPECT_EQ(r.server_verify, X509_V_OK);
}

TEST_F(TlsVerifyTest, AnExpiredCaFailsTheChain) {
  const Tp now = Clock::Real()->Now();
  MakeCerts(now - days(1), 365 * 100);  // leaves outlive the 60-year CA
  clock_.SetWall(now + days(365 * 61));
  auto r = Run(&clock_, &clock_);
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.client_verify, X509_V_ERR_CERT_HAS_EXPIRED);
}

TEST_F(TlsVerifyTest, VerifyNoneStillIgnoresTheResult) {
  const Tp now = Clock::Real()->Now();
  MakeCerts(now - days(1), 365);
  clock_.SetWall(now + days(400));
  auto r = Run(nullptr, &clock_, SSL_VERIFY_NONE);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.client_verify, X509_V_ERR_CERT_HAS_EXPIRED);  // recorded, not enforced
}

// kite's own contexts: HttpsServer (client certificates) and MakeTlsContext + HttpsConnection
// (the serving certificate, with its host name checked too).
TEST_F(TlsVerifyTest, KitesServerAndClientContextsUseTheirClocks) {
  const Tp now = Clock::Real()->Now();
  MakeCerts(now - days(1), 365);
  testing::FakeClock late;
  late.SetWall(now + days(400));
  EXPECT_EQ(testing::TlsRoundTrip(peers_, Clock::Real(), Clock::Real()), "");
  EXPECT_NE(testing::TlsRoundTrip(peers_, Clock::Real(), &late), "");  // client: server cert expired
  EXPECT_NE(testing::TlsRoundTrip(peers_, &late, Clock::Real()), "");  // server: client cert expired
  const Tp y2037 = Tp(std::chrono::seconds(2114380800));
  MakeCerts(y2037, 365 * 8);
  late.SetWall(Tp(std::chrono::seconds(2208988800)));  // 2040
  EXPECT_EQ(testing::TlsRoundTrip(peers_, &late, &late), "");
  EXPECT_NE(testing::TlsRoundTrip(peers_, &late, Clock::Real()), "");  // today: not yet valid
}

// The check outside a handshake (the etcd endpoint's client certificates): chain, purpose and
// validity by kite's clock.
TEST_F(TlsVerifyTest, PeerChainVerifierJudgesChainPurposeAndTimeByKitesClock) {
  const Tp now = Clock::Real()->Now();
  MakeCerts(now - days(1), 30);
  clock_.SetWall(now);
  auto clients = PeerChainVerifier::Create(peers_.ca.cert_pem, PeerChainVerifier::Peer::kClient, &clock_);
  ASSERT_TRUE(clients.ok()) << clients.status().message();
  EXPECT_TRUE(clients->Verify(peers_.client.cert_pem, "").ok());
  EXPECT_TRUE(clients->Verify(peers_.client.cert_pem, peers_.client.cert_pem).ok());  // the leaf repeated
  auto s = clients->Verify(peers_.server.cert_pem, "");  // a server's certificate
  EXPECT_EQ(s.code(), Code::kUnauthenticated);
  EXPECT_NE(s.message().find("purpose"), std::string::npos) << s.message();
  EXPECT_EQ(clients->Verify("", "").code(), Code::kUnauthenticated);
  EXPECT_EQ(clients->Verify("not PEM", "").code(), Code::kUnauthenticated);
  const auto stranger = testing::MakeTlsPeers(now - days(1), 30);
  s = clients->Verify(stranger.client.cert_pem, stranger.ca.cert_pem);  // sends its own root along
  EXPECT_EQ(s.code(), Code::kUnauthenticated) << s.message();
  clock_.SetWall(now + days(60));
  s = clients->Verify(peers_.client.cert_pem, "");
  EXPECT_NE(s.message().find("expired"), std::string::npos) << s.message();
  clock_.SetWall(now - days(2));
  s = clients->Verify(peers_.client.cert_pem, "");
  EXPECT_NE(s.message().find("not yet valid"), std::string::npos) << s.message();
  auto servers = PeerChainVerifier::Create(peers_.ca.cert_pem, PeerChainVerifier::Peer::kServer, &clock_);
  ASSERT_TRUE(servers.ok());
  clock_.SetWall(now);
  EXPECT_TRUE(servers->Verify(peers_.server.cert_pem, "").ok());
  EXPECT_EQ(PeerChainVerifier::Create("", PeerChainVerifier::Peer::kClient).status().code(), Code::kInvalidArgument);
}

// A kubeconfig that names no CA trusts the system's bundle file (SSL_CERT_FILE), never OpenSSL's
// hashed directory (its 32-bit stat on armhf: docs/architecture/packaging.md).
TEST_F(TlsVerifyTest, SystemTrustAnchorsComeFromTheBundleFileOnly) {
  const Tp now = Clock::Real()->Now();
  MakeCerts(now - days(1), 30);
  const std::string dir = ::testing::TempDir() + "/tls-verify-system-cas-" + std::to_string(::getpid());
  std::filesystem::create_directories(dir + "/hashed");
  const auto other = pki::CreateCA("some-other-ca").value();
  std::ofstream(dir + "/with.crt") << other.cert_pem << peers_.ca.cert_pem;
  std::ofstream(dir + "/without.crt") << other.cert_pem;
  ASSERT_NE(testing::WriteHashedCertificate(dir + "/hashed", peers_.ca.cert_pem), "");
  {
    testing::ScopedEnv file("SSL_CERT_FILE", dir + "/with.crt");
    EXPECT_EQ(testing::TlsRoundTrip(peers_, Clock::Real(), Clock::Real(), /*system_cas=*/true), "");
  }
  {
    testing::ScopedEnv file("SSL_CERT_FILE", dir + "/without.crt");
    testing::ScopedEnv hashed("SSL_CERT_DIR", dir + "/hashed");  // would trust it: not read
    EXPECT_NE(testing::TlsRoundTrip(peers_, Clock::Real(), Clock::Real(), /*system_cas=*/true), "");
  }
  {
    testing::ScopedEnv file("SSL_CERT_FILE", dir + "/missing.crt");
    const std::string error = testing::TlsRoundTrip(peers_, Clock::Real(), Clock::Real(), /*system_cas=*/true);
    EXPECT_NE(error.find("missing.crt"), std::string::npos) << error;
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace kite
