// The API server's WebSocket front of exec, attach and port-forward, as upstream's
// StreamTranslatorProxy and tunneling handler: the client speaks WebSocket, the kubelet (and
// the runtime's stream server behind it) SPDY/3.1.
//
// Remote command (exec, attach): the client's `v5.channel.k8s.io` or `v4.channel.k8s.io`
// WebSocket against a SPDY/3.1 session with `v4.channel.k8s.io` to the kubelet. Each WebSocket
// binary message is a channel byte and data: 0 stdin, 1 stdout, 2 stderr, 3 the error stream
// (the session's final metav1.Status, the exit code in it), 4 resize (JSON TerminalSize), and in
// v5 255 `[255, c]`: the client closed its channel c (stdin: the SPDY stdin stream gets a FIN,
// so `echo x | kubectl exec -i p -- cat` ends). The SPDY streams are the ones upstream's v4
// client creates, typed by the `streamType` header: error, stdin, stdout, stderr (not with a
// TTY), resize (with a TTY). The session ends when the kubelet has finished the error, stdout
// and stderr streams (or drops the connection, or says GOAWAY): the client then gets a normal
// close; a client that goes away drops the kubelet connection at once.
//
// Port-forward (`SPDY/3.1+portforward.k8s.io`): the WebSocket's binary messages carry the SPDY
// connection's bytes, which go to the kubelet's SPDY/3.1 `portforward.k8s.io` session unchanged.
//
// Both run on the caller's executor and hold no thread; both close both ends before returning.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>

#include "base/byte_stream.h"
#include "base/https_server.h"

namespace kite::apiserver {

inline constexpr std::string_view kRemoteCommandV5 = "v5.channel.k8s.io";
inline constexpr std::string_view kRemoteCommandV4 = "v4.channel.k8s.io";
inline constexpr std::string_view kPortForwardTunnel = "SPDY/3.1+portforward.k8s.io";

// The upgrade request for the kubelet's side: POST with SPDY/3.1 and one stream protocol.
HttpsRequest SpdyUpgradeRequest(std::string_view stream_protocol);

struct RemoteCommandStreams {
  bool in = false, out = false, err = false, tty = false;  // stdin, stdout, stderr, tty
};

// `kubelet` answered 101 to SpdyUpgradeRequest(kRemoteCommandV4); `early` is what came with
// its answer. `v5`: the client negotiated kRemoteCommandV5 (else kRemoteCommandV4).
boost::asio::awaitable<void> TranslateRemoteCommand(WebSocket& client, bool v5, ByteStream& kubelet, std::string early,
                                                    RemoteCommandStreams streams);

// `kubelet` answered 101 to SpdyUpgradeRequest("portforward.k8s.io").
boost::asio::awaitable<void> TunnelPortForward(WebSocket& client, ByteStream& kubelet, std::string early);

}  // namespace kite::apiserver
