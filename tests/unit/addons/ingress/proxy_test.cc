// The ingress proxy on loopback sockets, in front of a backend of the test's: routing by Host
// and path, what the backend sees (headers, X-Forwarded-*), bodies streamed both ways with their
// framing, keep-alive, answers of its own (404, 503, 502, 400, 431), HEAD, an answer delimited
// by the backend's close, 100-continue, a WebSocket-style upgrade relayed as bytes, and the TLS
// entry point: the certificate by SNI from the Ingresses' Secrets, the default one otherwise.
#include "addons/ingress/proxy.h"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "base/encoding.h"
#include "base/metrics.h"
#include "base/pki.h"

namespace kite::ingress {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A backend on 127.0.0.1: answers each connection's requests on a thread of its own, by path.
// Its connections are shut down and their threads joined before it goes (they use its io_).
class Backend {
 public:
  Backend() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    thread_ = std::thread([this] {
      for (;;) {
        auto s = std::make_shared<tcp::socket>(io_);
        boost::system::error_code ec;
        acceptor_.accept(*s, ec);
        if (ec || stopping_) return;
        ++connections;
        std::lock_guard<std::mutex> lock(mu_);
        sockets_.push_back(s);
        threads_.emplace_back([s] { Serve(*s); });
      }
    });
  }
  ~Backend() {
    stopping_ = true;
    boost::system::error_code ec;
    tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);
    thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& s : sockets_) s->shutdown(tcp::socket::shutdown_both, ec);
    for (auto& t : threads_) t.join();
  }
  int port() const { return acceptor_.local_endpoint().port(); }
  std::atomic<int> connections{0};

 private:
  static void Serve(tcp::socket& s) {
    beast::flat_buffer buf;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      boost::system::error_code ec;
      http::read(s, buf, parser, ec);
      if (ec) return;
      auto req = parser.release();
      const std::string target(req.target());
      if (target == "/ws") {  // 101, then every byte back
        std::string head = "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
        asio::write(s, asio::buffer(head), ec);
        char c[4096];
        for (;;) {
          const size_t n = s.read_some(asio::buffer(c), ec);
          if (ec || !asio::write(s, asio::buffer(c, n), ec) || ec) return;
        }
      }
      if (target == "/eof") {  // no length: the body ends with the connection
        std::string raw = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end";
        asio::write(s, asio::buffer(raw), ec);
        s.shutdown(tcp::socket::shutdown_both, ec);
        return;
      }
      http::response<http::string_body> res{http::status::ok, 11};
      res.set("X-Backend", "yes");
      res.set(http::field::connection, "keep-alive, X-Hop");
      res.set("X-Hop", "must go");
      if (target == "/big") {
        res.body() = std::string(5 * 1024 * 1024, 'b');
      } else {  // echo: the request line, the headers, the body's size
        std::string out = std::string(req.method_string()) + " " + target + "\n";
        for (const auto& f : req) out += std::string(f.name_string()) + ": " + std::string(f.value()) + "\n";
        out += "body " + std::to_string(req.body().size()) + "\n";
        res.body() = out;
      }
      res.keep_alive(req.keep_alive());
      res.set("X-Hop", "must go");
      res.prepare_payload();
      http::write(s, res, ec);
      if (ec || !req.keep_alive()) return;
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stopping_{false};
  std::mutex mu_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;  // guarded by mu_
  std::vector<std::thread> threads_;                   // guarded by mu_
  std::thread thread_;
};

std::shared_ptr<const boost::json::object> Obj(const std::string& text) {
  return std::make_shared<const boost::json::object>(boost::json::parse(text).as_object());
}

class ProxyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ProxyOptions o;
    o.address = "127.0.0.1";
    o.port = 0;
    o.server_name = "ingress-pod";
    o.max_header_bytes = 8 * 1024;
    o.tls_port = 0;
    auto def = pki::CreateCA("default", 1);
    ASSERT_TRUE(def.ok());
    o.default_cert_pem = def->cert_pem;
    o.default_key_pem = def->key_pem;
    proxy_ = std::make_unique<Proxy>(io_, o);
    ASSERT_TRUE(proxy_->Start().ok());
    // Service "web" at 127.0.0.1:<backend>; "gone" at a port nothing listens on.
    tcp::acceptor probe(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const int dead = probe.local_endpoint().port();
    probe.close();
    const std::string svc = R"({"metadata":{"name":"web","namespace":"default"},"spec":{"clusterIP":"127.0.0.1","ports":[{"port":)" +
                            std::to_string(backend_.port()) + "}]}}";
    const std::string gone = R"({"metadata":{"name":"gone","namespace":"default"},"spec":{"clusterIP":"127.0.0.1","ports":[{"port":)" +
                             std::to_string(dead) + "}]}}";
    auto ing = Obj(R"({"metadata":{"name":"i","namespace":"default"},"spec":{"tls":[{"hosts":["app.test"],"secretName":"app-tls"}],
        "rules":[{"host":"app.test","http":{"paths":[
        {"path":"/","pathType":"Prefix","backend":{"service":{"name":"web","port":{"number":)" +
                   std::to_string(backend_.port()) + R"(}}}},
        {"path":"/down","pathType":"Prefix","backend":{"service":{"name":"gone","port":{"number":)" + std::to_string(dead) + R"(}}}},
        {"path":"/none","pathType":"Prefix","backend":{"service":{"name":"missing","port":{"number":80}}}}]}}]}})");
    auto cls = Obj(R"({"metadata":{"name":"traefik","annotations":{"ingressclass.kubernetes.io/is-default-class":"true"}},
                      "spec":{"controller":"kite.io/ingress"}})");
    auto table = RouteTable::Build(Options{}, {ing}, {cls}, {Obj(svc), Obj(gone)});
    proxy_->SetTable(table);
    // The Secret app-tls: a certificate for app.test issued by a CA of the test.
    ca_ = *pki::CreateCA("test ca", 1);
    pki::CertSpec spec;
    spec.common_name = "app.test";
    spec.dns_names = {"app.test"};
    spec.server = true;
    auto leaf = pki::Issue(ca_, spec);
    ASSERT_TRUE(leaf.ok());
    auto secret = Obj(R"({"metadata":{"name":"app-tls","namespace":"default","resourceVersion":"1"},"type":"kubernetes.io/tls",
        "data":{"tls.crt":")" + Base64Encode(leaf->cert_pem) + R"(","tls.key":")" + Base64Encode(leaf->key_pem) + R"("}})");
    proxy_->SetTls(certs_.Update(table, [&](const std::string& key) { return key == "default/app-tls" ? secret : nullptr; }));
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    proxy_->Stop();
    io_.stop();
    thread_.join();
  }

  tcp::socket Connect() {
    tcp::socket s(client_io_);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(proxy_->port())));
    return s;
  }
  // One request on `s`; the answer.
  static http::response<http::string_body> Exchange(tcp::socket& s, beast::flat_buffer& buf,
                                                    http::request<http::string_body> req) {
    req.prepare_payload();
    http::write(s, req);
    http::response_parser<http::string_body> p;
    p.body_limit(64 * 1024 * 1024);
    if (req.method() == http::verb::head) p.skip(true);
    http::read(s, buf, p);
    return p.release();
  }
  http::response<http::string_body> Get(const std::string& host, const std::string& target) {
    tcp::socket s = Connect();
    beast::flat_buffer buf;
    http::request<http::string_body> req{http::verb::get, target, 11};
    req.set(http::field::host, host);
    return Exchange(s, buf, req);
  }

  // The common name of the certificate the TLS entry point shows for `sni` ("" sends none),
  // and the body of a GET / on that connection.
  std::pair<std::string, std::string> TlsGet(const std::string& sni) {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    asio::ssl::stream<tcp::socket> s(client_io_, ctx);
    s.next_layer().connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(proxy_->tls_port())));
    if (!sni.empty()) SSL_set_tlsext_host_name(s.native_handle(), sni.c_str());
    s.handshake(asio::ssl::stream_base::client);
    X509* peer = SSL_get1_peer_certificate(s.native_handle());
    char cn[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
    X509_free(peer);
    http::request<http::string_body> req{http::verb::get, "/tls", 11};
    req.set(http::field::host, sni.empty() ? "app.test" : sni);
    http::write(s, req);
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    return {cn, res.body()};
  }

  Backend backend_;
  pki::KeyPair ca_;
  TlsCertificates certs_;
  asio::io_context io_{1}, client_io_;
  std::unique_ptr<Proxy> proxy_;
  std::thread thread_;
};

