// API discovery documents, rendered from the built-in resource table (api/resources.h):
// aggregated discovery (apidiscovery.k8s.io v2 and v2beta1) for /api and /apis, and the legacy
// APIVersions / APIGroupList / APIGroup / APIResourceList documents. The format is chosen by the
// exact versions the client's Accept lists: kubectl 1.28 only understands v2beta1, and a client
// that asks for neither gets the legacy documents.
#pragma once

#include <optional>
#include <string>

#include "api/resources.h"
#include "base/https_server.h"
#include "server/apiserver/handlers/response.h"

namespace kite::apiserver {

enum class DiscoveryFormat { kLegacy, kAggregatedV2, kAggregatedV2Beta1 };

DiscoveryFormat NegotiateDiscovery(const std::string& accept);
std::string DiscoveryContentType(DiscoveryFormat f);

// `core` selects /api (the core group) or /apis (every named group).
// All documents describe `set` (built-ins plus custom resources).
std::string AggregatedDiscovery(const api::ResourceSet& set, bool core, DiscoveryFormat f);
std::string LegacyApiVersions(const std::string& server_address);
std::string LegacyApiGroupList(const api::ResourceSet& set);
std::optional<std::string> LegacyApiGroup(const api::ResourceSet& set, const std::string& group);
std::optional<std::string> LegacyApiResourceList(const api::ResourceSet& set, const std::string& group,
                                                 const std::string& version);

// The discovery document a GET of `req.path` asks for: /api, /apis, /api/v1, /apis/<group>,
// /apis/<group>/<version>; nullopt for any other path (or an unknown group or version).
std::optional<RawResponse> ServeDiscovery(const HttpsRequest& req, const api::ResourceSet& set);

}  // namespace kite::apiserver
