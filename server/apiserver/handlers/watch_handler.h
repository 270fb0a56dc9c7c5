// Serves `?watch=true` for a resource: one JSON event per line over a chunked response,
// {"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{...}}, from the requested
// resourceVersion on.
//
// - resourceVersion "" or "0" (unless sendInitialEvents=false), or sendInitialEvents=true: ADDED
//   for every current object first, then the changes after them. sendInitialEvents with
//   allowWatchBookmarks ends the initial state with a BOOKMARK annotated
//   `k8s.io/initial-events-end: "true"`, as upstream's watch-list does.
// - resourceVersion N: every change after N; a compacted N gets an ERROR event carrying a 410
//   Expired Status ("too old resource version"), which makes informers relist.
// - timeoutSeconds ends the stream; the store's watcher is woken by commits (no polling).
// Events come from the watch cache (watch_cache.h): serialised once for all watchers; a
// resourceVersion older than the cache holds, or a watcher that falls behind it, gets the 410.
//
// Memory per watcher is bounded whatever its client does. The initial state is read from the
// store a page at a time (at one revision) and written as it is encoded, tens of KiB at a time,
// each write awaited before more is encoded; so is every batch of events. A client that stops
// reading therefore blocks its watch once the socket buffers are full, holding one chunk. Such a
// watcher is cut off (the connection is dropped; `Forcing <resource> watcher close due to
// unresponsiveness` at -v 1, apiserver_terminated_watchers_total{resource}) when more than 256
// events of its resource wait behind a write blocked for a second, or when events it has not read
// have left the cache; a well-behaved client resumes or relists. A blocked write also ends at the
// watch's timeout. Nothing thrown inside a watch (std::bad_alloc included) escapes: the request
// ends with a 500 Status, or an ERROR event once streaming, and a log line.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>

#include "api/resources.h"
#include "base/https_server.h"
#include "datastore/store.h"
#include "server/apiserver/storage/list_options.h"
#include "server/apiserver/printers/tables.h"
#include "server/apiserver/storage/watch_cache.h"

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
