// kite-dns's Prometheus metrics under CoreDNS's names (coredns_dns_requests_total,
// coredns_dns_responses_total, coredns_dns_request_duration_seconds, coredns_cache_*,
// coredns_forward_requests_total), so CoreDNS dashboards read kite-dns unchanged. The children
// of each family are looked up once per server, so recording a query costs a few atomic adds.
#pragma once

#include <array>
#include <chrono>
#include <string>

#include "base/metrics.h"

namespace kite::dns {

// The query types CoreDNS names in its `type` label, and "other".
inline constexpr size_t kMetricTypes = 10;

struct ServerMetrics {
  explicit ServerMetrics(const std::string& server);
  // One answered query: its transport, family, type, rcode and the time since `start`.
  void Record(bool tcp, bool v6, uint16_t qtype, unsigned rcode, std::chrono::steady_clock::time_point start);

  prometheus::Counter* req[2][2][kMetricTypes];
  prometheus::Histogram* dur[kMetricTypes];
  std::array<prometheus::Counter*, 12> resp;
  prometheus::Counter *hit_success, *hit_denial, *miss, *cache_req;
  prometheus::Gauge* entries_success;
  prometheus::Family<prometheus::Counter>* forward_family;
};

}  // namespace kite::dns
