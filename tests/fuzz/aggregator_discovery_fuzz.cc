// An extension API server's APIResourceList, untrusted, as the aggregator reads it
// (server/apiserver/aggregator/discovery_document.h): parsing never crashes, and what it accepts
// is what discovery may serve — every resource of the asked group/version, named in lower case,
// with a kind, within the limits. The input is parsed as it is, and again with its lines as the
// fields of resource entries (name, kind, singularName, a verb), so that the entry rules are
// reached without first finding JSON by chance (boost::json itself is not instrumented).
#include <boost/json.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <vector>

#include "server/apiserver/aggregator/discovery_document.h"

namespace {

void Check(std::string_view text) {
  auto parsed = kite::apiserver::ParseApiResourceList(text, "wardle.example.com", "v1alpha1");
  if (!parsed.ok()) return;
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
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  Check(text);
  std::vector<std::string_view> lines;
  for (size_t start = 0; start <= text.size();) {
    const size_t nl = text.find('\n', start);
    const size_t end = nl == std::string_view::npos ? text.size() : nl;
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  boost::json::array resources;
  for (size_t i = 0; i + 3 < lines.size(); i += 4) {
    resources.push_back(boost::json::object{{"name", lines[i]},
                                            {"kind", lines[i + 1]},
                                            {"singularName", lines[i + 2]},
                                            {"namespaced", lines[i].size() % 2 == 0},
                                            {"verbs", boost::json::array{boost::json::string(lines[i + 3])}}});
  }
  Check(boost::json::serialize(boost::json::object{{"resources", std::move(resources)}}));
  return 0;
}
