// An extension API server's discovery document for one group/version (the APIResourceList it
// answers to GET /apis/<group>/<version>), untrusted input: what discovery then serves for it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "api/resources.h"
#include "base/status.h"

namespace kite::apiserver {

// The largest document read (the API server's own body limit).
inline constexpr size_t kMaxDiscoveryDocumentBytes = 3 << 20;
// More resources than this in one group/version is refused.
inline constexpr size_t kMaxDiscoveredResources = 1000;

// The resources of `body` as resources of group/version (their "<resource>/<sub>" entries as
// subresources of the parent). Entries without a kind, or whose name is not lower-case letters,
// digits, '-' and '.' (at most 253; one '/' for a subresource) are left out. An error when
// `body` is no JSON object or lists more than kMaxDiscoveredResources.
Result<std::vector<api::ResourceInfo>> ParseApiResourceList(std::string_view body, const std::string& group,
                                                            const std::string& version);

}  // namespace kite::apiserver
