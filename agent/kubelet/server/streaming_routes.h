// The kubelet server's streaming routes (upstream's paths):
//   /exec/{ns}/{pod}[/{uid}]/{container}?command=…&stdin=&stdout=&stderr=&tty=
//   /attach/{ns}/{pod}[/{uid}]/{container}?stdin=&stdout=&stderr=&tty=
//   /portforward/{ns}/{pod}[/{uid}][?port=…]
// GET or POST, carrying the client's upgrade (SPDY/3.1, or WebSocket with the protocols the
// runtime serves). The kubelet asks the runtime for a session (cri/streaming.h) and relays the
// upgrade to the URL it answers (base/upgrade_proxy.h): the runtime's stream server speaks the
// protocol, so stdin, TTY and resize, the exit code on the error stream, and port data travel
// through unchanged. Booleans are "1" or "true" (the API server sends "1", kubectl "true").
// Errors, as upstream's kubelet: no such pod 404 "pod does not exist"; the container not running
// 500 `container not found ("c")`; the runtime's refusal with its code and message.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>
#include <vector>

#include "agent/cri/runtime.h"
#include "agent/cri/streaming.h"
#include "base/https_server.h"
#include "base/upgrade_proxy.h"

namespace kite::kubelet::server {

bool IsStreamingRoute(const std::string& first_path_segment);

// The session ServeStreaming relays: the runtime's stream server's answer to `req`'s upgrade
// and, on 101, the connection to it; when there is no session to open (no pod, no container,
// the runtime's refusal, the stream server unreachable), the kubelet's own error answer
// (StreamingErrorAnswer) with a closed stream. On the caller's executor.
boost::asio::awaitable<UpgradedStream> OpenStreaming(cri::RuntimeService* runtime,
                                                             cri::StreamingService* streaming, HttpsRequest& req,
                                                             const std::vector<std::string>& parts);

// The error answer upstream's kubelet gives for `s` (plain text, its HTTP code).
UpgradeAnswer StreamingErrorAnswer(const Status& s);

boost::asio::awaitable<void> ServeStreaming(cri::RuntimeService* runtime, cri::StreamingService* streaming,
                                            HttpsRequest& req, HttpsResponder& res,
                                            const std::vector<std::string>& parts);

}  // namespace kite::kubelet::server
