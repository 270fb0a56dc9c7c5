// HttpsServer: HTTP/1.1 over TLS on Boost.Beast + OpenSSL, for the Kubernetes API.
//
// - One coroutine per connection on a strand of a shared io_context (run by `threads` threads):
//   no thread per request or per watch.
// - Keep-alive; request bodies up to `max_body_bytes` (413 beyond, as kube-apiserver's 3 MiB
//   limit); responses either whole (Send) or streamed with chunked encoding (BeginStream +
//   WriteChunk + EndStream) for watches and logs.
// - Slow or oversized requests are bounded as Go's net/http bounds kube-apiserver's: an idle
//   keep-alive connection waits `idle_timeout` for its next request; once its first byte is in,
//   the request line and headers must arrive within `read_header_timeout` (32 s upstream) and fit
//   in `max_header_bytes` (1 MiB, Go's default) — 414 when the request line alone is too long,
//   431 otherwise; the body must arrive within `read_body_timeout`. Every refusal is a
//   Kubernetes Status.
// - At most `max_connections` connections are open at once; a connection beyond it is closed as
//   soon as it is accepted. Until its first request arrives a connection keeps no TLS record
//   buffers (an idle TLS connection costs a few KiB, not ~40).
// - Only TLS 1.2 and 1.3 with AEAD suites (AES-GCM, ChaCha20-Poly1305), as upstream's default.
// - TLS client certificates are requested, not required: a certificate that verifies against the
//   client CA yields the peer's identity (CN = user, O = groups); an unverifiable one fails the
//   handshake; none leaves authentication to the handler (bearer tokens, anonymous).
#pragma once

#include <boost/asio/awaitable.hpp>

namespace boost::asio::ssl {
class context;
}

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace kite {

struct PeerCertificate {
  std::string common_name;
  std::vector<std::string> organizations;
};

struct HttpsRequest {
  std::string method;
  std::string target;  // path + query, as sent
  std::string path;    // percent-decoded path
  std::multimap<std::string, std::string> query;  // percent-decoded
  std::map<std::string, std::string> headers;     // lower-case names
  std::string body;
  std::optional<PeerCertificate> peer;
  std::string remote;  // ip:port
  // Set only by in-process callers (the local transport), never from the wire: the caller ignores
  // the body of a successful answer, so the server need not serialise one.
  bool body_unused = false;

  std::string Header(const std::string& lower_name) const;
  // The peer's IP without its port ("1.2.3.4:5" → "1.2.3.4", "[::1]:5" → "::1").
  std::string RemoteIp() const;
  std::string Query(const std::string& name) const;  // first value or ""
  bool HasQuery(const std::string& name) const { return query.count(name) > 0; }
};

// The response side of one request. Exactly one of Send or BeginStream must be called.
// One accepted WebSocket (RFC 6455) on a connection that was upgraded; binary messages only.
// Pings are answered while a Read is pending. The connection closes when this goes away.
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  // A binary message of at most this many bytes leaves with its frame header in one write of
  // the connection (its TLS records in one send()); a bulk relay cuts its messages to it.
  static constexpr size_t kMaxOneWriteMessage = 64 * 1024 - 16;
  // One message of `data`, which the caller keeps until the write completes. False once the peer
  // has gone away.
  virtual boost::asio::awaitable<bool> WriteBinary(std::string_view data) = 0;
  // The next message, or nullopt when the peer closed or the connection broke.
  virtual boost::asio::awaitable<std::optional<std::string>> Read() = 0;
  // A normal close (1000) handshake.
  virtual boost::asio::awaitable<void> Close() = 0;
};

class HttpsResponder {
 public:
  virtual ~HttpsResponder() = default;
  using Headers = std::vector<std::pair<std::string, std::string>>;
  virtual boost::asio::awaitable<void> Send(int status, std::string content_type, std::string body,
                                            Headers headers = {}) = 0;
  virtual boost::asio::awaitable<bool> BeginStream(int status, std::string content_type, Headers headers = {}) = 0;
  // False once the client has gone away: stop producing.
  virtual boost::asio::awaitable<bool> WriteChunk(std::string data) = 0;
  virtual boost::asio::awaitable<void> EndStream() = 0;
  // Drops the connection at once: a WriteChunk in progress completes with false, as does every
  // later one, and the connection is not reused. For a stream whose client stopped reading (a
  // write to it never completes). Call it on the executor the handler runs on. In-process
  // responders never block, so theirs does nothing.
  virtual void Abort() {}
  // For a request carrying `Upgrade: websocket`: answers 101 Switching Protocols with
  // `subprotocol` as Sec-WebSocket-Protocol and returns the WebSocket, which owns the rest of
  // the connection (it is not reused for HTTP). Null when the request is no WebSocket upgrade or
  // the handshake failed; a responder that cannot upgrade (in-process ones) returns null too.
  virtual boost::asio::awaitable<std::unique_ptr<WebSocket>> AcceptWebSocket(std::string subprotocol) {
    (void)subprotocol;
    co_return nullptr;
  }
  // The responder this one decorates (the audit filter wraps the connection's), so what needs
  // the connection itself (AcceptUpgrade, ClientGone) reaches it through any decorator; null for
  // the connection's own responder and in-process ones.
  virtual HttpsResponder* Decorated() { return nullptr; }
  // Told, on it and every decorator around the connection, when AcceptUpgrade switched the
  // connection's protocol with `status` (101): nothing more is sent through Send or streams.
  virtual void Upgraded(int status) { (void)status; }
};

// The innermost responder under `res`'s decorators (`res` itself when it decorates nothing).
inline HttpsResponder& Undecorated(HttpsResponder& res) {
  HttpsResponder* r = &res;
  while (HttpsResponder* inner = r->Decorated()) r = inner;
  return *r;
}

struct HttpsServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 6443;  // 0 picks one
  std::string cert_pem, key_pem;  // serving certificate
  std::string client_ca_pem;      // verifies client certificates (empty: none requested)
  size_t max_body_bytes = 3 * 1024 * 1024;
  size_t max_header_bytes = 1024 * 1024;
  std::chrono::seconds idle_timeout{120};
  std::chrono::seconds read_header_timeout{32};
  std::chrono::seconds read_body_timeout{60};
  size_t max_connections = 0;  // 0: derived from the open-file limit (DefaultMaxConnections)
  int threads = 0;             // 0: one per core
  // Judges client certificates' validity periods (base/tls_verify.h); must outlive the server.
  const Clock* clock = Clock::Real();
};

// Connections a server may hold when none is configured: three quarters of the process's
// open-file limit (the rest is left for the datastore, the etcd endpoint and the kubelet side),
// and no more than a quarter of the physical memory at ~80 KiB each (a 1 GiB device: ~3,300);
// at least 64.
size_t DefaultMaxConnections();

// The TLS 1.2 cipher list every kite server offers: ECDHE key exchange with AEAD ciphers only
// (no CBC, no RSA key exchange), the suites of upstream's secure default list.
extern const char kTls12Ciphers[];

// Gives a server TLS context kite's protocol policy: TLS 1.2 and 1.3 only, and for TLS 1.2 the
// kTls12Ciphers suites (HttpsServer's, kite-ingress's contexts).
void UseServerTlsPolicy(boost::asio::ssl::context& ctx);

class HttpsServer {
 public:
  using Handler = std::function<boost::asio::awaitable<void>(HttpsRequest&, HttpsResponder&)>;

  explicit HttpsServer(Handler handler);
  ~HttpsServer();  // Stop()
  Status Start(const HttpsServerOptions& options);
  int port() const;
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string PercentDecode(std::string_view s);

}  // namespace kite
