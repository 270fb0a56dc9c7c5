#include "addons/dns/server_metrics.h"

#include "addons/dns/message.h"

namespace kite::dns {
namespace {

using Clock = std::chrono::steady_clock;

// The query types CoreDNS names in its `type` label; the rest are "other".
constexpr std::array<uint16_t, 9> kTypes = {kTypeA, kTypeAAAA, kTypeSRV, kTypePTR, kTypeCNAME, 15 /*MX*/, kTypeTXT,
                                            kTypeNS, kTypeSOA};
constexpr std::array<const char*, 10> kTypeNames = {"A", "AAAA", "SRV", "PTR", "CNAME", "MX", "TXT", "NS", "SOA", "other"};
size_t TypeIndex(uint16_t t) {
  for (size_t i = 0; i < kTypes.size(); ++i) {
    if (kTypes[i] == t) return i;
  }
  return kTypes.size();
}
const char* RcodeName(unsigned r) {
  static const char* kNames[] = {"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
                                 "NXRRSET", "NOTAUTH", "NOTZONE"};
  return r < std::size(kNames) ? kNames[r] : "other";
}

static_assert(kTypeNames.size() == kMetricTypes);

}  // namespace

ServerMetrics::ServerMetrics(const std::string& server) {
  auto& reg = metrics::Default();
  static auto& requests = prometheus::BuildCounter()
                              .Name("coredns_dns_requests_total")
                              .Help("Counter of DNS requests made per zone, protocol and family.")
                              .Register(reg);
  static auto& responses = prometheus::BuildCounter()
                               .Name("coredns_dns_responses_total")
                               .Help("Counter of response status codes.")
                               .Register(reg);
  static auto& duration = prometheus::BuildHistogram()
                              .Name("coredns_dns_request_duration_seconds")
                              .Help("Histogram of the time (in seconds) each request took.")
                              .Register(reg);
  static auto& hits = prometheus::BuildCounter()
                          .Name("coredns_cache_hits_total")
                          .Help("The count of cache hits.")
                          .Register(reg);
  static auto& misses = prometheus::BuildCounter()
                            .Name("coredns_cache_misses_total")
                            .Help("The count of cache misses. Deprecated, derive misses from cache hits/requests counters.")
                            .Register(reg);
  static auto& cache_requests = prometheus::BuildCounter()
                                    .Name("coredns_cache_requests_total")
                                    .Help("The count of cache requests.")
                                    .Register(reg);
  static auto& entries = prometheus::BuildGauge()
                             .Name("coredns_cache_entries")
                             .Help("The number of elements in the cache.")
                             .Register(reg);
  static auto& forwards = prometheus::BuildCounter()
                              .Name("coredns_forward_requests_total")
                              .Help("Counter of requests made per upstream.")
                              .Register(reg);
  forward_family = &forwards;
  const auto buckets = metrics::ExponentialBuckets(0.00025, 2, 16);  // CoreDNS's: 0.25 ms .. 8 s
  for (size_t t = 0; t < kTypeNames.size(); ++t) {
    for (int proto = 0; proto < 2; ++proto) {
      for (int family = 0; family < 2; ++family) {
        req[proto][family][t] = &requests.Add({{"server", server},
                                               {"zone", "."},
                                               {"view", ""},
                                               {"proto", proto ? "tcp" : "udp"},
                                               {"family", family ? "2" : "1"},
                                               {"type", kTypeNames[t]}});
      }
    }
    dur[t] = &duration.Add({{"server", server}, {"zone", "."}, {"view", ""}, {"type", kTypeNames[t]}}, buckets);
  }
  for (unsigned r = 0; r < resp.size(); ++r) {
    resp[r] = &responses.Add({{"server", server}, {"zone", "."}, {"view", ""}, {"rcode", RcodeName(r)}, {"plugin", ""}});
  }
  hit_success = &hits.Add({{"server", server}, {"type", "success"}, {"zones", "."}, {"view", ""}});
  hit_denial = &hits.Add({{"server", server}, {"type", "denial"}, {"zones", "."}, {"view", ""}});
  miss = &misses.Add({{"server", server}, {"zones", "."}, {"view", ""}});
  cache_req = &cache_requests.Add({{"server", server}, {"zones", "."}, {"view", ""}});
  entries_success = &entries.Add({{"server", server}, {"type", "success"}, {"zones", "."}, {"view", ""}});
}

void ServerMetrics::Record(bool tcp, bool v6, uint16_t qtype, unsigned rcode, Clock::time_point start) {
  const size_t t = TypeIndex(qtype);
  req[tcp][v6][t]->Increment();
  resp[rcode < resp.size() - 1 ? rcode : resp.size() - 1]->Increment();
  dur[t]->Observe(std::chrono::duration<double>(Clock::now() - start).count());
}

}  // namespace kite::dns
