// HttpsServer against a real client (curl): TLS, client-certificate identity, streaming, limits.
#include "base/https_server.h"

#include <gtest/gtest.h>

#include "tests/unit/shell.h"

#include <array>
#include <cstdio>
#include <fstream>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <vector>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include <thread>

#include "base/byte_stream.h"
#include "base/pki.h"
#include "base/tls_socket.h"
#include "base/upgrade_proxy.h"

namespace kite {
namespace {

using kite::testing::Shell;

class HttpsServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/https-test-" + std::to_string(::getpid());
    std::system(("mkdir -p " + dir_).c_str());
    auto ca = pki::CreateCA("test-server-ca");
    auto client_ca = pki::CreateCA("test-client-ca");
    pki::CertSpec serving;
    serving.common_name = "kube-apiserver";
    serving.dns_names = {"localhost"};
    serving.ip_addresses = {"127.0.0.1"};
    serving.server = true;
    auto leaf = pki::Issue(*ca, serving);
    pki::CertSpec admin;
    admin.common_name = "system:admin";
    admin.organizations = {"system:masters"};
    admin.client = true;
    auto admin_cert = pki::Issue(*client_ca, admin);
    auto stranger_ca = pki::CreateCA("stranger");
    auto stranger = pki::Issue(*stranger_ca, admin);
    std::ofstream(dir_ + "/ca.pem") << ca->cert_pem;
    ca_pem_ = ca->cert_pem;
    std::ofstream(dir_ + "/admin.pem") << admin_cert->cert_pem;
    std::ofstream(dir_ + "/admin.key") << admin_cert->key_pem;
    std::ofstream(dir_ + "/stranger.pem") << stranger->cert_pem;
    std::ofstream(dir_ + "/stranger.key") << stranger->key_pem;

    server_ = std::make_unique<HttpsServer>([this](HttpsRequest& req, HttpsResponder& res) -> boost::asio::awaitable<void> {
      if (req.path == "/whoami") {
        std::string who = req.peer ? req.peer->common_name + "/" + (req.peer->organizations.empty() ? "" : req.peer->organizations[0])
                                   : "anonymous";
        co_await res.Send(200, "text/plain", who + " q=" + req.Query("a b") + " path=" + req.path);
      } else if (req.path == "/stream") {
        co_await res.BeginStream(200, "application/json");
        for (int i = 0; i < 3; ++i) co_await res.WriteChunk("{\"n\":" + std::to_string(i) + "}\n");
        co_await res.EndStream();
      } else if (req.path == "/echo") {
        co_await res.Send(200, "text/plain", std::to_string(req.body.size()));
      } else if (req.path == "/tunnel") {
        // An upgrade relayed to a plain TCP server (as the kubelet relays to the stream server).
        HttpsResponder::Headers switched{{"Connection", "Upgrade"}, {"Upgrade", "test"}};  // named: g++ 12 and co_await
        auto client = co_await AcceptUpgrade(res, 101, std::move(switched));
        if (!client) co_return;
        auto executor = co_await boost::asio::this_coro::executor;
        boost::beast::tcp_stream up(executor);
        const boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address("127.0.0.1"), echo_port_);
        auto [cec] = co_await up.async_connect(ep, boost::asio::as_tuple(boost::asio::use_awaitable));
        if (cec) co_return;
        StreamOf<boost::beast::tcp_stream> upstream(up);
        co_await Relay(*client, upstream);
      } else if (req.path == "/big") {
        // 5 MB of a known pattern: many records, writes the kernel cannot take at once.
        std::string body;
        for (int i = 0; body.size() < 5'000'000; ++i) body += std::to_string(i) + "\n";
        co_await res.Send(200, "text/plain", std::move(body));
      } else {
        co_await res.Send(404, "text/plain", "nope");
      }
    });
    HttpsServerOptions o;
    o.bind_address = "127.0.0.1";
    o.port = 0;
    o.cert_pem = leaf->cert_pem;
    o.key_pem = leaf->key_pem;
    o.client_ca_pem = client_ca->cert_pem;
    o.max_body_bytes = 1024;
    o.read_header_timeout = std::chrono::seconds(2);
    o.threads = 2;
    ASSERT_TRUE(server_->Start(o).ok());
    base_ = "https://127.0.0.1:" + std::to_string(server_->port());
    curl_ = "curl -sS --max-time 10 --cacert " + dir_ + "/ca.pem ";
  }
  void TearDown() override {
    server_.reset();
    std::system(("rm -rf " + dir_).c_str());
  }
  std::string dir_, base_, curl_, ca_pem_;
  unsigned short echo_port_ = 0;  // /tunnel's upstream
  std::unique_ptr<HttpsServer> server_;
};

