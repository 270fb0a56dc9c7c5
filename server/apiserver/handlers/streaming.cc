// The handlers that answer on the connection itself: watch (streamed by watch_handler.cc); exec,
// attach and port-forward are in remote_stream.cc.
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

}  // namespace kite::apiserver
