#include "addons/ingress/proxy.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <prometheus/counter.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>

#include <atomic>
#include <optional>
#include <cctype>
#include <set>

#include "base/byte_stream.h"
#include "base/tls_socket.h"
#include "base/https_server.h"
#include "base/log.h"
#include "base/metrics.h"

namespace kite::ingress {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kChunk = 64 * 1024;

struct Metrics {
  prometheus::Family<prometheus::Counter>& requests;
  prometheus::Family<prometheus::Histogram>& duration;
  prometheus::Family<prometheus::Gauge>& open;
  prometheus::Family<prometheus::Counter>& service_requests;

  static Metrics& Get() {
    auto& reg = metrics::Default();
    static Metrics m{prometheus::BuildCounter()
                         .Name("traefik_entrypoint_requests_total")
                         .Help("How many HTTP requests processed on an entrypoint, partitioned by status code, protocol, and method.")
                         .Register(reg),
                     prometheus::BuildHistogram()
                         .Name("traefik_entrypoint_request_duration_seconds")
                         .Help("How long it took to process the request on an entrypoint, partitioned by status code, protocol, and method.")
                         .Register(reg),
                     prometheus::BuildGauge()
                         .Name("traefik_entrypoint_open_connections")
                         .Help("How many open connections exist on an entrypoint, partitioned by method and protocol.")
                         .Register(reg),
                     prometheus::BuildCounter()
                         .Name("traefik_service_requests_total")
                         .Help("How many HTTP requests processed on a service, partitioned by status code, protocol, and method.")
                         .Register(reg)};
    return m;
  }
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The comma-separated tokens of a header value, lower-cased and trimmed.
std::set<std::string> Tokens(std::string_view v) {
  std::set<std::string> out;
  while (!v.empty()) {
    const size_t comma = v.find(',');
    std::string_view t = v.substr(0, comma);
    while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
    while (!t.empty() && (t.back() == ' ' || t.back() == '\t')) t.remove_suffix(1);
    if (!t.empty()) out.insert(Lower(t));
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

// Drops the hop-by-hop fields of `h` (RFC 9110 7.6.1) but the message's framing
// (Content-Length, Transfer-Encoding), which the serializer keeps consistent with its body.
template <class Fields>
void DropHopByHop(Fields& h) {
  for (const std::string& named : Tokens(h[http::field::connection])) {
    if (named != "content-length" && named != "transfer-encoding") h.erase(named);
  }
  for (auto f : {http::field::connection, http::field::keep_alive, http::field::proxy_connection, http::field::te,
                 http::field::trailer, http::field::upgrade}) {
    h.erase(f);
  }
}

std::string PortOf(std::string_view host_header, const char* fallback) {
  const size_t colon = host_header.rfind(':');
  if (colon == std::string_view::npos || host_header.find(']', colon) != std::string_view::npos) return fallback;
  return std::string(host_header.substr(colon + 1));
}

Result<tcp::endpoint> ParseAddress(const std::string& address) {
  const size_t colon = address.rfind(':');
  if (colon == std::string::npos) return Status(Code::kInvalidArgument, "no port in " + address);
  std::string host = address.substr(0, colon);
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  const auto ip = asio::ip::make_address(host, ec);
  if (ec) return Status(Code::kInvalidArgument, "bad address " + address);
  return tcp::endpoint(ip, static_cast<unsigned short>(std::stoi(address.substr(colon + 1))));
}

// How a message's pumping ended.
enum class Pump { kDone, kReadFailed, kWriteFailed };

// Sends the message whose header `p` has read from `from` (its header as it now is, then its
// body as it arrives, in pieces of `size` bytes through `chunk`) to `to`, its framing kept.
template <bool isRequest, class From, class To>
asio::awaitable<Pump> PumpMessage(From& from, beast::flat_buffer& buf, http::parser<isRequest, http::buffer_body>& p,
                                  To& to, char* chunk, size_t size) {
  auto& m = p.get();
  http::serializer<isRequest, http::buffer_body> sr{m};
  do {
    if (!p.is_done()) {
      m.body().data = chunk;
      m.body().size = size;
      auto [ec, n] = co_await http::async_read(from, buf, p, asio::as_tuple(asio::use_awaitable));
      if (ec == http::error::need_buffer) ec = {};
      if (ec) co_return Pump::kReadFailed;
      m.body().size = size - m.body().size;
      m.body().data = chunk;
      m.body().more = !p.is_done();
    } else {
      m.body().data = nullptr;
      m.body().size = 0;
      m.body().more = false;
    }
    auto [ec, n] = co_await http::async_write(to, sr, asio::as_tuple(asio::use_awaitable));
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return Pump::kWriteFailed;
  } while (!p.is_done() || !sr.is_done());
  co_return Pump::kDone;
}

}  // namespace

struct Proxy::Impl : std::enable_shared_from_this<Proxy::Impl> {
  Impl(asio::io_context& io, ProxyOptions o) : io(io), options(std::move(o)), acceptor(io), tls_acceptor(io) {}

  asio::io_context& io;
  ProxyOptions options;
  tcp::acceptor acceptor, tls_acceptor;
  SslContextPtr default_tls;  // the default certificate's context; SNI switches from it
  std::atomic<size_t> connections{0};
  size_t max_connections = 0;
  mutable std::mutex mu;
  std::shared_ptr<const RouteTable> table;  // guarded by mu
  std::shared_ptr<const TlsConfig> tls;     // guarded by mu
  Metrics& metrics = Metrics::Get();

  // What one client connection is: its entry point and whether it came over TLS.
  struct Conn {
    std::string remote_ip;
    const std::string* entrypoint;
    bool tls;
  };

  asio::awaitable<void> Accept(tcp::acceptor& from, bool tls);
  asio::awaitable<void> Serve(tcp::socket sock, bool tls);
  template <class Stream>
  asio::awaitable<void> Session(Stream& client, const Conn& conn);
  // Sends an answer of our own; false: the connection must close after it.
  template <class Stream>
  asio::awaitable<bool> Reply(Stream& client, unsigned version, bool keep, int status, std::string body);
  // Forwards the request whose header `rp` holds; returns the status the client got (0: none)
  // and whether the connection may carry another request.
  template <class Stream>
  asio::awaitable<std::pair<int, bool>> Forward(Stream& client, beast::flat_buffer& buf,
                                                http::request_parser<http::buffer_body>& rp, const Backend& backend,
                                                const Conn& conn, std::string& protocol);
  void Count(const Conn& conn, int code, const std::string& method, const std::string& protocol, const Backend* backend,
             Clock::time_point start);
  // SNI: the context of the Secret for the name the client asked for (SSL_CTX servername callback).
  static int OnServerName(SSL* ssl, int* alert, void* arg);
};

asio::awaitable<void> Proxy::Impl::Accept(tcp::acceptor& from, bool tls) {
  auto self = shared_from_this();
  while (from.is_open()) {
    auto [ec, sock] = co_await from.async_accept(asio::make_strand(io), asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == asio::error::operation_aborted || !from.is_open()) co_return;
      KITE_LOG(1) << "kite-ingress: accept: " << ec.message();
      continue;
    }
    if (connections.load() >= max_connections) {
      boost::system::error_code ignored;
      sock.close(ignored);
      continue;
    }
    auto ex = sock.get_executor();
    asio::co_spawn(ex, Serve(std::move(sock), tls), asio::detached);
  }
}

int Proxy::Impl::OnServerName(SSL* ssl, int* /*alert*/, void* arg) {
  auto* impl = static_cast<Impl*>(arg);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (!name) return SSL_TLSEXT_ERR_OK;  // no SNI: the default certificate
  std::shared_ptr<const TlsConfig> config;
  {
    std::lock_guard<std::mutex> lock(impl->mu);
    config = impl->tls;
  }
  if (SslContextPtr ctx = config ? config->For(name) : nullptr) SSL_set_SSL_CTX(ssl, ctx->native_handle());
  return SSL_TLSEXT_ERR_OK;
}

asio::awaitable<void> Proxy::Impl::Serve(tcp::socket sock, bool tls) {
  auto self = shared_from_this();
  ++connections;
  Conn conn{"", tls ? &options.tls_entrypoint : &options.entrypoint, tls};
  auto& open = metrics.open.Add({{"entrypoint", *conn.entrypoint}});
  open.Increment();
  {
    boost::system::error_code ec;
    const auto ep = sock.remote_endpoint(ec);
    if (!ec) conn.remote_ip = ep.address().to_string();
    sock.set_option(tcp::no_delay(true), ec);  // a header and its body may leave in two writes
  }
  if (tls) {
    TlsSocket client(std::move(sock), default_tls->native_handle());
    client.expires_after(options.read_header_timeout);
    auto [ec] = co_await client.async_handshake(asio::ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (!ec) co_await Session(client, conn);
    client.close();
  } else {
    beast::tcp_stream client(std::move(sock));
    co_await Session(client, conn);
    boost::system::error_code ignored;
    client.socket().shutdown(tcp::socket::shutdown_both, ignored);
    client.close();
  }
  open.Decrement();
  --connections;
}

template <class Stream>
asio::awaitable<bool> Proxy::Impl::Reply(Stream& client, unsigned version, bool keep, int status, std::string body) {
  http::response<http::string_body> res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, "text/plain; charset=utf-8");
  res.set("X-Content-Type-Options", "nosniff");
  res.body() = std::move(body);
  res.keep_alive(keep);
  res.prepare_payload();
  client.expires_after(options.read_header_timeout);
  auto [ec, n] = co_await http::async_write(client, res, asio::as_tuple(asio::use_awaitable));
  co_return keep && !ec;
}

void Proxy::Impl::Count(const Conn& conn, int code, const std::string& method, const std::string& protocol,
                        const Backend* backend, Clock::time_point start) {
  const std::string c = std::to_string(code);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  metrics.requests.Add({{"code", c}, {"method", method}, {"protocol", protocol}, {"entrypoint", *conn.entrypoint}})
      .Increment();
  metrics.duration
      .Add({{"code", c}, {"method", method}, {"protocol", protocol}, {"entrypoint", *conn.entrypoint}},
           prometheus::Histogram::BucketBoundaries{0.1, 0.3, 1.2, 5.0})
      .Observe(seconds);
  if (backend) {
    metrics.service_requests.Add({{"service", backend->service}, {"code", c}, {"method", method}, {"protocol", protocol}})
        .Increment();
  }
}

template <class Stream>
asio::awaitable<void> Proxy::Impl::Session(Stream& client, const Conn& conn) {
  beast::flat_buffer buf;
  for (bool keep = true; keep;) {
    http::request_parser<http::buffer_body> rp;
    rp.header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    rp.body_limit(boost::none);
    // The wait for the next request and its header (Traefik's idle and read timeouts, one here).
    client.expires_after(buf.size() > 0 ? options.read_header_timeout : options.idle_timeout);
    auto [ec, n] = co_await http::async_read_header(client, buf, rp, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      if (ec == http::error::header_limit) {
        co_await Reply(client, 11, false, 431, "431 Request Header Fields Too Large\n");
      } else if (ec.category() == http::make_error_code(http::error::bad_target).category() && ec != http::error::end_of_stream &&
                 ec != http::error::partial_message) {
        co_await Reply(client, 11, false, 400, "400 Bad Request\n");
      }
      break;
    }
    const auto start = Clock::now();
    auto& req = rp.get();
    // The method label is one of HTTP's (any other token a client sends is "OTHER"), so clients
    // cannot grow the metrics without bound.
    const std::string method(req.method() == http::verb::unknown ? "OTHER" : std::string(req.method_string()));
    const std::string host(req[http::field::host]);
    const std::string_view target = req.target();
    const std::string_view path = target.substr(0, target.find('?'));
    const std::shared_ptr<const RouteTable> t = [&] {
      std::lock_guard<std::mutex> lock(mu);
      return table;
    }();
    const Backend* backend = t ? t->Match(host, path, conn.tls ? kWebsecure : kWeb) : nullptr;
    // An answer of our own with the request's body unread ends the connection.
    const bool can_keep = req.keep_alive() && rp.is_done();
    std::string protocol = "http";
    int code = 0;
    if (!backend) {
      code = 404;
      keep = co_await Reply(client, req.version(), can_keep, 404, "404 page not found\n");
    } else if (backend->address.empty()) {
      KITE_LOG(2) << "kite-ingress: " << host << std::string(path) << ": " << backend->error;
      code = 503;
      keep = co_await Reply(client, req.version(), can_keep, 503, "Service Unavailable\n");
    } else {
      std::tie(code, keep) = co_await Forward(client, buf, rp, *backend, conn, protocol);
    }
    if (code != 0) Count(conn, code, method, protocol, backend, start);
  }
}

template <class Stream>
asio::awaitable<std::pair<int, bool>> Proxy::Impl::Forward(Stream& client, beast::flat_buffer& buf,
                                                           http::request_parser<http::buffer_body>& rp,
                                                           const Backend& backend, const Conn& conn, std::string& protocol) {
  const std::string& remote_ip = conn.remote_ip;
  auto& req = rp.get();
  const bool client_keep = req.keep_alive();
  const unsigned version = req.version();
  const bool head = req.method() == http::verb::head;
  auto bad_gateway = [&]() -> asio::awaitable<std::pair<int, bool>> {
    const bool keep = co_await Reply(client, version, client_keep && rp.is_done(), 502, "Bad Gateway\n");
    co_return std::pair<int, bool>{502, keep};
  };
  auto ep = ParseAddress(backend.address);
  if (!ep.ok()) co_return co_await bad_gateway();
  beast::tcp_stream up(client.get_executor());
  up.expires_after(options.dial_timeout);
  auto [cec] = co_await up.async_connect(*ep, asio::as_tuple(asio::use_awaitable));
  if (cec) {
    KITE_LOG(2) << "kite-ingress: dial " << backend.address << " (" << backend.service << "): " << cec.message();
    co_return co_await bad_gateway();
  }
  up.socket().set_option(tcp::no_delay(true));

  // The request's header as the backend gets it.
  const std::string upgrade(req[http::field::upgrade]);
  const bool upgrading = !upgrade.empty() && Tokens(req[http::field::connection]).contains("upgrade");
  if (upgrading) protocol = Lower(upgrade) == "websocket" ? "websocket" : "http";
  const std::string host(req[http::field::host]);
  DropHopByHop(req);
  if (upgrading) {
    req.set(http::field::connection, "Upgrade");
    req.set(http::field::upgrade, upgrade);
  }
  std::string forwarded_for(req["X-Forwarded-For"]);
  req.set("X-Forwarded-For", forwarded_for.empty() ? remote_ip : forwarded_for + ", " + remote_ip);
  req.set("X-Forwarded-Host", host);
  req.set("X-Forwarded-Port", PortOf(host, conn.tls ? "443" : "80"));
  const bool ws = upgrading && protocol == "websocket";
  req.set("X-Forwarded-Proto", conn.tls ? (ws ? "wss" : "https") : (ws ? "ws" : "http"));
  req.set("X-Forwarded-Server", options.server_name);
  req.set("X-Real-Ip", remote_ip);
  if (Lower(req[http::field::expect]) == "100-continue") {
    req.erase(http::field::expect);
    if (!rp.is_done()) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [ec, n] = co_await asio::async_write(client, asio::buffer(kContinue), asio::as_tuple(asio::use_awaitable));
      if (ec) co_return std::pair<int, bool>{0, false};
    }
  }
  req.version(11);