TEST_F(HttpsServerTest, ClientCertificateIsTheIdentity) {
  EXPECT_EQ(Shell(curl_ + "--cert " + dir_ + "/admin.pem --key " + dir_ + "/admin.key '" + base_ + "/whoami?a+b=c%2Fd'"),
            "system:admin/system:masters q=c/d path=/whoami");
  EXPECT_EQ(Shell(curl_ + "'" + base_ + "/whoami'"), "anonymous q= path=/whoami");
  // A certificate from another CA does not get through the handshake.
  std::string out = Shell(curl_ + "--cert " + dir_ + "/stranger.pem --key " + dir_ + "/stranger.key '" + base_ +
                        "/whoami' 2>&1; echo rc=$?");
  EXPECT_EQ(out.find("system:admin"), std::string::npos) << out;
  EXPECT_NE(out.find("rc="), std::string::npos);
}

TEST_F(HttpsServerTest, StreamsChunksAndKeepsConnectionsAlive) {
  EXPECT_EQ(Shell(curl_ + "'" + base_ + "/stream'"), "{\"n\":0}\n{\"n\":1}\n{\"n\":2}\n");
  // Two requests on one connection: curl reports it re-used the connection.
  std::string out = Shell(curl_ + "-v '" + base_ + "/whoami' '" + base_ + "/whoami' 2>&1");
  EXPECT_NE(out.find("Re-using existing connection"), std::string::npos) << out;
}

TEST_F(HttpsServerTest, OversizedBodiesGet413InStatusFormat) {
  std::string out = Shell("head -c 4096 /dev/zero | " + curl_ + "-w ' %{http_code}' -X POST --data-binary @- '" + base_ + "/echo'");
  EXPECT_NE(out.find("\"reason\":\"RequestEntityTooLarge\""), std::string::npos) << out;
  EXPECT_NE(out.find(" 413"), std::string::npos) << out;
  EXPECT_EQ(Shell("head -c 100 /dev/zero | " + curl_ + "-X POST --data-binary @- '" + base_ + "/echo'"), "100");
}

TEST_F(HttpsServerTest, LargeResponsesArriveIntactOverTls12And13) {
  const std::string want = Shell("seq 0 800000 | head -c 5000000 | md5sum");
  for (const char* version : {"--tlsv1.3", "--tlsv1.2 --tls-max 1.2"}) {
    EXPECT_EQ(Shell(curl_ + version + " '" + base_ + "/big' | head -c 5000000 | md5sum"), want) << version;
  }
  // Three on one connection, so the record buffers are reused between requests.
  std::string three = Shell(curl_ + "'" + base_ + "/big' '" + base_ + "/big' '" + base_ + "/big' | wc -c");
  EXPECT_EQ(std::stoll(three), 3 * std::stoll(Shell(curl_ + "'" + base_ + "/big' | wc -c")));
}

// TlsSocket's client side (the API server's connections to kubelets): the peer's name is checked,
// a read takes several records at once, and the 5 MB arrive intact.
TEST_F(HttpsServerTest, TlsSocketClientChecksTheNameAndReadsManyRecordsAtOnce) {
  namespace asio = boost::asio;
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.add_certificate_authority(asio::buffer(ca_pem_));
  ctx.set_verify_mode(asio::ssl::verify_peer);
  struct Got {
    bool handshake = false;
    std::string bytes;
    size_t biggest_read = 0;
  };
  auto fetch = [&](const std::string& name) {
    asio::io_context io;
    Got got;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          asio::ip::tcp::socket socket(io);
          socket.open(asio::ip::tcp::v4());
          TlsSocket s(std::move(socket), ctx.native_handle(), asio::ssl::stream_base::client);
          EXPECT_TRUE(s.set_peer_name(name));
          s.set_read_buffer_size(80 * 1024);
          const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server_->port()));
          auto [cec] = co_await s.socket().async_connect(ep, asio::as_tuple(asio::use_awaitable));
          if (cec) co_return;
          auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
          if (hec) co_return;
          got.handshake = true;
          const std::string req = "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
          auto out = asio::buffer(req);
          auto [wec, wn] = co_await asio::async_write(s, out, asio::as_tuple(asio::use_awaitable));
          if (wec) co_return;
          std::vector<char> buf(64 * 1024);
          for (;;) {
            auto in = asio::buffer(buf);
            auto [rec, n] = co_await s.async_read_some(in, asio::as_tuple(asio::use_awaitable));
            if (rec) break;
            got.bytes.append(buf.data(), n);
            got.biggest_read = std::max(got.biggest_read, n);
          }
        },
        asio::detached);
    io.run();
    return got;
  };
  EXPECT_FALSE(fetch("10.9.9.9").handshake) << "a certificate for another address was accepted";
  Got got = fetch("127.0.0.1");
  ASSERT_TRUE(got.handshake);
  std::string want;
  for (int i = 0; want.size() < 5'000'000; ++i) want += std::to_string(i) + "\n";
  const size_t body = got.bytes.find("\r\n\r\n");
  ASSERT_NE(body, std::string::npos);
  EXPECT_TRUE(got.bytes.compare(body + 4, std::string::npos, want) == 0) << "the body differs";
  EXPECT_GT(got.biggest_read, size_t{16 * 1024}) << "every read returned one record at most";
}

