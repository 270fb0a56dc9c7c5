#include "base/https_server.h"
#include "base/client_watch.h"
#include "base/tls_socket.h"
#include "base/upgrade_proxy.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>

#include <atomic>
#include <thread>

#include "base/log.h"
#include "base/pki.h"
#include "base/thread_name.h"
#include "base/tls_verify.h"

namespace kite {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Stream = TlsSocket;  // the one connection type (WebSocket, upgrade relays and HTTP use it)

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string HttpsRequest::RemoteIp() const {
  if (!remote.empty() && remote[0] == '[') return remote.substr(1, remote.find(']') - 1);
  const size_t colon = remote.rfind(':');
  return colon == std::string::npos || remote.find(':') != colon ? remote : remote.substr(0, colon);
}

std::string HttpsRequest::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

std::string HttpsRequest::Query(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

namespace {

// SO_SNDBUF of a streamed response (watch, logs -f): 256 KiB of socket memory once doubled.
constexpr int kStreamSendBuffer = 128 * 1024;

void ParseTarget(HttpsRequest& r) {
  auto q = r.target.find('?');
  r.path = PercentDecode(std::string_view(r.target).substr(0, q));
  if (q == std::string::npos) return;
  std::string_view rest = std::string_view(r.target).substr(q + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    std::string k(pair.substr(0, eq)), v(eq == std::string_view::npos ? "" : pair.substr(eq + 1));
    for (auto* s : {&k, &v}) for (char& c : *s) if (c == '+') c = ' ';
    if (!k.empty()) r.query.emplace(PercentDecode(k), PercentDecode(v));
    if (amp == std::string_view::npos) break;
    rest = rest.substr(amp + 1);
  }
}

}  // namespace

HttpsRequest RequestForTarget(std::string method, std::string target) {
  HttpsRequest r;
  r.method = std::move(method);
  r.target = std::move(target);
  ParseTarget(r);
  return r;
}

namespace {

std::optional<PeerCertificate> PeerOf(Stream& stream) {
  SSL* ssl = stream.native_handle();
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (!cert) return std::nullopt;
  std::optional<PeerCertificate> out;
  if (SSL_get_verify_result(ssl) == X509_V_OK) {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    auto info = pki::Inspect(std::string(data, static_cast<size_t>(n)));
    BIO_free(bio);
    if (info.ok()) out = PeerCertificate{info->common_name, info->organizations};
  }
  X509_free(cert);
  return out;
}

// A server's frame header is at most 10 bytes (payloads over 65,535: 2 + 8).
static_assert(WebSocket::kMaxOneWriteMessage + 10 <= TlsSocket::kMaxWrite);

class TlsWebSocket final : public WebSocket {
 public:
  explicit TlsWebSocket(Stream& s) : ws_(s) {
    ws_.binary(true);
    // One frame per message: Beast otherwise cuts a message into 4 KiB frames, each its own TLS
    // record and send() (a port-forward tunnel's 64 KiB chunk was 16 of each).
    ws_.auto_fragment(false);
  }
  beast::websocket::stream<Stream&>& ws() { return ws_; }

  asio::awaitable<bool> WriteBinary(std::string_view data) override {
    if (broken_) co_return false;
    auto buf = asio::buffer(data.data(), data.size());  // named: see the note in Accept()
    auto [ec, n] = co_await ws_.async_write(buf, asio::as_tuple(asio::use_awaitable));
    if (ec) broken_ = true;
    co_return !broken_;
  }
  asio::awaitable<std::optional<std::string>> Read() override {
    if (broken_) co_return std::nullopt;
    beast::flat_buffer buffer;
    auto [ec, n] = co_await ws_.async_read(buffer, asio::as_tuple(asio::use_awaitable));
    if (ec) {
      broken_ = true;
      co_return std::nullopt;
    }
    co_return beast::buffers_to_string(buffer.data());
  }
  asio::awaitable<void> Close() override {
    if (broken_) co_return;
    broken_ = true;
    beast::websocket::close_reason reason(beast::websocket::close_code::normal);
    auto [ec] = co_await ws_.async_close(reason, asio::as_tuple(asio::use_awaitable));
    (void)ec;
  }

 private:
  beast::websocket::stream<Stream&> ws_;
  bool broken_ = false;
};

class Responder final : public HttpsResponder {
 public:
  Responder(Stream& s, unsigned version, bool keep_alive, const http::request<http::string_body>* raw = nullptr,
            beast::flat_buffer* read_ahead = nullptr)
      : s_(s), version_(version), keep_alive_(keep_alive), raw_(raw), read_ahead_(read_ahead) {}

  asio::awaitable<std::unique_ptr<ByteStream>> AcceptUpgrade(int status, Headers headers) {
    if (!raw_ || sent_ || !http::token_list((*raw_)[http::field::connection]).exists("upgrade")) co_return nullptr;
    sent_ = true;
    broken_ = true;  // the connection carries the upgraded protocol now: no more HTTP on it
    std::string head = "HTTP/1.1 " + std::to_string(status) + " " +
                       std::string(http::obsolete_reason(static_cast<http::status>(status))) + "\r\n";
    for (auto& [k, v] : headers) head += k + ": " + v + "\r\n";
    head += "\r\n";
    beast::get_lowest_layer(s_).expires_never();
    auto buf = asio::buffer(head);  // named: see the note in Accept()
    auto [ec, n] = co_await asio::async_write(s_, buf, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return nullptr;
    std::string pending;  // bytes the client sent right after its request
    if (read_ahead_ && read_ahead_->size() > 0) {
      pending = beast::buffers_to_string(read_ahead_->data());
      read_ahead_->consume(read_ahead_->size());
    }
    co_return std::make_unique<StreamOf<Stream>>(s_, std::move(pending));
  }

  asio::awaitable<std::unique_ptr<WebSocket>> AcceptWebSocket(std::string subprotocol) override {
    if (!raw_ || sent_ || !beast::websocket::is_upgrade(*raw_)) co_return nullptr;
    sent_ = true;
    broken_ = true;  // the connection is the WebSocket's now: no more HTTP on it
    auto ws = std::make_unique<TlsWebSocket>(s_);
    ws->ws().set_option(beast::websocket::stream_base::decorator([subprotocol](beast::websocket::response_type& res) {
      if (!subprotocol.empty()) res.set(http::field::sec_websocket_protocol, subprotocol);
    }));
    beast::get_lowest_layer(s_).expires_never();
    auto [ec] = co_await ws->ws().async_accept(*raw_, asio::as_tuple(asio::use_awaitable));
    if (ec) co_return nullptr;
    co_return ws;
  }

  asio::awaitable<void> Send(int status, std::string content_type, std::string body, Headers headers = {}) override {
    http::response<http::string_body> res{static_cast<http::status>(status), version_};
    res.set(http::field::content_type, content_type);
    for (auto& [k, v] : headers) res.set(k, v);
    res.keep_alive(keep_alive_);
    res.body() = std::move(body);
    res.prepare_payload();
    sent_ = true;
    auto [ec, n] = co_await http::async_write(s_, res, asio::as_tuple(asio::use_awaitable));
    if (ec) broken_ = true;
  }

  asio::awaitable<bool> BeginStream(int status, std::string content_type, Headers headers) override {
    http::response<http::empty_body> res{static_cast<http::status>(status), version_};
    res.set(http::field::content_type, content_type);
    for (auto& [k, v] : headers) res.set(k, v);
    res.chunked(true);
    res.keep_alive(keep_alive_);
    http::response_serializer<http::empty_body> sr{res};
    sent_ = true;
    streaming_ = true;
    SSL_set_mode(s_.native_handle(), SSL_MODE_RELEASE_BUFFERS);  // see Session
    // The read buffer kept from the request would stay for the stream's life (it is released
    // only by a later read): ~17 KiB per watch connection.
    SSL_free_buffers(s_.native_handle());
    // Nor is the request's read buffer needed while the response streams (bytes pipelined after
    // the request stay).
    if (read_ahead_ && read_ahead_->size() == 0) read_ahead_->shrink_to_fit();
    // A stream's client may stop reading: bound what the kernel queues for it (loopback
    // autotuning lets a send queue grow to ~4 MB; the kernel doubles this figure).
    beast::get_lowest_layer(s_).socket().set_option(asio::socket_base::send_buffer_size(kStreamSendBuffer), ignored_);
    auto [ec, n] = co_await http::async_write_header(s_, sr, asio::as_tuple(asio::use_awaitable));
    if (ec) broken_ = true;
    co_return !broken_;
  }

  asio::awaitable<bool> WriteChunk(std::string data) override {
    if (broken_ || data.empty()) co_return !broken_;
    auto chunk = http::make_chunk(asio::buffer(data));  // named: see the note in Accept()
    auto [ec, n] = co_await asio::async_write(s_, chunk, asio::as_tuple(asio::use_awaitable));
    if (ec) broken_ = true;
    co_return !broken_;
  }

  asio::awaitable<void> EndStream() override {
    if (broken_) co_return;
    auto last = http::make_chunk_last();
    auto [ec, n] = co_await asio::async_write(s_, last, asio::as_tuple(asio::use_awaitable));
    if (ec) broken_ = true;
  }

  // Whether the client closed or reset its connection, without reading from it: a FIN or reset
  // shows as POLLRDHUP/POLLHUP/POLLERR (a client sends nothing while an answer streams).
  bool ClientGone() {
    if (broken_) return true;
    pollfd p{beast::get_lowest_layer(s_).socket().native_handle(), POLLRDHUP, 0};
    return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
  }

  void Abort() override {
    broken_ = true;
    beast::get_lowest_layer(s_).close();  // pending operations complete with operation_aborted
  }

  bool sent() const { return sent_; }
  bool broken() const { return broken_; }

 private:
  Stream& s_;
  unsigned version_;
  bool keep_alive_;
  const http::request<http::string_body>* raw_;
  beast::flat_buffer* read_ahead_;
  bool sent_ = false, streaming_ = false, broken_ = false;
  boost::system::error_code ignored_;
};

}  // namespace

bool ClientGone(HttpsResponder& res) {
  // Only a connection of this server can tell; in-process responders never see a client leave.
  auto* r = dynamic_cast<Responder*>(&Undecorated(res));
  return r && r->ClientGone();
}

asio::awaitable<std::unique_ptr<ByteStream>> AcceptUpgrade(HttpsResponder& res, int status,
                                                           HttpsResponder::Headers headers) {
  auto* r = dynamic_cast<Responder*>(&Undecorated(res));
  if (!r) co_return nullptr;
  auto stream = co_await r->AcceptUpgrade(status, std::move(headers));
  if (stream) {
    for (HttpsResponder* d = &res; d; d = d->Decorated()) d->Upgraded(status);
  }
  co_return stream;
}

namespace {

std::string StatusJson(int code, const std::string& reason, const std::string& message) {
  // Transport-level failures still answer in the Kubernetes Status format.
  std::string text;
  for (char c : message) {
    if (c == '"' || c == '\\') {
      text += '\\';
      text += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      text += ' ';
    } else {
      text += c;
    }
  }
  return R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":")" + text +
         R"(","reason":")" + reason + R"(","code":)" + std::to_string(code) + "}";
}

}  // namespace

