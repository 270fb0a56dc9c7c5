// A LIST answered from the stored text: the objects are not decoded and encoded again, as
// Registry::List does; each stored value is written out with its metadata.resourceVersion
// spliced in (storage/stored_json.h), a chunk at a time, so a LIST of megabytes costs a scan of
// the text and the copy into each chunk, and holds one 64 KiB chunk of output plus a few
// pointers per object (into the store's shared values) however large it is.
//
// The answer is the same bytes Registry::List's object serialises to ({"kind":"<Kind>List",
// "apiVersion":…,"metadata":{"resourceVersion":…[,"continue":…[,"remainingItemCount":…]]},
// "items":[…]}), sent with chunked encoding when over one chunk and whole (one write, with a
// Content-Length) otherwise; selectors, limit/continue and resourceVersionMatch
// as List (storage/list_walk.h). Errors are found before anything is written and returned, as
// List returns them. Only for resources whose objects are shown as stored (StreamableList).
#pragma once

#include <boost/asio/awaitable.hpp>

#include <string>

#include "api/resources.h"
#include "base/https_server.h"
#include "datastore/store.h"
#include "server/apiserver/handlers/response.h"
#include "server/apiserver/storage/list_options.h"

namespace kite::apiserver {

// Whether a LIST of r for `req` can be streamed from the stored text: r's objects need no change
// to be shown (not Events or HPAs, which are converted between versions, nor custom resources
// whose schema has defaults), the client does not ask for a Table, and it reads the body.
bool StreamableList(const api::ResourceInfo& r, const HttpsRequest& req);

// Writes the LIST to `res` and answers `streamed` (code 200), or returns the error without
// writing anything.
boost::asio::awaitable<Result<ApiResponse>> StreamList(HttpsResponder& res, datastore::Store* store,
                                                      const api::ResourceInfo& r, const std::string& ns,
                                                      const ListOptions& o);

}  // namespace kite::apiserver