TEST_F(ProxyTest, ForwardsWithTheHeadersABackendExpects) {
  tcp::socket s = Connect();
  beast::flat_buffer buf;
  http::request<http::string_body> req{http::verb::post, "/echo?x=1", 11};
  req.set(http::field::host, "app.test:8080");
  req.set("X-Forwarded-For", "192.0.2.1");
  req.set(http::field::connection, "keep-alive, X-Drop");
  req.set("X-Drop", "1");
  req.set("Keep-Alive", "timeout=5");
  req.body() = "hello";
  auto res = Exchange(s, buf, req);
  EXPECT_EQ(res.result_int(), 200u);
  const std::string& b = res.body();
  EXPECT_NE(b.find("POST /echo?x=1\n"), std::string::npos) << b;
  EXPECT_NE(b.find("Host: app.test:8080\n"), std::string::npos) << b;
  EXPECT_NE(b.find("X-Forwarded-For: 192.0.2.1, 127.0.0.1\n"), std::string::npos) << b;
  EXPECT_NE(b.find("X-Forwarded-Host: app.test:8080\n"), std::string::npos) << b;
  EXPECT_NE(b.find("X-Forwarded-Port: 8080\n"), std::string::npos) << b;
  EXPECT_NE(b.find("X-Forwarded-Proto: http\n"), std::string::npos) << b;
  EXPECT_NE(b.find("X-Forwarded-Server: ingress-pod\n"), std::string::npos) << b;
  EXPECT_NE(b.find("X-Real-Ip: 127.0.0.1\n"), std::string::npos) << b;
  EXPECT_EQ(b.find("X-Drop"), std::string::npos) << b;
  EXPECT_EQ(b.find("Keep-Alive"), std::string::npos) << b;
  EXPECT_NE(b.find("body 5\n"), std::string::npos) << b;
  EXPECT_EQ(res["X-Backend"], "yes");
  EXPECT_EQ(res.count("X-Hop"), 0u);  // named by the backend's Connection: hop-by-hop

  // The same connection carries the next request.
  http::request<http::string_body> again{http::verb::get, "/again", 11};
  again.set(http::field::host, "app.test");
  EXPECT_NE(Exchange(s, buf, again).body().find("GET /again\n"), std::string::npos);
}

TEST_F(ProxyTest, StreamsBigBodiesBothWays) {
  tcp::socket s = Connect();
  beast::flat_buffer buf;
  http::request<http::string_body> up{http::verb::put, "/upload", 11};
  up.set(http::field::host, "app.test");
  up.body() = std::string(3 * 1024 * 1024 + 7, 'u');
  EXPECT_NE(Exchange(s, buf, up).body().find("body 3145735\n"), std::string::npos);

  http::request<http::string_body> chunked{http::verb::post, "/chunked", 11};
  chunked.set(http::field::host, "app.test");
  chunked.chunked(true);
  chunked.body() = std::string(100000, 'c');
  http::write(s, chunked);
  http::response<http::string_body> res;
  http::read(s, buf, res);
  EXPECT_NE(res.body().find("body 100000\n"), std::string::npos) << res.body().substr(0, 400);

  http::request<http::string_body> down{http::verb::get, "/big", 11};
  down.set(http::field::host, "app.test");
  EXPECT_EQ(Exchange(s, buf, down).body().size(), 5u * 1024 * 1024);
}

