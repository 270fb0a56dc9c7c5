// API discovery documents, rendered from the built-in resource table (api/resources.h):
// aggregated discovery (apidiscovery.k8s.io v2 and v2beta1) for /api and /apis, and the legacy
// APIVersions / APIGroupList / APIGroup / APIResourceList documents. The format is chosen by the
// exact versions the client's Accept lists: kubectl 1.28 only understands v2beta1, and a client
// that asks for neither gets the legacy documents.
#pragma once

#include <optional>
#include <string>

namespace kite::apiserver {

enum class DiscoveryFormat { kLegacy, kAggregatedV2, kAggregatedV2Beta1 };

DiscoveryFormat NegotiateDiscovery(const std::string& accept);
std::string DiscoveryContentType(DiscoveryFormat f);

// `core` selects /api (the core group) or /apis (every named group).
std::string AggregatedDiscovery(bool core, DiscoveryFormat f);
std::string LegacyApiVersions(const std::string& server_address);
std::string LegacyApiGroupList();
std::optional<std::string> LegacyApiGroup(const std::string& group);
std::optional<std::string> LegacyApiResourceList(const std::string& group, const std::string& version);

}  // namespace kite::apiserver