  // The request, its body streamed from the client as it arrives.
  // The body buffer, not zeroed: a request costs no 64 KiB memset.
  struct Chunk {
    std::unique_ptr<char[]> bytes{new char[kChunk]};
    char* data() { return bytes.get(); }
    static constexpr size_t size() { return kChunk; }
  } chunk;
  up.expires_never();
  client.expires_never();
  {
    const Pump sent = co_await PumpMessage(client, buf, rp, up, chunk.data(), chunk.size());
    if (sent == Pump::kReadFailed) co_return std::pair<int, bool>{0, false};  // the client left mid-request
    if (sent == Pump::kWriteFailed) co_return co_await bad_gateway();
  }

  // The answer's header; interim answers (1xx but 101: 100 Continue, 103 Early Hints) are
  // dropped, as the client was answered 100 Continue here.
  beast::flat_buffer ubuf;
  std::optional<http::response_parser<http::buffer_body>> parser;
  int status = 0;
  do {
    parser.emplace();
    parser->header_limit(static_cast<std::uint32_t>(options.max_header_bytes));
    parser->body_limit(boost::none);
    if (head) parser->skip(true);
    auto [ec, n] = co_await http::async_read_header(up, ubuf, *parser, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return co_await bad_gateway();
    status = static_cast<int>(parser->get().result_int());
  } while (status / 100 == 1 && status != 101);
  auto& pp = *parser;
  auto& res = pp.get();
  auto take = [](beast::flat_buffer& b) {  // what a buffer holds past the header, as a string
    std::string s(static_cast<const char*>(b.data().data()), b.size());
    b.consume(b.size());
    return s;
  };
  if (status == 101 && upgrading) {
    // The rest of both connections is the upgraded protocol's: bytes both ways.
    const std::string res_upgrade(res[http::field::upgrade]);
    DropHopByHop(res);
    res.set(http::field::connection, "Upgrade");
    res.set(http::field::upgrade, res_upgrade);
    http::response<http::empty_body> head101{std::move(res.base())};
    head101.version(11);
    http::serializer<false, http::empty_body> hs{head101};
    auto [ec, n] = co_await http::async_write_header(client, hs, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return std::pair<int, bool>{101, false};
    StreamOf<Stream> a(client, take(buf));
    StreamOf<beast::tcp_stream> b(up, take(ubuf));
    co_await Relay(a, b);
    co_return std::pair<int, bool>{101, false};
  }
  DropHopByHop(res);
  bool keep = client_keep;
  const bool bodyless = head || status / 100 == 1 || status == 204 || status == 304;
  if (!bodyless && !res.has_content_length() && !res.chunked()) {
    // Delimited by the upstream connection's end: chunked to an HTTP/1.1 client, else the end
    // of this connection delimits it.
    if (version == 11) {
      res.chunked(true);
    } else {
      keep = false;
    }
  }
  res.version(version);
  res.keep_alive(keep);
  if (bodyless) {
    http::response<http::empty_body> only{std::move(res.base())};
    http::serializer<false, http::empty_body> hs{only};
    auto [ec, n] = co_await http::async_write_header(client, hs, asio::as_tuple(asio::use_awaitable));
    co_return std::pair<int, bool>{status, keep && !ec};
  }
  if (const auto length = pp.content_length(); length && !res.chunked() && *length > ubuf.size()) {
    // A body of known length, not all here yet, goes over as it comes: no parser or serializer
    // between the sockets (for large answers that is most of the proxy's work). A small one,
    // already read with the header, leaves below with the header in one write.
    const uint64_t total = *length;
    http::response<http::empty_body> only{std::move(res.base())};
    http::serializer<false, http::empty_body> hs{only};
    auto [ec, n] = co_await http::async_write_header(client, hs, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return std::pair<int, bool>{status, false};
    StreamOf<beast::tcp_stream> from(up, take(ubuf));
    StreamOf<Stream> to(client);
    for (uint64_t left = total; left > 0;) {
      const size_t got = co_await from.ReadSome(chunk.data(), static_cast<size_t>(std::min<uint64_t>(chunk.size(), left)));
      if (got == 0) co_return std::pair<int, bool>{status, false};  // the backend broke off: so must we
      if (!co_await to.Write(std::string_view(chunk.data(), got))) co_return std::pair<int, bool>{status, false};
      left -= got;
    }
    co_return std::pair<int, bool>{status, keep};
  }
  // (A backend that breaks off mid-answer leaves the client's answer cut: so must it end.)
  const Pump sent = co_await PumpMessage(up, ubuf, pp, client, chunk.data(), chunk.size());
  co_return std::pair<int, bool>{status, keep && sent == Pump::kDone};
}

Proxy::Proxy(asio::io_context& io, ProxyOptions options) : impl_(std::make_shared<Impl>(io, std::move(options))) {}

Proxy::~Proxy() { Stop(); }

namespace {

Status Listen(tcp::acceptor& acceptor, const std::string& address, int port) {
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(address, ec);
  if (ec) return Status(Code::kInvalidArgument, "bad listen address " + address);
  const tcp::endpoint ep(addr, static_cast<unsigned short>(port));
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status(Code::kUnavailable, "listen on " + address + ":" + std::to_string(port) + ": " + ec.message());
  return Status::Ok();
}

int PortOf(const tcp::acceptor& acceptor) {
  boost::system::error_code ec;
  const auto ep = acceptor.local_endpoint(ec);
  return ec ? 0 : ep.port();
}

}  // namespace

Status Proxy::Start() {
  Impl& i = *impl_;
  if (i.options.tls_port >= 0) {
    auto ctx = ServerContext(i.options.default_cert_pem, i.options.default_key_pem);
    if (!ctx.ok()) return Status(Code::kInvalidArgument, "the default certificate: " + ctx.status().message());
    i.default_tls = *ctx;
    SSL_CTX_set_tlsext_servername_callback(i.default_tls->native_handle(), &Impl::OnServerName);
    SSL_CTX_set_tlsext_servername_arg(i.default_tls->native_handle(), impl_.get());
  }
  if (Status s = Listen(i.acceptor, i.options.address, i.options.port); !s.ok()) return s;
  if (i.options.tls_port >= 0) {
    if (Status s = Listen(i.tls_acceptor, i.options.address, i.options.tls_port); !s.ok()) return s;
  }
  i.max_connections = i.options.max_connections > 0 ? i.options.max_connections : DefaultMaxConnections();
  asio::co_spawn(i.acceptor.get_executor(), i.Accept(i.acceptor, false), asio::detached);
  if (i.tls_acceptor.is_open()) asio::co_spawn(i.tls_acceptor.get_executor(), i.Accept(i.tls_acceptor, true), asio::detached);
  return Status::Ok();
}

int Proxy::port() const { return PortOf(impl_->acceptor); }
int Proxy::tls_port() const { return PortOf(impl_->tls_acceptor); }

void Proxy::Stop() {
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
    impl->tls_acceptor.close(ignored);
  });
}

void Proxy::SetTls(std::shared_ptr<const TlsConfig> tls) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->tls = std::move(tls);
}

void Proxy::SetTable(std::shared_ptr<const RouteTable> table) {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->table = std::move(table);
}

std::shared_ptr<const RouteTable> Proxy::Table() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->table;
}

}  // namespace kite::ingress