struct HttpsServer::Impl {
  explicit Impl(Handler h) : handler(std::move(h)) {}
  Handler handler;
  HttpsServerOptions opts;
  asio::io_context io;
  ssl::context tls{ssl::context::tls_server};
  std::unique_ptr<tcp::acceptor> acceptor;
  std::vector<std::thread> threads;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  int port = 0;
  size_t max_connections = 0;
  std::atomic<size_t> connections{0};

  static asio::awaitable<void> TooLarge(Stream& stream) {
    auto body = StatusJson(413, "RequestEntityTooLarge", "the request body is too large");
    Responder r(stream, 11, false);
    co_await r.Send(413, "application/json", std::move(body));
  }

  asio::awaitable<void> Session(tcp::socket socket) {
    // Counted from accept to close; the guard also closes over-limit connections at once.
    struct Counted {
      std::atomic<size_t>& n;
      ~Counted() { n.fetch_sub(1, std::memory_order_relaxed); }
    } counted{connections};
    std::string remote;
    {
      boost::system::error_code ec;
      auto ep = socket.remote_endpoint(ec);
      if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
      // Responses over 16 KiB leave in two writes; without this the second waits ~40 ms for
      // the client's delayed ACK (Nagle). Found by bench/run_api_bench.sh.
      socket.set_option(tcp::no_delay(true), ec);
    }
    Stream stream(std::move(socket), tls.native_handle());
    auto& lowest = beast::get_lowest_layer(stream);
    lowest.expires_after(std::chrono::seconds(10));
    auto [hec] = co_await stream.async_handshake(ssl::stream_base::server, asio::as_tuple(asio::use_awaitable));
    if (hec) co_return;
    auto peer = PeerOf(stream);
    // Asio turns on SSL_MODE_RELEASE_BUFFERS, so OpenSSL frees its ~17 KiB record buffers
    // whenever they drain and allocates them again for the next record: two large malloc/free
    // pairs per request, which also make glibc consolidate its fast bins. A connection keeps
    // them once its first request has arrived (request/response clients reuse them at once);
    // until then — thousands of idle or hostile connections — the mode stays on, and a watch
    // stream (long idle gaps) turns it back on in BeginStream.
    bool first_request = true;
    beast::flat_buffer buffer;
    for (;;) {
      // 1. Wait for the next request's first bytes: an idle keep-alive connection is closed
      //    after idle_timeout; a new one must send its first request within the header timeout
      //    (Go's server counts the first request's header deadline from the connection's start).
      if (buffer.size() == 0) {
        lowest.expires_after(first_request ? opts.read_header_timeout : opts.idle_timeout);
        auto space = buffer.prepare(4096);
        auto [ec, n] = co_await stream.async_read_some(space, asio::as_tuple(asio::use_awaitable));
        if (ec) break;
        buffer.commit(n);
      }
      if (first_request) {
        SSL_clear_mode(stream.native_handle(), SSL_MODE_RELEASE_BUFFERS);
        first_request = false;
      }
      // 2. The request line and headers, bounded in time (slowloris) and size.
      lowest.expires_after(opts.read_header_timeout);
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<std::uint32_t>(opts.max_header_bytes));
      parser.body_limit(opts.max_body_bytes);
      {
        auto [ec, n] = co_await http::async_read_header(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (ec == http::error::header_limit) {
          // The parser has the target once the request line is complete: then the headers are
          // what is too long (431), otherwise the URL (414).
          const bool url = parser.get().target().empty();
          Responder r(stream, 11, false);
          std::string body = url ? StatusJson(414, "RequestURITooLong", "the request URI is too long")
                                 : StatusJson(431, "RequestHeaderFieldsTooLarge", "the request header fields are too large");
          co_await r.Send(url ? 414 : 431, "application/json", std::move(body));
          break;
        }
        if (ec == http::error::body_limit) {  // a Content-Length over the limit fails here already
          co_await TooLarge(stream);
          break;
        }
        if (ec) break;  // timed out, closed, or not HTTP: nothing sensible to answer
      }
      // 3. The body.
      if (!parser.is_done()) {
        lowest.expires_after(opts.read_body_timeout);
        auto [ec, n] = co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (ec == http::error::body_limit) {
          co_await TooLarge(stream);
          break;
        }
        if (ec) break;
      }
      lowest.expires_never();
      auto raw = parser.release();
      HttpsRequest req;
      req.method = std::string(raw.method_string());
      req.target = std::string(raw.target());
      for (const auto& f : raw) {
        std::string name(f.name_string());
        for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto& slot = req.headers[name];
        slot = slot.empty() ? std::string(f.value()) : slot + "," + std::string(f.value());
      }
      req.body = std::move(raw.body());  // an upgrade needs only the headers left in raw
      req.peer = peer;
      req.remote = remote;
      ParseTarget(req);
      Responder responder(stream, raw.version(), raw.keep_alive(), &raw, &buffer);
      // Anything a handler throws — a bug, or std::bad_alloc under memory pressure — ends this
      // request with a 500 (when nothing was sent yet) and is logged; the server carries on.
      std::string failure;
      try {
        co_await handler(req, responder);
      } catch (const std::bad_alloc&) {
        failure = "out of memory";
      } catch (const std::exception& e) {
        failure = e.what();
      } catch (...) {
        failure = "unknown exception";
      }
      if (!failure.empty()) {
        KITE_LOG(0) << "https: handler threw on " << req.method << " " << req.path << ": " << failure;
      }
      if (!responder.sent()) {
        // Named locals, not temporaries of the co_await expression (g++ 12 frees those twice).
        const bool threw = !failure.empty();
        std::string message =
            threw ? "an error on the server (\"" + failure + "\") has prevented the request from succeeding" : "no response";
        std::string body = StatusJson(500, "InternalError", message);
        co_await responder.Send(500, "application/json", std::move(body));
        if (threw) break;
      } else if (!failure.empty()) {
        break;  // a response was under way: its framing can no longer be trusted
      }
      if (responder.broken() || !raw.keep_alive()) break;
    }
    lowest.expires_after(std::chrono::seconds(2));
    co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
  }

