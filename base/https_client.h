// The client side of HTTPS to a Kubernetes API server, for programs outside kite-server
// (kite-hollow and kite-agent through client/rest_transport.h, kite-api-bench directly):
// - Kubeconfig / LoadKubeconfig: where the server is and how to prove who we are, from the
//   current context of a kubeconfig file (inline *-data fields or file references; a client
//   certificate, a bearer token, or both);
// - HttpsConnection: one synchronous keep-alive HTTP/1.1 connection over TLS, for whole
//   request/response exchanges (Do) and for streamed responses (Stream: watches, logs).
//
// Synchronous on purpose: a caller's thread blocks in the kernel while it waits, which is the
// cheapest way to serve a handful of concurrent requests and lets latency be measured on the
// caller's own thread (kite-api-bench). Programs with thousands of streams use asio directly,
// with MakeTlsContext, ResolveServer and PrepareTlsStream below (see bench/api_watch.cc).
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/verb.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/clock.h"
#include "base/status.h"

namespace kite {

// The cluster and user of one kubeconfig context, decoded.
struct Kubeconfig {
  std::string server;      // as written: https://host[:port][/path]; the path is ignored
  std::string host, port;  // from `server`; an IPv6 host without its brackets; port 443 if absent
  std::string ca_pem;      // certificate-authority(-data); empty: trust the system's roots
  bool insecure_skip_tls_verify = false;
  std::string cert_pem, key_pem;  // client-certificate(-data), client-key(-data); may be empty
  std::string token;              // token or tokenFile: sent as "Authorization: Bearer"
};

// Reads the kubeconfig at `path` and decodes its current context (the first context when none
// is current). File references are relative to the kubeconfig's folder, as kubectl reads them.
// Fails when the file is missing or unreadable, the server is not https, or a referenced PEM is
// missing; a context without credentials is allowed (anonymous).
Result<Kubeconfig> LoadKubeconfig(const std::string& path);

// Sets kc's server, host and port from an https:// URL (as a kubeconfig's `server` is read).
Status SetServer(const std::string& url, Kubeconfig* kc);

using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// A TLS client context that verifies the server against kc's CA (unless
// insecure-skip-tls-verify) and presents kc's client certificate when it has one. Fails on
// malformed PEM. Certificates' validity periods are judged by `clock` (base/tls_verify.h), which
// must outlive the context. Shared freely between connections and threads.
Result<std::shared_ptr<boost::asio::ssl::context>> MakeTlsContext(const Kubeconfig& kc,
                                                                  const Clock* clock = Clock::Real());

// The first address of kc.host:kc.port (a blocking lookup).
Result<boost::asio::ip::tcp::endpoint> ResolveServer(const Kubeconfig& kc);

// Before a client handshake on `s`: check the serving certificate's names against `host` (an IP
// address or a DNS name) and send SNI for DNS names.
void PrepareTlsStream(TlsStream& s, const std::string& host);

struct HttpsReply {
  int status = 0;  // the HTTP status; 0: transport failure (see `error`)
  std::string body;
  std::string error;
  // With status 0: the connection failed before any byte of an answer arrived (e.g. the server
  // had closed it while it sat idle), so a retry on a fresh connection is safe to attempt.
  bool nothing_received = false;
};

// One keep-alive connection, driven synchronously by one thread at a time; only Cancel() may be
// called from another thread. The connection opens on first use; a transport error, a
// `Connection: close` answer or a streamed response closes it, and the next request reconnects.
// Requests carry Host, User-Agent, "Accept: application/json" and, when the kubeconfig has a
// token, "Authorization: Bearer". No request timeout: as client-go's default, a request waits as
// long as the server takes (Cancel ends the wait); connecting is bounded by `connect_timeout`.
class HttpsConnection {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;

  HttpsConnection(const Kubeconfig& kc, std::shared_ptr<boost::asio::ssl::context> tls,
                  std::string user_agent = "kite",
                  std::chrono::milliseconds connect_timeout = std::chrono::seconds(30));
  ~HttpsConnection();
  HttpsConnection(const HttpsConnection&) = delete;
  HttpsConnection& operator=(const HttpsConnection&) = delete;

  // Opens (or re-opens) the connection: resolve, connect, TLS handshake. False with *error.
  bool Connect(std::string* error);
  bool connected() const { return stream_ != nullptr; }

  // Sends one request and reads the whole answer. `content_type` is sent only with a body.
  HttpsReply Do(boost::beast::http::verb verb, const std::string& target, const std::string& body = "",
                std::string_view content_type = "application/json", const Headers& headers = {});

  // Sends one request and streams the answer: for a 2xx status, `on_data` gets the body's bytes
  // (chunked encoding removed) as they arrive, until the body ends (the reply then has that
  // status), `on_data` returns false, Cancel() is called or the connection fails (status 0).
  // Any other status is returned whole in `body` without calling `on_data`. The connection is
  // closed afterwards either way.
  HttpsReply Stream(boost::beast::http::verb verb, const std::string& target,
                    const std::function<bool(std::string_view data)>& on_data, const Headers& headers = {});

  // Thread-safe and final: shuts the socket down so that a blocked Connect, Do or Stream returns
  // at once with an error, and makes every later call fail.
  void Cancel();
  bool cancelled() const;

  int64_t connects() const { return connects_; }

 private:
  void Close();
  bool RunUntil(const bool& done, std::chrono::steady_clock::time_point deadline);

  const std::string host_, port_, token_, user_agent_;
  const std::chrono::milliseconds connect_timeout_;
  const std::shared_ptr<boost::asio::ssl::context> tls_;
  boost::asio::io_context io_;
  std::unique_ptr<TlsStream> stream_;
  boost::beast::flat_buffer buf_;
  int64_t connects_ = 0;
  mutable std::mutex fd_mu_;  // guards fd_ and cancelled_ (Cancel runs on other threads)
  int fd_ = -1;               // the socket of stream_, for Cancel's shutdown(2)
  bool cancelled_ = false;
};

}  // namespace kite