TEST_F(ProxyTest, AnswersOfItsOwn) {
  auto r = Get("nowhere.test", "/");
  EXPECT_EQ(r.result_int(), 404u);
  EXPECT_EQ(r.body(), "404 page not found\n");
  r = Get("app.test", "/none");
  EXPECT_EQ(r.result_int(), 503u);
  EXPECT_EQ(r.body(), "Service Unavailable\n");
  r = Get("app.test", "/down");
  EXPECT_EQ(r.result_int(), 502u);
  EXPECT_EQ(r.body(), "Bad Gateway\n");

  proxy_->SetTable(nullptr);
  EXPECT_EQ(Get("app.test", "/").result_int(), 404u);
}

TEST_F(ProxyTest, RefusesBrokenAndOversizedRequests) {
  for (const std::string raw : {std::string("GARBAGE\r\n\r\n"),
                                "GET / HTTP/1.1\r\nHost: app.test\r\nX-Big: " + std::string(10000, 'x') + "\r\n\r\n"}) {
    tcp::socket s = Connect();
    asio::write(s, asio::buffer(raw));
    beast::flat_buffer buf;
    http::response<http::string_body> res;
    http::read(s, buf, res);
    EXPECT_EQ(res.result_int(), raw.starts_with("GARBAGE") ? 400u : 431u);
    boost::system::error_code ec;
    http::read(s, buf, res, ec);  // then the connection is closed
    EXPECT_TRUE(ec == http::error::end_of_stream || ec == asio::error::connection_reset) << ec.message();
  }
}

TEST_F(ProxyTest, HeadAndBodiesDelimitedByTheBackendsClose) {
  tcp::socket s = Connect();
  beast::flat_buffer buf;
  http::request<http::string_body> head{http::verb::head, "/big", 11};
  head.set(http::field::host, "app.test");
  auto h = Exchange(s, buf, head);
  EXPECT_EQ(h.result_int(), 200u);
  EXPECT_EQ(h[http::field::content_length], std::to_string(5 * 1024 * 1024));

  // To an HTTP/1.1 client the close-delimited body comes chunked, and the connection stays.
  http::request<http::string_body> eof{http::verb::get, "/eof", 11};
  eof.set(http::field::host, "app.test");
  auto e = Exchange(s, buf, eof);
  EXPECT_EQ(e.body(), "until the end");
  EXPECT_TRUE(e.chunked());
  http::request<http::string_body> after{http::verb::get, "/after", 11};
  after.set(http::field::host, "app.test");
  EXPECT_NE(Exchange(s, buf, after).body().find("GET /after\n"), std::string::npos);
}

TEST_F(ProxyTest, AnswersExpectContinueItself) {
  tcp::socket s = Connect();
  const std::string head = "POST /echo HTTP/1.1\r\nHost: app.test\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n";
  asio::write(s, asio::buffer(head));
  std::string got(25, '\0');
  asio::read(s, asio::buffer(got));
  EXPECT_EQ(got, "HTTP/1.1 100 Continue\r\n\r\n");
  asio::write(s, asio::buffer(std::string("data")));
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  EXPECT_NE(res.body().find("body 4\n"), std::string::npos) << res.body();
  EXPECT_EQ(res.body().find("Expect"), std::string::npos) << res.body();
}

TEST_F(ProxyTest, RelaysAnUpgradedConnection) {
  tcp::socket s = Connect();
  const std::string head = "GET /ws HTTP/1.1\r\nHost: app.test\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
  asio::write(s, asio::buffer(head));
  beast::flat_buffer buf;
  http::response_parser<http::empty_body> p;
  p.skip(true);
  http::read_header(s, buf, p);
  EXPECT_EQ(p.get().result_int(), 101u);
  EXPECT_EQ(p.get()[http::field::upgrade], "websocket");
  const std::string ping = "bytes both ways";
  asio::write(s, asio::buffer(ping));
  std::string echo(ping.size(), '\0');
  size_t have = std::min(buf.size(), echo.size());
  asio::buffer_copy(asio::buffer(echo), buf.data(), have);
  asio::read(s, asio::buffer(echo.data() + have, echo.size() - have));
  EXPECT_EQ(echo, ping);
}

