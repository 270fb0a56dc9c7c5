// The service proxy's health check listeners (agent/proxy/service_health.h): a LoadBalancer
// Service with externalTrafficPolicy Local and a healthCheckNodePort answers on that port with
// upstream's status, headers and body; the count follows this node's ready endpoints; a Service
// that no longer wants one closes it.
#include "agent/proxy/service_health.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <gtest/gtest.h>

#include <atomic>

namespace kite::proxy {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A port nothing listens on now (the kernel's pick, released).
int FreePort() {
  asio::io_context io;
  tcp::acceptor a(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  return a.local_endpoint().port();
}

struct Answer {
  int status = 0;
  std::string weight, nosniff, content_type, body;
};

Answer Get(int port, const std::string& path) {
  asio::io_context io;
  tcp::socket s(io);
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::empty_body> req{http::verb::get, path, 11};
  req.set(http::field::host, "localhost");
  http::write(s, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  return {static_cast<int>(res.result_int()), std::string(res["X-Load-Balancing-Endpoint-Weight"]),
          std::string(res["X-Content-Type-Options"]), std::string(res[http::field::content_type]), res.body()};
}

std::vector<ServicePort> Ports(int hc, std::vector<std::pair<std::string, bool>> endpoints /* ip, local */) {
  ServicePort http_port;
  http_port.ns = "default";
  http_port.name = "web";
  http_port.port_name = "http";
  http_port.port = 80;
  http_port.external_local = true;
  http_port.health_check_node_port = hc;
  for (const auto& [ip, local] : endpoints) {
    Endpoint e;
    e.ip = ip;
    e.port = 8080;
    e.local = local;
    http_port.endpoints.push_back(e);
  }
  ServicePort https_port = http_port;  // the same pods on a second port: counted once
  https_port.port_name = "https";
  https_port.port = 443;
  return {http_port, https_port};
}

TEST(ServiceHealthTest, AnswersAsUpstreamAndFollowsTheEndpoints) {
  std::atomic<bool> healthy{true};
  ServiceHealthServers servers([&] { return healthy.load(); }, "127.0.0.1");
  const int port = FreePort();
  servers.Set("default/web", Ports(port, {{"10.42.0.5", true}, {"10.42.1.6", false}}));
  ASSERT_EQ(servers.Port("default/web"), port);

  Answer a = Get(port, "/");
  EXPECT_EQ(a.status, 200);
  EXPECT_EQ(a.weight, "1");
  EXPECT_EQ(a.nosniff, "nosniff");
  EXPECT_EQ(a.content_type, "application/json");
  boost::json::value body = boost::json::parse(a.body);
  EXPECT_EQ(body.at("service").at("namespace").as_string(), "default");
  EXPECT_EQ(body.at("service").at("name").as_string(), "web");
  EXPECT_EQ(body.at("localEndpoints").as_int64(), 1);
  EXPECT_EQ(body.at("serviceProxyHealthy").as_bool(), true);
  EXPECT_EQ(Get(port, "/any/path?x=1").status, 200);  // every path

  // Two local pods; then the proxy itself unhealthy: 503 with the count kept.
  servers.Set("default/web", Ports(port, {{"10.42.0.5", true}, {"10.42.0.7", true}}));
  EXPECT_EQ(Get(port, "/").weight, "2");
  healthy = false;
  a = Get(port, "/");
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(boost::json::parse(a.body).at("serviceProxyHealthy").as_bool(), false);
  healthy = true;

  // No local endpoint: 503, weight 0.
  servers.Set("default/web", Ports(port, {{"10.42.1.6", false}}));
  a = Get(port, "/");
  EXPECT_EQ(a.status, 503);
  EXPECT_EQ(a.weight, "0");
  EXPECT_EQ(boost::json::parse(a.body).at("localEndpoints").as_int64(), 0);

  // A not-ready local endpoint does not count.
  auto ports = Ports(port, {{"10.42.0.5", true}});
  for (auto& p : ports) p.endpoints[0].ready = false;
  servers.Set("default/web", ports);
  EXPECT_EQ(Get(port, "/").status, 503);

  // externalTrafficPolicy back to Cluster (no health check node port): closed.
  servers.Set("default/web", Ports(0, {{"10.42.0.5", true}}));
  EXPECT_EQ(servers.Port("default/web"), 0);
  asio::io_context io;
  tcp::socket s(io);
  boost::system::error_code ec;
  s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
  EXPECT_TRUE(ec) << "port " << port << " still listening";
}

TEST(ServiceHealthTest, FullSyncClosesServicesThatAreGoneAndMovesPorts) {
  ServiceHealthServers servers([] { return true; }, "127.0.0.1");
  const int a = FreePort();
  servers.Set("default/web", Ports(a, {{"10.42.0.5", true}}));
  ASSERT_EQ(servers.Port("default/web"), a);
  // The port changed (the Service was recreated): the listener moves.
  const int b = FreePort();
  servers.SetAll(ServiceMap{{"default/web", Ports(b, {{"10.42.0.5", true}})}});
  EXPECT_EQ(servers.Port("default/web"), b);
  EXPECT_EQ(Get(b, "/healthz").status, 200);
  servers.SetAll(ServiceMap{});
  EXPECT_EQ(servers.Port("default/web"), 0);
}

TEST(ServiceHealthTest, PortInUseIsRetriedAtTheNextChange) {
  asio::io_context io;
  tcp::acceptor taken(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const int port = taken.local_endpoint().port();
  ServiceHealthServers servers([] { return true; }, "127.0.0.1");
  servers.Set("default/web", Ports(port, {{"10.42.0.5", true}}));
  EXPECT_EQ(servers.Port("default/web"), 0);
  taken.close();
  servers.Set("default/web", Ports(port, {{"10.42.0.5", true}}));
  EXPECT_EQ(servers.Port("default/web"), port);
}

TEST(ServiceHealthTest, BuildServicePortsReadsTheHealthCheckNodePort) {
  auto svc = boost::json::parse(R"({"metadata":{"namespace":"default","name":"web"},
    "spec":{"type":"LoadBalancer","clusterIP":"10.43.0.20","externalTrafficPolicy":"Local",
            "healthCheckNodePort":31234,"ports":[{"port":80,"nodePort":30080}]}})").as_object();
  EXPECT_EQ(HealthCheckNodePort(BuildServicePorts(svc, {}, "n1")), 31234);
  svc["spec"].as_object()["externalTrafficPolicy"] = "Cluster";
  EXPECT_EQ(HealthCheckNodePort(BuildServicePorts(svc, {}, "n1")), 0);
  svc["spec"].as_object()["externalTrafficPolicy"] = "Local";
  svc["spec"].as_object()["type"] = "NodePort";
  EXPECT_EQ(HealthCheckNodePort(BuildServicePorts(svc, {}, "n1")), 0);
}

}  // namespace
}  // namespace kite::proxy