  asio::awaitable<void> Accept() {
    asio::steady_timer backoff(io);
    for (;;) {
      // Named, not a temporary: g++ 12 may destroy temporaries of a co_await expression twice
      // (fixed in GCC 13), which for a strand means one reference released too many.
      auto strand = asio::make_strand(io);
      auto [ec, socket] = co_await acceptor->async_accept(strand, asio::as_tuple(asio::use_awaitable));
      if (ec) {
        if (ec == asio::error::operation_aborted) co_return;
        // Out of file descriptors (or another resource): accepting again at once would spin a
        // core while the backlog stays full. Wait a little for connections to close.
        backoff.expires_after(std::chrono::milliseconds(50));
        co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
        continue;
      }
      if (connections.fetch_add(1, std::memory_order_relaxed) >= max_connections) {
        connections.fetch_sub(1, std::memory_order_relaxed);
        boost::system::error_code ignored;
        socket.close(ignored);  // over the limit: refused before any TLS work is spent on it
        continue;
      }
      auto exec = socket.get_executor();
      asio::co_spawn(exec, Session(std::move(socket)), asio::detached);
    }
  }
};

const char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

size_t DefaultMaxConnections() {
  // A connection that has not sent a request costs ~23 KiB (bench/run_robustness.sh); one that
  // keeps OpenSSL's two record buffers between requests (see Session) ~35 KiB more. Budgeted at
  // 80 KiB each, connections may take a quarter of the memory.
  constexpr size_t kBytesPerConnection = 80 * 1024;
  size_t by_fds = 16384;
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
    by_fds = static_cast<size_t>(rl.rlim_cur) / 4 * 3;
  }
  size_t by_memory = by_fds;
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  if (pages > 0 && page > 0) {
    // In 64-bit arithmetic: a 32-bit size_t overflows on the product for 4 GiB and more.
    const uint64_t bytes = static_cast<uint64_t>(pages) * static_cast<uint64_t>(page);
    by_memory = static_cast<size_t>(std::min<uint64_t>(bytes / 4 / kBytesPerConnection, SIZE_MAX));
  }
  return std::max<size_t>(64, std::min(by_fds, by_memory));
}

