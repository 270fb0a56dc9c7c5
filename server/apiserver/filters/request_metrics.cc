#include "server/apiserver/filters/request_metrics.h"

#include <cctype>
#include <map>
#include <string>

#include "base/metrics.h"

namespace kite::apiserver {
namespace {

struct RequestMetricFamilies {
  prometheus::Family<prometheus::Counter>& total;
  prometheus::Family<prometheus::Histogram>& duration;
  static RequestMetricFamilies& Get() {
    auto& r = metrics::Default();
    static RequestMetricFamilies m{
        prometheus::BuildCounter().Name("apiserver_request_total")
            .Help("Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.")
            .Register(r),
        prometheus::BuildHistogram().Name("apiserver_request_duration_seconds")
            .Help("Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.")
            .Register(r),
    };
    return m;
  }
};

// The verb and scope labels of apiserver_request_total as upstream writes them (its CleanVerb and
// CleanScope): the HTTP-ish verb in capitals (LIST, WATCH, POST, PUT, ...), CONNECT for the
// streaming and proxy subresources; the scope "resource" for one named object or a create.
std::string RequestMetricVerb(const RequestAttributes& a) {
  if (a.verb.empty()) return "GET";
  const std::string& sub = a.subresource;
  if (sub == "proxy" || sub == "exec" || sub == "attach" || sub == "portforward") return "CONNECT";
  if (a.verb == "create") return "POST";
  if (a.verb == "update") return "PUT";
  if (a.verb == "deletecollection") return "DELETE";
  std::string v = a.verb;
  for (auto& ch : v) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return v;
}

std::string RequestMetricScope(const RequestAttributes& a) {
  if (!a.resource_request) return "";
  if (!a.name.empty() || a.verb == "create") return "resource";
  return a.namespace_.empty() ? "cluster" : "namespace";
}

}  // namespace

void ObserveRequest(const RequestAttributes& a, int code, std::chrono::steady_clock::time_point start) {
  auto& m = RequestMetricFamilies::Get();
  std::map<std::string, std::string> labels = {
      {"verb", RequestMetricVerb(a)}, {"code", std::to_string(code)}, {"group", a.api_group},
      {"version", a.api_version}, {"resource", a.resource}, {"subresource", a.subresource},
      {"scope", RequestMetricScope(a)},
      {"component", "apiserver"}, {"dry_run", ""}};
  m.total.Add(labels).Increment();
  labels.erase("code");
  m.duration.Add(labels, metrics::ExponentialBuckets(0.005, 2, 14))
      .Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

}  // namespace kite::apiserver
