// The etcd endpoint's TLS: a client certificate signed by its CA, meant for a client and valid by
// kite's clock is required. gRPC asks for the certificate without verifying it; kite verifies it
// (base/tls_verify.h's PeerChainVerifier), so OpenSSL's time() — 32-bit on Debian 12 armhf, failing
// from 2038 — never judges it. A FakeClock shows which clock decides.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/pki.h"
#include "base/testing/fake_clock.h"
#include "datastore/etcdserver/etcd_server.h"
#include "tests/unit/datastore/etcd_tls_client.h"
#include "tests/unit/datastore/test_util.h"

namespace kite::datastore {
namespace {

using std::chrono::days;

class EtcdTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::TempDir();
    store_ = testing::Open(dir_);
    ca_ = pki::CreateCA("etcd-tls-test-ca").value();
    pki::CertSpec serving;
    serving.common_name = "etcd";
    serving.ip_addresses = {"127.0.0.1"};
    serving.server = true;
    auto leaf = pki::Issue(ca_, serving).value();
    clock_.SetWall(Clock::Real()->Now());
    EtcdServerOptions o;
    o.listen = "127.0.0.1:0";
    o.cert_pem = leaf.cert_pem;
    o.key_pem = leaf.key_pem;
    o.client_ca_pem = ca_.cert_pem;
    o.clock = &clock_;
    auto s = EtcdServer::Start(store_.get(), o);
    ASSERT_TRUE(s.ok()) << s.status().message();
    server_ = std::move(*s);
  }
  void TearDown() override {
    server_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  pki::KeyPair Client(const pki::KeyPair& ca, std::optional<std::chrono::system_clock::time_point> not_before,
                      int days, bool client_usage = true) {
    pki::CertSpec c;
    c.common_name = "etcdctl";
    c.client = client_usage;
    c.server = !client_usage;
    c.not_before = not_before;
    c.days = days;
    return pki::Issue(ca, c).value();
  }

  // A Range presenting `client` (none when empty).
  grpc::Status Range(const pki::KeyPair& client) { return kite::testing::EtcdTlsRange(server_->port(), ca_.cert_pem, client); }

  std::string dir_;
  std::unique_ptr<Store> store_;
  kite::testing::FakeClock clock_;  // the server's: judges client certificates
  std::unique_ptr<EtcdServer> server_;
  pki::KeyPair ca_;
};

TEST_F(EtcdTlsTest, AValidClientCertificateIsServed) {
  auto st = Range(Client(ca_, std::nullopt, 365));
  EXPECT_TRUE(st.ok()) << st.error_message();
}

TEST_F(EtcdTlsTest, ClientCertificatesKiteDoesNotTrustAreRefused) {
  const auto now = Clock::Real()->Now();
  EXPECT_FALSE(Range(Client(ca_, now - days(2), 1)).ok());      // expired yesterday
  EXPECT_FALSE(Range(Client(ca_, now + days(365), 30)).ok());   // not valid yet
  auto stranger = pki::CreateCA("stranger").value();
  EXPECT_FALSE(Range(Client(stranger, std::nullopt, 365)).ok());             // another CA
  EXPECT_FALSE(Range(Client(ca_, std::nullopt, 365, /*client_usage=*/false)).ok());  // serverAuth only
  EXPECT_FALSE(Range(pki::KeyPair{}).ok());                                  // none
  EXPECT_TRUE(Range(Client(ca_, std::nullopt, 365)).ok());
}

// Valid by the system's time, expired by kite's clock: refused.
TEST_F(EtcdTlsTest, ExpiredByKitesClockIsRefused) {
  const auto cert = Client(ca_, std::nullopt, 30);
  ASSERT_TRUE(Range(cert).ok());
  clock_.SetWall(Clock::Real()->Now() + days(60));
  auto st = Range(cert);
  EXPECT_FALSE(st.ok());
  EXPECT_EQ(st.error_code(), grpc::StatusCode::UNAVAILABLE) << st.error_message();  // the connection is closed
}

// Not yet valid by the system's time (what OpenSSL's own check would refuse), valid by kite's
// clock: served — the clock that decides is kite's.
TEST_F(EtcdTlsTest, ValidByKitesClockIsServedWhateverTheSystemTimeSays) {
  const auto now = Clock::Real()->Now();
  const auto cert = Client(ca_, now + days(365), 30);
  EXPECT_FALSE(Range(cert).ok());
  clock_.SetWall(now + days(370));
  auto st = Range(cert);
  EXPECT_TRUE(st.ok()) << st.error_message();
  // Still refused by kite's clock: another CA, no certificate, a server's certificate.
  auto stranger = pki::CreateCA("stranger").value();
  EXPECT_FALSE(Range(Client(stranger, now + days(365), 30)).ok());
  EXPECT_FALSE(Range(pki::KeyPair{}).ok());
  EXPECT_FALSE(Range(Client(ca_, now + days(365), 30, /*client_usage=*/false)).ok());
}

}  // namespace
}  // namespace kite::datastore
