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
