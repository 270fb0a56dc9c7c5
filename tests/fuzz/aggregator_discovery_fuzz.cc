// An extension API server's APIResourceList, untrusted, as the aggregator reads it
// (server/apiserver/aggregator/discovery_document.h): parsing never crashes, and what it accepts
// is what discovery may serve — every resource of the asked group/version, named in lower case,
// with a kind, within the limits.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/apiserver/aggregator/discovery_document.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = kite::apiserver::ParseApiResourceList(text, "wardle.example.com", "v1alpha1");
  if (!parsed.ok()) return 0;
  if (parsed->size() > kite::apiserver::kMaxDiscoveredResources) std::abort();
  for (const auto& r : *parsed) {
    if (r.group != "wardle.example.com" || r.version != "v1alpha1" || r.kind.empty() || r.resource.empty() ||
        r.singular.empty() || r.resource.find('/') != std::string::npos) {
      std::abort();
    }
    for (char c : r.resource) {
      if (c >= 'A' && c <= 'Z') std::abort();
    }
    for (const auto& s : r.subresources) {
      if (s.name.empty() || s.name.find('/') != std::string::npos) std::abort();
    }
  }
  return 0;
}
