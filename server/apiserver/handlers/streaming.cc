// The handlers that answer on the connection itself: watch (streamed by watch_handler.cc) and
// exec/attach over WebSocket (kubectl 1.32's default transport for them).
#include <boost/json.hpp>

#include <cctype>

#include "server/apiserver/handlers/handlers.h"
#include "server/apiserver/handlers/handlers_internal.h"
#include "server/apiserver/storage/list_options.h"
#include "server/apiserver/handlers/watch_handler.h"
#include "server/apiserver/printers/tables.h"

namespace kite::apiserver {
namespace asio = boost::asio;

bool WantsWebSocket(const HttpsRequest& req) {
  std::string up = req.Header("upgrade");
  for (char& ch : up) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return up.find("websocket") != std::string::npos;
}

asio::awaitable<Result<ApiResponse>> ResourceHandlers::Watch(Call& c) {
  auto opts = ParseListOptions(c.req, c.r);
  if (!opts.ok()) co_return opts.error();
  WatchFormat format;
  format.table_version = WantedTableVersion(c.req.Header("accept"));
  format.include = ParseIncludeObject(c.req.Query("includeObject"));
  co_await ServeWatch(c.req, c.res, store_, watch_cache_, c.r, c.ns, std::move(opts.value()), std::move(format));
  ApiResponse streamed;
  streamed.streamed = true;
  co_return streamed;
}

// The remote-command channel protocol (v5.channel.k8s.io, or the older ones the client offers).
// The stream itself is the kubelet's to serve; until a kubelet is connected the route upgrades,
// reports why on the error channel (3) as a Status, and closes, which kubectl prints as the
// command's error.
asio::awaitable<Result<ApiResponse>> ResourceHandlers::RemoteCommand(Call& c) {
  auto stream = co_await NodeStream(registry_, c.r, c.ns, c.info.name, c.info.subresource);
  Status e = stream.ok() ? InternalError("no stream") : stream.error();
  if (e.http_code() == 404) co_return e;
  const std::string offered = c.req.Header("sec-websocket-protocol");
  std::string protocol;
  for (const char* p : {"v5.channel.k8s.io", "v4.channel.k8s.io", "v3.channel.k8s.io", "v2.channel.k8s.io",
                        "channel.k8s.io"}) {
    if (offered.find(p) != std::string::npos) {
      protocol = p;
      break;
    }
  }
  if (protocol.empty()) co_return BadRequest("no supported remote command protocol offered");
  auto ws = co_await c.res.AcceptWebSocket(protocol);
  if (!ws) co_return e;
  std::string message(1, '\x03');
  message += StatusJson(e);
  co_await ws->WriteBinary(std::move(message));
  co_await ws->Close();
  ApiResponse streamed;
  streamed.streamed = true;
  co_return streamed;
}

}  // namespace kite::apiserver
