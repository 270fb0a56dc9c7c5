// Serves `?watch=true` for a resource: one JSON event per line over a chunked response,
// {"type":"ADDED|MODIFIED|DELETED|ERROR","object":{...}}, from the requested resourceVersion on.
//
// - resourceVersion "" or "0": ADDED for every current object first, then changes after them.
// - resourceVersion N: every change after N; a compacted N gets an ERROR event carrying a 410
//   Expired Status ("too old resource version"), which makes informers relist.
// - timeoutSeconds ends the stream; the store's watcher is woken by commits (no polling).
// Events come from the watch cache (watch_cache.h): serialised once for all watchers; a
// resourceVersion older than the cache holds, or a watcher that falls behind it, gets the 410.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>

#include "api/resources.h"
#include "base/https_server.h"
#include "datastore/store.h"
#include "server/apiserver/list_options.h"
#include "server/apiserver/tables.h"
#include "server/apiserver/watch_cache.h"

namespace kite::apiserver {

// Options narrow the events: label/field selectors (an object that stops matching is sent as
// DELETED, one that starts matching as ADDED, as upstream's watch cache does), timeoutSeconds,
// allowWatchBookmarks (a BOOKMARK with the current resourceVersion every minute and just before
// a timeout closes the stream). A non-empty `table_version` sends each object as a one-row
// Table (kubectl get -w).
struct WatchFormat {
  std::string table_version;  // "" = plain objects
  IncludeObject include = IncludeObject::kMetadata;
};

boost::asio::awaitable<void> ServeWatch(HttpsRequest& req, HttpsResponder& res, datastore::Store* store,
                                        WatchCache* cache, const api::ResourceInfo& r, const std::string& ns,
                                        ListOptions opts, WatchFormat format);

}  // namespace kite::apiserver
