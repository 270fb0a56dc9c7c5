// Serves `?watch=true` for a resource: one JSON event per line over a chunked response,
// {"type":"ADDED|MODIFIED|DELETED|ERROR","object":{...}}, from the requested resourceVersion on.
//
// - resourceVersion "" or "0": ADDED for every current object first, then changes after them.
// - resourceVersion N: every change after N; a compacted N gets an ERROR event carrying a 410
//   Expired Status ("too old resource version"), which makes informers relist.
// - timeoutSeconds ends the stream; the store's watcher is woken by commits (no polling).
// This reads the datastore directly; the watch cache (one serialisation per event for all
// watchers, bookmarks) replaces it behind the same function.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>

#include "api/resources.h"
#include "base/https_server.h"
#include "datastore/store.h"

namespace kite::apiserver {

boost::asio::awaitable<void> ServeWatch(HttpsRequest& req, HttpsResponder& res, datastore::Store* store,
                                        const api::ResourceInfo& r, const std::string& ns);

}  // namespace kite::apiserver