// An upgraded connection relayed to a TCP server (Relay over StreamOf<TlsSocket> and
// StreamOf<tcp_stream>, whose reads and writes mostly complete without waiting): 8 MiB sent
// and echoed back at once come back intact and in order, and the client's close ends the relay
// (the upstream sees the end of its stream).
TEST_F(HttpsServerTest, RelayedUpgradeCarriesBulkBytesBothWaysIntact) {
  namespace asio = boost::asio;
  asio::io_context echo_io;
  asio::ip::tcp::acceptor acceptor(echo_io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  echo_port_ = acceptor.local_endpoint().port();
  bool upstream_saw_end = false;
  std::thread echo([&] {
    boost::system::error_code ec;
    asio::ip::tcp::socket conn = acceptor.accept(ec);
    if (ec) return;
    std::vector<char> buf(100 * 1000);  // not a multiple of the relay's chunks
    for (;;) {
      const size_t n = conn.read_some(asio::buffer(buf), ec);
      if (ec) break;
      asio::write(conn, asio::buffer(buf.data(), n), ec);
      if (ec) break;
    }
    upstream_saw_end = ec == asio::error::eof || ec == asio::error::connection_reset;
  });
  std::string pattern;
  for (int i = 0; pattern.size() < 8 * 1024 * 1024; ++i) pattern += std::to_string(i) + ",";
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  ctx.add_certificate_authority(asio::buffer(ca_pem_));
  ctx.set_verify_mode(asio::ssl::verify_peer);
  asio::io_context io;
  std::string answer, echoed;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        asio::ip::tcp::socket socket(io);
        socket.open(asio::ip::tcp::v4());
        TlsSocket s(std::move(socket), ctx.native_handle(), asio::ssl::stream_base::client);
        const asio::ip::tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(server_->port()));
        auto [cec] = co_await s.socket().async_connect(ep, asio::as_tuple(asio::use_awaitable));
        if (cec) co_return;
        auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
        if (hec) co_return;
        const std::string req = "GET /tunnel HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: test\r\n\r\n";
        auto out = asio::buffer(req);
        auto [wec, wn] = co_await asio::async_write(s, out, asio::as_tuple(asio::use_awaitable));
        if (wec) co_return;
        std::vector<char> buf(64 * 1024);
        while (answer.find("\r\n\r\n") == std::string::npos) {
          auto in = asio::buffer(buf);
          auto [rec, n] = co_await s.async_read_some(in, asio::as_tuple(asio::use_awaitable));
          if (rec) co_return;
          answer.append(buf.data(), n);
        }
        echoed = answer.substr(answer.find("\r\n\r\n") + 4);
        auto send_all = [&]() -> asio::awaitable<void> {
          auto all = asio::buffer(pattern);
          co_await asio::async_write(s, all, asio::as_tuple(asio::use_awaitable));
        };
        auto read_back = [&]() -> asio::awaitable<void> {
          while (echoed.size() < pattern.size()) {
            auto in = asio::buffer(buf);
            auto [rec, n] = co_await s.async_read_some(in, asio::as_tuple(asio::use_awaitable));
            if (rec) co_return;
            echoed.append(buf.data(), n);
          }
        };
        using namespace asio::experimental::awaitable_operators;
        co_await (send_all() && read_back());
        s.close();
      },
      asio::detached);
  io.run();
  echo.join();
  EXPECT_EQ(answer.rfind("HTTP/1.1 101", 0), 0u) << answer.substr(0, 200);
  EXPECT_EQ(echoed.size(), pattern.size());
  EXPECT_TRUE(echoed == pattern) << "the echoed bytes differ";
  EXPECT_TRUE(upstream_saw_end) << "the relay did not end when the client left";
}

TEST_F(HttpsServerTest, OffersOnlyAeadSuitesOverTls12) {
  std::string cbc = Shell("echo | openssl s_client -connect 127.0.0.1:" + std::to_string(server_->port()) +
                          " -tls1_2 -cipher ECDHE-RSA-AES128-SHA 2>&1 | grep -c 'Cipher is ECDHE' || true");
  EXPECT_EQ(cbc, "0\n");
  std::string gcm = Shell("echo | openssl s_client -connect 127.0.0.1:" + std::to_string(server_->port()) +
                          " -tls1_2 2>&1 | grep -o 'Cipher is [A-Z0-9-]*'");
  EXPECT_NE(gcm.find("GCM"), std::string::npos) << gcm;
}

TEST_F(HttpsServerTest, SilentConnectionIsClosedAfterTheHeaderTimeout) {
  // A TLS connection that never sends a request: closed by the server within the 2 s header
  // deadline (s_client exits when the server closes; the 20 s bound only guards the test).
  std::string out = Shell("bash -c 'timeout 30 openssl s_client -quiet -connect 127.0.0.1:" +
                          std::to_string(server_->port()) + " < <(sleep 20) >/dev/null 2>&1; echo rc=$?'");
  EXPECT_NE(out, "rc=124\n") << "the server kept the connection open";
}

}  // namespace
}  // namespace kite
