// A small plain-HTTP/1.1 server on Boost.Beast for local endpoints (/metrics, /healthz).
// Routes are exact paths; handlers run on the server's io_context thread and must not block.
// The HTTPS API server (a later component) has its own richer server; this one stays tiny.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kite {

struct HttpReply {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // more response headers
};

class HttpServer {
 public:
  using Handler = std::function<HttpReply()>;

  HttpServer();
  ~HttpServer();  // stops and joins

  // An exact path; "*" answers every path no other route has (instead of 404).
  void Route(const std::string& path, Handler handler);
  // Binds host:port (port 0 picks one) and serves on its own thread.
  Status Start(const std::string& host_port);
  int port() const;
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Starts a server of its own answering `path` alone on `listen` (host:port) and adds it to
// `servers`: how the add-ons serve their probes and metrics on the ports upstream's use.
// `listen` empty: none is wanted (nothing added, no error). Fails when the address cannot be
// bound, naming `path` and `listen`.
Status ServePath(std::vector<std::unique_ptr<HttpServer>>& servers, const std::string& listen, const std::string& path,
                 HttpServer::Handler handler);

// Splits "host:port" / "[v6]:port". Returns an error for a missing or bad port.
Result<std::pair<std::string, int>> SplitHostPort(const std::string& host_port);

}  // namespace kite
