// Transport: how a Client reaches the Kubernetes API. Two implementations obey the same
// contract, so a controller cannot tell them apart:
// - the local transport (server/apiserver/local_transport.h), which hands a request straight to
//   kite-server's request pipeline (authentication by the caller's fixed identity,
//   authorization, handlers, watch cache) without sockets, TLS or HTTP parsing;
// - the REST transport (client/rest_transport.h), HTTPS to a server named by a kubeconfig, for
//   programs outside kite-server (kite-agent, kite-hollow).
//
// Threading: Do() blocks its caller and may be called from any thread that is not one of the
// transport's own (a watch callback must never call Do: post the work elsewhere). Watch
// callbacks run on a transport thread, one at a time per stream, in order; keep them short.
// DoAsync() returns at once where the transport supports it (SupportsAsync()): the answer goes
// to `done` on a transport thread, so `done`, like a watch callback, must never call Do.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace kite::client {

struct Request {
  std::string method = "GET";
  std::string path;                                         // e.g. /api/v1/namespaces/default/pods
  std::vector<std::pair<std::string, std::string>> query;  // not yet encoded
  std::string body;
  std::string content_type = "application/json";
  // The caller ignores the body of a successful answer; a transport may leave it out (the local
  // one asks the server not to serialise it).
  bool body_unused = false;
};

struct Response {
  int code = 0;       // HTTP status; 0 = the request never got an answer (see `error`)
  std::string body;   // the object, list or metav1.Status as JSON
  std::string error;  // transport failure, when code == 0
};

// A running watch stream; destroying it (or Stop()) ends the stream. on_end is not called for a
// stream stopped this way.
class WatchStream {
 public:
  virtual ~WatchStream() = default;
  virtual void Stop() = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;

  virtual Response Do(const Request& request) = 0;

  // The request without holding the caller's thread while it waits (a write waits for its
  // fsync): many can be in flight from one thread, as upstream's goroutine per request. `done`
  // is called exactly once. The default runs Do() and calls `done` before returning.
  virtual bool SupportsAsync() const { return false; }
  virtual void DoAsync(const Request& request, std::function<void(Response)> done) { done(Do(request)); }

  // Starts a `watch=true` request. `on_line` gets each event's JSON line (without the newline);
  // `on_end` is called once when the stream ends by itself: with code 200 when the server closed
  // it (timeoutSeconds), otherwise the error status (code 0 for a transport failure).
  virtual std::unique_ptr<WatchStream> Watch(const Request& request,
                                             std::function<void(std::string_view line)> on_line,
                                             std::function<void(Response end)> on_end) = 0;
};

// "path?k=v&k2=v2" with percent-encoding of keys and values.
std::string EncodeTarget(const Request& request);

}  // namespace kite::client
