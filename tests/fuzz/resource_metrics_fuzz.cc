// What a kubelet answers on /metrics/resource, untrusted, as the metrics server decodes it
// (server/metricsserver/resource_metrics.h): parsing never crashes, and what it accepts is
// sane — every value finite and non-negative, every container fully named.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "server/metricsserver/resource_metrics.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto parsed = kite::metricsserver::ParseResourceMetrics(text, 1'700'000'000'000);
  if (!parsed.ok()) return 0;
  auto sane = [](const kite::metricsserver::MetricPoint& p) {
    return std::isfinite(p.cpu_seconds) && p.cpu_seconds >= 0 && std::isfinite(p.memory_bytes) &&
           p.memory_bytes >= 0 && std::isfinite(p.start_time_s) && p.start_time_s >= 0;
  };
  if (parsed->node && !sane(*parsed->node)) std::abort();
  for (const auto& [key, point] : parsed->containers) {
    if (key.namespace_.empty() || key.pod.empty() || key.container.empty() || !sane(point)) std::abort();
  }
  return 0;
}
