// The probe and hook actions against real sockets on 127.0.0.1 (a small HTTP server in the
// test) and the fake runtime's exec: status codes 200–399 pass, others fail with upstream's
// message; headers are sent; ports by name; a refused connection says so.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <thread>

#include <grpcpp/generic/async_generic_service.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/server.h>
#include <grpcpp/server_builder.h>

#include "agent/hollow/hollow_runtime.h"
#include "agent/kubelet/probe_handlers.h"
#include "base/pki.h"

namespace kite::kubelet {
namespace {

namespace json = boost::json;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// Answers each request by its path: /ok 200, /moved 302, /bad 500, /header 200 only with
// "X-Probe: yes" (else 400). One connection at a time, until destroyed.
// With `tls`, HTTPS with a self-signed certificate (the prober must not verify it).
class TinyHttpServer {
 public:
  explicit TinyHttpServer(bool tls = false)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)), tls_(tls) {
    port_ = acceptor_.local_endpoint().port();
    if (tls_) {
      auto kp = pki::CreateCA("probe-test");
      EXPECT_TRUE(kp.ok());
      ctx_.use_certificate_chain(asio::buffer(kp->cert_pem));
      ctx_.use_private_key(asio::buffer(kp->key_pem), asio::ssl::context::pem);
    }
    thread_ = std::thread([this] { Serve(); });
  }
  ~TinyHttpServer() {
    stop_ = true;
    // A blocking accept does not return when the acceptor is closed from another thread: a
    // connection wakes it.
    asio::io_context io;
    tcp::socket wake(io);
    boost::system::error_code ec;
    wake.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(port_)), ec);
    thread_.join();
  }
  int port() const { return port_; }

 private:
  void Serve() {
    while (true) {
      boost::system::error_code ec;
      tcp::socket s(io_);
      acceptor_.accept(s, ec);
      if (ec || stop_) return;
      if (tls_) {
        asio::ssl::stream<tcp::socket> ss(std::move(s), ctx_);
        ss.handshake(asio::ssl::stream_base::server, ec);
        if (!ec) Answer(ss);
      } else {
        Answer(s);
      }
    }
  }
  template <typename Stream>
  void Answer(Stream& s) {
    {
      boost::system::error_code ec;
      boost::beast::flat_buffer buf;
      http::request<http::string_body> req;
      http::read(s, buf, req, ec);
      if (ec) return;
      http::response<http::string_body> res;
      const std::string target(req.target());
      res.result(target == "/ok" ? 200 : target == "/moved" ? 302 : target == "/bad" ? 500
                 : target == "/header" ? (req["X-Probe"] == "yes" ? 200 : 400) : 404);
      res.body() = "hello";
      res.prepare_payload();
      http::write(s, res, ec);
    }
  }
  asio::io_context io_;
  tcp::acceptor acceptor_;
  bool tls_;
  asio::ssl::context ctx_{asio::ssl::context::tls_server};
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

json::object HttpGet(int port, const std::string& path) {
  return json::object{{"httpGet", json::object{{"host", "127.0.0.1"}, {"port", port}, {"path", path}}}};
}

TEST(ProbeHandlersTest, HttpGet) {
  TinyHttpServer server;
  HandlerTarget t;
  EXPECT_EQ(RunHandler(HttpGet(server.port(), "/ok"), t, 1s).outcome, ProbeOutcome::kSuccess);
  EXPECT_EQ(RunHandler(HttpGet(server.port(), "/moved"), t, 1s).outcome, ProbeOutcome::kSuccess);
  ProbeResult bad = RunHandler(HttpGet(server.port(), "/bad"), t, 1s);
  EXPECT_EQ(bad.outcome, ProbeOutcome::kFailure);
  EXPECT_EQ(bad.output, "HTTP probe failed with statuscode: 500");
  EXPECT_EQ(RunHandler(HttpGet(server.port(), "/header"), t, 1s).outcome, ProbeOutcome::kFailure);
  json::object with_header = HttpGet(server.port(), "/header");
  with_header["httpGet"].as_object()["httpHeaders"] = json::array{json::object{{"name", "X-Probe"}, {"value", "yes"}}};
  EXPECT_EQ(RunHandler(with_header, t, 1s).outcome, ProbeOutcome::kSuccess);
  // The port by the container's name for it; the host by default the pod's IP.
  json::object container{{"name", "c"}, {"ports", json::array{json::object{{"name", "http"}, {"containerPort", server.port()}}}}};
  t.container = &container;
  t.pod_ip = "127.0.0.1";
  json::object named{{"httpGet", json::object{{"port", "http"}, {"path", "/ok"}}}};
  EXPECT_EQ(RunHandler(named, t, 1s).outcome, ProbeOutcome::kSuccess);
}

