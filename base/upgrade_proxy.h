// Relaying an HTTP upgrade (SPDY/3.1 or WebSocket) to the server that completes it: the API
// server to the kubelet, the kubelet to the runtime's stream server. The relay does not look
// into the upgraded protocol: once the far end has answered 101, bytes go both ways unchanged
// (base/byte_stream.h), so every protocol the far end speaks (remote command v1-v5, port
// forwarding) works through it.
//
// Two steps, so the caller can bound the first in time (connect, request, answer header) and let
// the session then last as long as it lasts:
//   auto answer = co_await ForwardUpgradeRequest(upstream, host, target, req);
//   ... clear the connection's deadline ...
//   co_await CompleteUpgrade(*answer, upstream, res);
#pragma once

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/byte_stream.h"
#include "base/https_server.h"
#include "base/status.h"

namespace kite {

struct UpgradeAnswer {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  // 101: the bytes of the upgraded session that came with the header; otherwise the body
  // (at most 1 MiB: an error message).
  std::string data;
  std::string Header(const std::string& lower_name) const;
};

// An upgrade the far end answered: on 101 `stream` carries the session (answer.data holds its
// first bytes); otherwise `stream` is closed and `answer` holds the far end's error answer.
struct UpgradedStream {
  std::unique_ptr<ByteStream> stream;
  UpgradeAnswer answer;
};

// A server of this process called without its socket, TLS and HTTP parsing: kite-server's
// embedded kubelet, which the API server reaches this way (its exec, attach and port-forward
// sessions and logs then cross one TLS hop less). The caller has already been authorised as the
// server's privileged client (the API server's kubelet-client certificate): no authentication.
// Both run on the caller's executor; `req` has its method, headers, path and query filled
// (RequestForTarget). Once the server stops, they answer 503.
struct InProcessServer {
  // Answers `req` on `res` as the server would over HTTPS: streamed answers written to `res` as
  // they are produced, an upgrade relayed onto `res`'s connection (AcceptUpgrade).
  std::function<boost::asio::awaitable<void>(HttpsRequest& req, HttpsResponder& res)> serve;
  // For an upgrade the caller completes itself (the API server's WebSocket translation): the
  // session the server would relay `req` to, or its error answer. An error Status only when not
  // even an answer could be made.
  std::function<boost::asio::awaitable<Result<UpgradedStream>>(HttpsRequest& req)> open_upgrade;
  explicit operator bool() const { return serve && open_upgrade; }
};

// A request for `method` and `target` (path and query, percent-encoded as on the wire) with
// its path and query decoded as HttpsServer decodes a request's. Defined in https_server.cc.
HttpsRequest RequestForTarget(std::string method, std::string target);

// Writes `req`'s method, `target` and its upgrade headers (Connection, Upgrade,
// X-Stream-Protocol-Version, Sec-WebSocket-*) to `upstream` for `host`, and reads the answer's
// header (and, unless it is 101, its body). An error when the upstream cannot be written or its
// answer is not HTTP.
boost::asio::awaitable<Result<UpgradeAnswer>> ForwardUpgradeRequest(ByteStream& upstream, const std::string& host,
                                                                    const std::string& target, const HttpsRequest& req);

// 101: answers the client 101 with the upstream's headers and relays the session until either
// side ends. Anything else: relays the status, content type and body. Closes `upstream`.
boost::asio::awaitable<void> CompleteUpgrade(UpgradeAnswer& answer, ByteStream& upstream, HttpsResponder& res);

// For a request carrying `Connection: Upgrade` whose upgrade another server completes: writes
// `status` (101) with `headers` and no body, and returns the connection as bytes; the connection
// is not used for HTTP again. Null when the request is no upgrade, something was sent already,
// or `res` is not a connection of kite's HttpsServer (in-process responders cannot upgrade).
// Defined in https_server.cc.
boost::asio::awaitable<std::unique_ptr<ByteStream>> AcceptUpgrade(HttpsResponder& res, int status,
                                                                  HttpsResponder::Headers headers);

// Parses an HTTP/1.1 response header (`text` up to and including the blank line): the status
// and the headers with lower-case names. InvalidArgument when it is not one.
Result<UpgradeAnswer> ParseResponseHeader(std::string_view text);

}  // namespace kite
