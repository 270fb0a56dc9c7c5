// The HTTP side of kite-ingress: an HTTP/1.1 reverse proxy routing by the current RouteTable
// (routes.h), on Traefik's two entry points in k3s: "web" (plain HTTP) and "websecure" (TLS,
// the certificate chosen by the client's SNI name among the Ingresses' Secrets: certs.h; a
// default certificate for names no Ingress lists and clients without SNI). Both route alike.
//
// Contract:
// - One coroutine per client connection, on a strand of the io_context (run by any number of
//   threads). Keep-alive; the request and answer bodies are streamed in pieces both ways (an
//   upload or a download of any size holds one 64 KiB buffer), with their framing (Content-Length
//   or chunked) kept; an answer of known length is copied between the sockets as it arrives (no
//   parser in between); one that ends with the upstream connection is sent chunked to HTTP/1.1
//   clients.
// - The request goes to the backend with its Host and headers, but for the hop-by-hop ones
//   (RFC 9110 7.6.1: Connection and what it names, Keep-Alive, Proxy-Connection, TE, Trailer,
//   Upgrade), and with X-Forwarded-For (appended), X-Forwarded-Host, -Port, -Proto (http, https,
//   ws, wss), -Server and X-Real-Ip as Traefik sets them. `Expect: 100-continue` is answered here.
// - A WebSocket (any Upgrade) is passed on; when the backend answers 101 the connection becomes a
//   byte relay both ways until either side ends.
// - Answers of its own, as Traefik words them: no route 404 "404 page not found"; a backend that
//   cannot be resolved 503 "Service Unavailable"; one that cannot be reached or breaks before its
//   answer's header 502 "Bad Gateway"; a request that does not parse 400, a header over
//   `max_header_bytes` 431, and the connection closed after each.
// - Bounds: an idle connection waits `idle_timeout` for its next request (Traefik's 180 s), a
//   request's header (and a TLS handshake) must arrive within `read_header_timeout`; a backend's connect within
//   `dial_timeout`; at most `max_connections` client connections (more are closed at accept).
//   Once a body streams there is no deadline (long polls, server-sent events, downloads).
// - Metrics (the default registry) under Traefik's names, entrypoint "web" or "websecure":
//   traefik_entrypoint_requests_total{code,method,protocol,entrypoint},
//   traefik_entrypoint_request_duration_seconds{...}, traefik_entrypoint_open_connections, and
//   traefik_service_requests_total{service,code,method,protocol}.
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <string>

#include "addons/ingress/certs.h"
#include "addons/ingress/routes.h"
#include "base/status.h"

namespace kite::ingress {

struct ProxyOptions {
  std::string address = "0.0.0.0";
  int port = 8000;  // 0 picks one
  std::string entrypoint = "web";
  int tls_port = 8443;  // -1: no TLS entry point
  std::string tls_entrypoint = "websecure";
  std::string default_cert_pem, default_key_pem;  // the TLS entry point's default certificate
  std::string server_name;  // X-Forwarded-Server (the pod's host name)
  size_t max_header_bytes = 64 * 1024;
  size_t max_connections = 0;  // 0: from the open-file limit (DefaultMaxConnections)
  std::chrono::seconds idle_timeout{180};
  std::chrono::seconds read_header_timeout{60};
  std::chrono::seconds dial_timeout{30};
};

class Proxy {
 public:
  Proxy(boost::asio::io_context& io, ProxyOptions options);
  ~Proxy();

  Status Start();  // binds and starts accepting on the io_context
  int port() const;
  int tls_port() const;
  void Stop();     // stops accepting; connections end with the io_context

  // The table requests are routed by from now on (null: everything is 404). Thread-safe.
  void SetTable(std::shared_ptr<const RouteTable> table);
  std::shared_ptr<const RouteTable> Table() const;
  // The certificates the TLS entry point chooses among from now on (null: the default only).
  void SetTls(std::shared_ptr<const TlsConfig> tls);

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace kite::ingress
