// The local client transport: requests from controllers, the scheduler and other in-process
// consumers go straight into the API server's request pipeline (authentication by a fixed
// identity, authorization, handlers, watch cache), skipping sockets, TLS and HTTP parsing, so a
// local client obeys exactly the semantics a REST client gets. Bodies still travel as JSON
// text: one serialisation each way, which keeps one code path for both transports.
//
// Requests run as coroutines on the transport's own io_context (run by `threads` threads,
// shared by every local client), never on the HTTPS server's threads.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/https_server.h"
#include "client/transport.h"

namespace kite::apiserver {

// HttpsRequest::remote of every request the local transport makes (a wire request's is ip:port):
// how the filters tell kite's in-process components from clients.
inline constexpr const char* kLocalRemote = "local";

using RequestPipeline = std::function<boost::asio::awaitable<void>(HttpsRequest&, HttpsResponder&)>;

class LocalDispatcher {
 public:
  LocalDispatcher(RequestPipeline pipeline, int threads);
  ~LocalDispatcher();  // Stop()
  void Stop();
  // A transport acting as `user` in `groups` (as a client certificate's CN and O would).
  std::shared_ptr<client::Transport> TransportFor(const std::string& user, std::vector<std::string> groups);

  struct Impl;  // shared with the transports (local_transport.cc)

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace kite::apiserver
