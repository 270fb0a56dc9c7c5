// The audit policy decoder (server/apiserver/filters/audit_policy.h) on any text: decoding never
// crashes, and a policy that decodes evaluates a few resource and non-resource requests to a
// valid level without crashing.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/apiserver/filters/audit_policy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace audit = kite::apiserver::audit;
  auto policy = audit::ParsePolicy(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!policy.ok()) return 0;
  kite::apiserver::RequestAttributes a;
  a.user = {"jane", "", {"devs", "system:authenticated"}, {}};
  for (int i = 0; i < 4; ++i) {
    a.resource_request = i < 3;
    a.verb = i == 0 ? "create" : "get";
    a.api_group = i == 1 ? "apps" : "";
    a.resource = i == 1 ? "deployments" : "pods";
    a.subresource = i == 2 ? "log" : "";
    a.namespace_ = i == 2 ? "" : "default";
    a.name = i == 0 ? "" : "p";
    a.path = "/healthz/etcd";
    const auto d = audit::Evaluate(*policy, a);
    if (d.level < audit::Level::kNone || d.level > audit::Level::kRequestResponse) std::abort();
    (void)audit::LevelName(d.level);
  }
  return 0;
}
