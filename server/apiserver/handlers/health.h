// The non-resource endpoints about the server itself: /version (what kubectl's version skew
// check and dispatcher read) and the health checks /healthz, /livez and /readyz (`?verbose`
// lists the checks). Ready (/readyz and /healthz) means the datastore answers a read and the
// start's own objects are written (upstream's poststarthook/apiservice-registration-controller);
// /livez only that the process serves.
#pragma once

#include <optional>

#include "base/https_server.h"
#include "datastore/store.h"
#include "server/apiserver/handlers/response.h"

namespace kite::apiserver {

// The answer for `req` when its path is one of these endpoints, otherwise nullopt.
// `registered`: whether the aggregator's first round wrote the start's objects.
std::optional<RawResponse> ServeHealth(const HttpsRequest& req, datastore::Store* store, bool registered);

}  // namespace kite::apiserver
