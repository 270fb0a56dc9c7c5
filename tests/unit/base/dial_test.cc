// base/dial.h: Go's wording of dial failures, and DialTls against a real TLS server on loopback.
#include "base/dial.h"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <string>

#include "tests/unit/base/tls_round_trip.h"

namespace kite {
namespace {

namespace asio = boost::asio;

TEST(Dial, JoinHostPortBracketsIpv6) {
  EXPECT_EQ(JoinHostPort("10.42.0.7", 443), "10.42.0.7:443");
  EXPECT_EQ(JoinHostPort("fd00::7", 10250), "[fd00::7]:10250");
}

TEST(Dial, ErrorsInGoWords) {
  EXPECT_EQ(DialError("10.0.0.1:443", asio::error::connection_refused), "dial tcp 10.0.0.1:443: connect: connection refused");
  EXPECT_EQ(DialError("10.0.0.1:443", asio::error::timed_out), "dial tcp 10.0.0.1:443: i/o timeout");
  EXPECT_EQ(DialError("10.0.0.1:443", boost::beast::error::timeout), "dial tcp 10.0.0.1:443: i/o timeout");
  EXPECT_EQ(DialError("10.0.0.1:443", asio::error::network_unreachable),
            "dial tcp 10.0.0.1:443: connect: network is unreachable");
}

// DialTls(host, port, name) on a fresh io_context with a 10 s deadline: its status.
Status Dial(const std::shared_ptr<asio::ssl::context>& tls, const std::string& host, int port, const std::string& name) {
  asio::io_context io;
  Status out = Status(Code::kInternal, "not run");
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        TlsStream s(io, *tls);
        boost::beast::get_lowest_layer(s).expires_after(std::chrono::seconds(10));
        out = co_await DialTls(s, host, port, name);
      },
      asio::detached);
  io.run();
  return out;
}

class DialTlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    peers_ = testing::MakeTlsPeers(std::nullopt, 1);
    server_ = std::make_unique<HttpsServer>([](HttpsRequest&, HttpsResponder& res) -> asio::awaitable<void> {
      const std::string body = "ok";
      co_await res.Send(200, "text/plain", body);
    });
    HttpsServerOptions o;
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.cert_pem = peers_.server.cert_pem;
    o.key_pem = peers_.server.key_pem;
    o.threads = 1;
    ASSERT_TRUE(server_->Start(o).ok());
    Kubeconfig kc;
    kc.ca_pem = peers_.ca.cert_pem;
    tls_ = MakeTlsContext(kc).value();
  }
  void TearDown() override { server_->Stop(); }

  testing::TlsPeers peers_;
  std::unique_ptr<HttpsServer> server_;
  std::shared_ptr<asio::ssl::context> tls_;
};

TEST_F(DialTlsTest, ConnectsAndChecksTheNameItIsGiven) {
  EXPECT_TRUE(Dial(tls_, "127.0.0.1", server_->port(), "127.0.0.1").ok());
  // The certificate names 127.0.0.1 only: another name fails the handshake, in Go's "tls: ".
  Status wrong = Dial(tls_, "127.0.0.1", server_->port(), "web.default.svc");
  EXPECT_EQ(wrong.code(), Code::kUnavailable);
  EXPECT_EQ(wrong.message().rfind("tls: ", 0), 0u) << wrong.message();
}

TEST_F(DialTlsTest, RefusedAndUnknownInGoWords) {
  // A port nothing listens on: one the kernel gave and took back.
  int port = 0;
  {
    asio::io_context io;
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    port = a.local_endpoint().port();
  }
  EXPECT_EQ(Dial(tls_, "127.0.0.1", port, "127.0.0.1").message(),
            "dial tcp 127.0.0.1:" + std::to_string(port) + ": connect: connection refused");
  Status unknown = Dial(tls_, "no-such-host.invalid", 443, "no-such-host.invalid");
  EXPECT_EQ(unknown.code(), Code::kUnavailable);
  EXPECT_EQ(unknown.message().rfind("dial tcp: lookup no-such-host.invalid: ", 0), 0u) << unknown.message();
}

}  // namespace
}  // namespace kite
