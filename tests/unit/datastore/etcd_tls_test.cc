// The etcd endpoint's TLS: a client certificate signed by its CA, valid now and meant for a
// client is required (gRPC's own OpenSSL context verifies it; on armhf after 2038 that check
// still reads OpenSSL's 32-bit time(): docs/architecture/packaging.md, "Times past 2038").
#include <grpc/support/time.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/pki.h"
#include "datastore/etcdserver/etcd_server.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"
#include "tests/unit/datastore/test_util.h"

namespace kite::datastore {
namespace {

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
    EtcdServerOptions o;
    o.listen = "127.0.0.1:0";
    o.cert_pem = leaf.cert_pem;
    o.key_pem = leaf.key_pem;
    o.client_ca_pem = ca_.cert_pem;
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

  // A Range over a fresh channel presenting `client` (none when empty).
  grpc::Status Range(const pki::KeyPair& client) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ca_.cert_pem;
    ssl.pem_private_key = client.key_pem;
    ssl.pem_cert_chain = client.cert_pem;
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server_->port()), grpc::SslCredentials(ssl));
    auto kv = etcdserverpb::KV::NewStub(channel);
    etcdserverpb::RangeRequest req;
    req.set_key("a");
    etcdserverpb::RangeResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(10, GPR_TIMESPAN)));
    return kv->Range(&ctx, req, &resp);
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<EtcdServer> server_;
  pki::KeyPair ca_;
};

TEST_F(EtcdTlsTest, AValidClientCertificateIsServed) {
  auto st = Range(Client(ca_, std::nullopt, 365));
  EXPECT_TRUE(st.ok()) << st.error_message();
}

TEST_F(EtcdTlsTest, ClientCertificatesKiteDoesNotTrustAreRefused) {
  const auto now = Clock::Real()->Now();
  EXPECT_FALSE(Range(Client(ca_, now - std::chrono::days(2), 1)).ok());      // expired yesterday
  EXPECT_FALSE(Range(Client(ca_, now + std::chrono::days(365), 30)).ok());   // not valid yet
  auto stranger = pki::CreateCA("stranger").value();
  EXPECT_FALSE(Range(Client(stranger, std::nullopt, 365)).ok());             // another CA
  EXPECT_FALSE(Range(Client(ca_, std::nullopt, 365, /*client_usage=*/false)).ok());  // serverAuth only
  EXPECT_FALSE(Range(pki::KeyPair{}).ok());                                  // none
  EXPECT_TRUE(Range(Client(ca_, std::nullopt, 365)).ok());
}

}  // namespace
}  // namespace kite::datastore