TEST_F(ProxyTest, UnknownMethodsAreForwardedAndCountedAsOther) {
  tcp::socket s = Connect();
  const std::string raw = "BREW /echo HTTP/1.1\r\nHost: app.test\r\nContent-Length: 0\r\n\r\n";
  asio::write(s, asio::buffer(raw));
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  EXPECT_NE(res.body().find("BREW /echo\n"), std::string::npos) << res.body();
  // The proxy counts a request once its answer has gone out: after the client has it.
  std::string m;
  for (int i = 0; i < 500 && m.find("method=\"OTHER\"") == std::string::npos; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    m = metrics::Serialize();
  }
  EXPECT_NE(m.find("method=\"OTHER\""), std::string::npos);
  EXPECT_EQ(m.find("BREW"), std::string::npos);  // a client's token never becomes a label
}

TEST_F(ProxyTest, TlsCertificateBySni) {
  auto [cn, body] = TlsGet("app.test");
  EXPECT_EQ(cn, "app.test");  // the Ingress's Secret
  EXPECT_NE(body.find("GET /tls\n"), std::string::npos) << body;
  EXPECT_NE(body.find("X-Forwarded-Proto: https\n"), std::string::npos) << body;
  EXPECT_NE(body.find("X-Forwarded-Port: 443\n"), std::string::npos) << body;
  EXPECT_EQ(TlsGet("other.test").first, "default");  // a name no Ingress lists
  EXPECT_EQ(TlsGet("").first, "default");            // no SNI at all
}

TEST(TlsCertificatesTest, UnusableSecretsAreLeftOutAndContextsReused) {
  auto table = RouteTable::Build(
      Options{},
      {Obj(R"({"metadata":{"name":"i","namespace":"n"},"spec":{"tls":[{"hosts":["a.test","*.b.test"],"secretName":"good"},
               {"hosts":["c.test"],"secretName":"bad"},{"hosts":["d.test"],"secretName":"gone"}]}})")},
      {Obj(R"({"metadata":{"name":"c","annotations":{"ingressclass.kubernetes.io/is-default-class":"true"}},"spec":{"controller":"kite.io/ingress"}})")},
      {});
  auto pair = *pki::CreateCA("good", 1);
  auto good = Obj(R"({"metadata":{"name":"good","namespace":"n","resourceVersion":"7"},"data":{"tls.crt":")" +
                  Base64Encode(pair.cert_pem) + R"(","tls.key":")" + Base64Encode(pair.key_pem) + R"("}})");
  auto other = *pki::CreateCA("other", 1);
  auto bad = Obj(R"({"metadata":{"name":"bad","namespace":"n","resourceVersion":"1"},"data":{"tls.crt":")" +
                 Base64Encode(pair.cert_pem) + R"(","tls.key":")" + Base64Encode(other.key_pem) + R"("}})");
  TlsCertificates certs;
  auto lookup = [&](const std::string& key) { return key == "n/good" ? good : key == "n/bad" ? bad : nullptr; };
  auto config = certs.Update(table, lookup);
  ASSERT_NE(config->For("a.test"), nullptr);
  EXPECT_EQ(config->For("x.b.test"), config->For("a.test"));
  EXPECT_EQ(config->For("c.test"), nullptr);  // the key does not match the certificate
  EXPECT_EQ(config->For("d.test"), nullptr);  // no such Secret
  EXPECT_EQ(config->For("e.test"), nullptr);
  EXPECT_EQ(certs.Update(table, lookup)->For("a.test"), config->For("a.test"));  // same version: same context
}

}  // namespace
}  // namespace kite::ingress