void UseServerTlsPolicy(ssl::context& ctx) {
  ctx.set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                  ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
  // TLS 1.3 negotiates only AEAD suites by itself; for TLS 1.2 the list is set here.
  SSL_CTX_set_cipher_list(ctx.native_handle(), kTls12Ciphers);
}

HttpsServer::HttpsServer(Handler handler) : impl_(std::make_unique<Impl>(std::move(handler))) {}
HttpsServer::~HttpsServer() { Stop(); }

Status HttpsServer::Start(const HttpsServerOptions& options) {
  impl_->opts = options;
  impl_->max_connections = options.max_connections > 0 ? options.max_connections : DefaultMaxConnections();
  boost::system::error_code ec;
  auto& tls = impl_->tls;
  UseServerTlsPolicy(tls);
  tls.use_certificate_chain(asio::buffer(options.cert_pem), ec);
  if (!ec) tls.use_private_key(asio::buffer(options.key_pem), ssl::context::pem, ec);
  if (ec) return Status(Code::kInvalidArgument, "serving certificate: " + ec.message());
  if (!options.client_ca_pem.empty()) {
    tls.add_certificate_authority(asio::buffer(options.client_ca_pem), ec);
    if (ec) return Status(Code::kInvalidArgument, "client CA: " + ec.message());
    // Advertise the client CA so clients pick the matching certificate (Go's TLS client does).
    BIO* bio = BIO_new_mem_buf(options.client_ca_pem.data(), static_cast<int>(options.client_ca_pem.size()));
    X509* ca = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
    BIO_free(bio);
    if (ca) {
      SSL_CTX_add_client_CA(tls.native_handle(), ca);
      X509_free(ca);
    }
    tls.set_verify_mode(ssl::verify_peer);  // requested, not required (no fail_if_no_peer_cert)
    UseClockForCertificateTimes(tls.native_handle(), options.clock);
  }
  auto addr = asio::ip::make_address(options.bind_address, ec);
  if (ec) return Status(Code::kInvalidArgument, "invalid bind address " + options.bind_address);
  tcp::endpoint ep(addr, static_cast<unsigned short>(options.port));
  impl_->acceptor = std::make_unique<tcp::acceptor>(impl_->io);
  impl_->acceptor->open(ep.protocol(), ec);
  if (!ec) impl_->acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) impl_->acceptor->bind(ep, ec);
  if (!ec) impl_->acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Status(Code::kUnavailable, "listen " + options.bind_address + ":" + std::to_string(options.port) + ": " + ec.message());
  impl_->port = impl_->acceptor->local_endpoint().port();
  impl_->work.emplace(impl_->io.get_executor());
  asio::co_spawn(impl_->io, impl_->Accept(), asio::detached);
  int n = options.threads > 0 ? options.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) impl_->threads.emplace_back([this] {
    SetThreadName("https-io");
    impl_->io.run();
  });
  return Status::Ok();
}

int HttpsServer::port() const { return impl_->port; }

void HttpsServer::Stop() {
  if (impl_->threads.empty()) return;
  asio::post(impl_->io, [this] {
    boost::system::error_code ec;
    impl_->acceptor->close(ec);
  });
  impl_->work.reset();
  impl_->io.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
  // io.stop() may win over the posted close: the port must refuse from here on either way (a
  // listening socket left open would take connections into its backlog and never answer them).
  boost::system::error_code ec;
  impl_->acceptor->close(ec);
}

}  // namespace kite