TEST(ProbeHandlersTest, HttpsWithoutVerification) {
  TinyHttpServer server(/*tls=*/true);
  HandlerTarget t;
  json::object probe = HttpGet(server.port(), "/ok");
  probe["httpGet"].as_object()["scheme"] = "HTTPS";
  EXPECT_EQ(RunHandler(probe, t, 2s).outcome, ProbeOutcome::kSuccess);
  probe["httpGet"].as_object()["path"] = "/bad";
  EXPECT_EQ(RunHandler(probe, t, 2s).output, "HTTP probe failed with statuscode: 500");
}

TEST(ProbeHandlersTest, TcpSocketAndRefusedConnections) {
  int closed_port = 0;
  {
    TinyHttpServer server;
    HandlerTarget t;
    t.pod_ip = "127.0.0.1";
    json::object tcp_probe{{"tcpSocket", json::object{{"port", server.port()}}}};
    EXPECT_EQ(RunHandler(tcp_probe, t, 1s).outcome, ProbeOutcome::kSuccess);
    closed_port = server.port();
  }
  HandlerTarget t;
  t.pod_ip = "127.0.0.1";
  ProbeResult r = RunHandler(json::object{{"tcpSocket", json::object{{"port", closed_port}}}}, t, 1s);
  EXPECT_EQ(r.outcome, ProbeOutcome::kFailure);
  EXPECT_EQ(r.output, "dial tcp 127.0.0.1:" + std::to_string(closed_port) + ": connect: connection refused");
  r = RunHandler(HttpGet(closed_port, "/ok"), t, 1s);
  EXPECT_EQ(r.outcome, ProbeOutcome::kFailure);
  EXPECT_EQ(r.output, "Get \"http://127.0.0.1:" + std::to_string(closed_port) + "/ok\": dial tcp 127.0.0.1:" +
                          std::to_string(closed_port) + ": connect: connection refused");
}

TEST(ProbeHandlersTest, ExecThroughTheRuntime) {
  hollow::HollowRuntime rt("10.64.0.0/24", nullptr);
  cri::PodSandboxConfig sb;
  sb.metadata = {"p", "u-1", "default", 0};
  auto sid = rt.RunPodSandbox(sb);
  ASSERT_TRUE(sid.ok());
  cri::ContainerConfig cc;
  cc.metadata.name = "c";
  auto id = rt.CreateContainer(*sid, cc, sb);
  ASSERT_TRUE(id.ok());
  ASSERT_TRUE(rt.StartContainer(*id).ok());
  HandlerTarget t{&rt, *id, "", nullptr};
  json::object exec{{"exec", json::object{{"command", json::array{"cat", "/tmp/healthy"}}}}};
  EXPECT_EQ(RunHandler(exec, t, 1s).outcome, ProbeOutcome::kSuccess);
  rt.SetExecResult("c", 1, "cat: /tmp/healthy: No such file or directory\n");
  ProbeResult r = RunHandler(exec, t, 1s);
  EXPECT_EQ(r.outcome, ProbeOutcome::kFailure);
  EXPECT_EQ(r.output, "cat: /tmp/healthy: No such file or directory\n");
  EXPECT_EQ(RunHandler(json::object{{"sleep", json::object{}}}, t, 1s).outcome, ProbeOutcome::kFailure);
}

TEST(ProbeHandlersTest, GrpcHealthCheck) {
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder b;
  grpc::CallbackGenericService unused;  // a server needs a service besides the health one
  b.RegisterCallbackGenericService(&unused);
  int port = 0;
  b.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  std::unique_ptr<grpc::Server> server = b.BuildAndStart();
  ASSERT_TRUE(server);
  ASSERT_GT(port, 0);
  HandlerTarget t;
  t.pod_ip = "127.0.0.1";
  json::object probe{{"grpc", json::object{{"port", port}}}};
  EXPECT_EQ(RunHandler(probe, t, 2s).outcome, ProbeOutcome::kSuccess);
  server->GetHealthCheckService()->SetServingStatus("", false);
  ProbeResult r = RunHandler(probe, t, 2s);
  EXPECT_EQ(r.outcome, ProbeOutcome::kFailure);
  EXPECT_EQ(r.output, "service unhealthy (responded with \"NOT_SERVING\")");
  // A named service the server does not know.
  json::object named{{"grpc", json::object{{"port", port}, {"service", "other"}}}};
  EXPECT_EQ(RunHandler(named, t, 2s).outcome, ProbeOutcome::kFailure);
  server->Shutdown();
  r = RunHandler(probe, t, 1s);
  EXPECT_EQ(r.outcome, ProbeOutcome::kFailure);
}

}  // namespace
}  // namespace kite::kubelet
