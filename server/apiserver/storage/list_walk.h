// The stored objects a LIST returns, read without decoding them: what Registry::List decodes and
// what a LIST streamed from the stored text (handlers/list_stream.h) writes out as it is.
//
// Semantics (those of Registry::List, registry.h): the objects of r under ns (all namespaces
// when ns is empty) at one revision — the latest, the continue token's, or the one
// resourceVersionMatch=Exact names — in key order, at most o.limit of them (all when 0), with a
// continue token when more follow (and remainingItemCount when no selector filters). Errors:
// 410 Expired for a compacted revision ("continue parameter is too old" for a continue token),
// 400 for an Exact match without a valid resourceVersion, 500 for a store failure.
// Reads only the store (its values are shared, nothing is copied); thread-safe as the store is.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "api/resources.h"
#include "datastore/store.h"
#include "server/apiserver/status.h"
#include "server/apiserver/storage/list_options.h"

namespace kite::apiserver {

struct StoredList {
  int64_t revision = 0;                    // the list's resourceVersion: the revision it was read at
  std::vector<datastore::KeyValue> items;  // in key order
  std::string continue_token;              // "" when the list is complete
  int64_t remaining_item_count = -1;       // set beside a continue token when known
};

// `matches` says whether a stored object is in the list (selectors; a value that is not a JSON
// object is refused there too). It is called in key order on every candidate up to and including
// the first match past the limit, whose key becomes the continue token.
Result<StoredList> WalkList(datastore::Store* store, const api::ResourceInfo& r, const std::string& ns,
                            const ListOptions& o, const std::function<bool(const datastore::KeyValue&)>& matches);

// The list's metadata as List writes it: resourceVersion, then continue and remainingItemCount.
boost::json::object ListMetadata(const StoredList& list);

}  // namespace kite::apiserver
