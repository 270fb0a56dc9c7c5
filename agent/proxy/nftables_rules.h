// The service proxy's nftables mode (upstream's KEP-3866 layout): the rules as `nft -f -` input,
// pure logic, no system calls, so it is unit-tested by comparing text.
//
// Everything lives in one table, `ip kube-proxy` (upstream's name), that nothing else writes
// (`ip6 kube-proxy` with RulesConfig::ipv6: the same layout for IPv6 Services):
//   base chains  nat-prerouting / nat-output → services, nat-postrouting → masquerading;
//                filter-prerouting → firewall-check, filter-input / -forward / -output →
//                service-endpoints-check (and nodeport-endpoints-check, firewall-check);
//   maps         service-ips        daddr . proto . port → goto the Service's chain
//                service-nodeports  proto . port → goto its external chain
//                no-endpoint-services / no-endpoint-nodeports → goto reject-chain or drop
//                firewall-ips       load-balancer IP . proto . port → goto its firewall chain
//                endpoint-chains    slot → goto endpoint chain (session affinity only)
//                endpoints-<chain>  per picking chain: slot → endpoint address . port (the DNAT
//                                   target), bound by that chain's one rule
//   set          hairpin            this node's endpoint IP . same IP: masqueraded after DNAT
//                                   (local endpoints only, as in iptables_rules.h);
//   shared       pick-<proto>-<n>   the picking chain of every plain cluster-IP port (no session
//                                   affinity, no Local policy, no node port, external or
//                                   load-balancer IP) with that protocol and n endpoints: its
//                                   map endpoints-pick-<proto>-<n> is keyed by cluster IP .
//                                   port . slot, so such a port has no chain, map or rule of its
//                                   own: a Service or endpoint change is element changes only;
//   per port     service-<hash>-ns/name/proto/port (cluster-wide pick), local-… (this node's
//                endpoints: traffic policy Local), external-… (masquerade, then service or
//                local), firewall-… (loadBalancerSourceRanges), and for session affinity only
//                endpoint-…__ip/port chains with their affinity-… dynamic sets.
// An endpoint is picked with `numgen random mod N` looked up in the picking chain's own named
// map, not with a chain per endpoint and an anonymous map per Service (nft spends per chain and
// the kernel per anonymous set: both dominated a 10k-Service sync), nor in one global map: the
// kernel checks every element of a map against every rule bound to it (nft_add_set_elem walks
// the bindings per element, nf_tables_bind_set walks the elements per new binding), so 10k rules
// bound to one 100k-element map cost ~1e9 steps per full sync (perf, bench/RESULTS.md); a
// shared picking chain's map is bound by that chain's one rule, whatever its size. Ports of
// the shared chains cost nft and the kernel elements only, so a 10k-Service table is a few
// dozen rules (a per-port chain with one rule into a shared map was 60 s of kernel time per
// full sync at 10k: every rule bound to the big map). A
// Service with its own picking chain and more than kSlotStride endpoints uses the first
// kSlotStride of them (shared picking chains have no such limit). Session
// affinity still goes through the global `endpoint-chains` verdict map, a block of kSlotStride
// slots per picking chain.
//
// A full sync flushes the table's rules and writes every rule again (rules and chains deleted
// by hand come back; dynamic affinity sets keep their entries). Map elements, though, are only
// added and deleted where they differ from what the last sync left: the kernel spends far more
// per element than per rule (flushing and refilling the maps was 4/5 of a 3k-Service full
// sync, measured), so an element deleted by hand comes back only when the table is made again.
// Each full sync deletes and re-adds one sentinel element per map: a table or map deleted or
// flushed by hand makes that transaction fail, and the next sync, knowing nothing, deletes and
// makes the whole table again in one transaction (as the first sync of a process does). A
// partial sync rewrites only the changed Services: their chains flushed and refilled, their
// elements' differences, the chains they no longer need deleted. One transaction either way.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "agent/proxy/iptables_rules.h"
#include "agent/proxy/service_info.h"

namespace kite::proxy {

inline constexpr const char* kNftTable = "kube-proxy";
inline constexpr uint32_t kSlotStride = 4096;

// What one Service put in the table, so that a partial sync can take it out again.
struct NftServiceState {
  std::vector<std::string> chains;                          // regular chains it owns
  std::vector<std::string> sets;                            // affinity sets
  std::vector<std::string> maps;                            // its endpoints-<chain> maps
  struct Element {
    std::string map, key, value;
    bool operator<(const Element& o) const { return std::tie(map, key, value) < std::tie(o.map, o.key, o.value); }
  };
  std::vector<Element> elements;                            // the map elements it added
  std::vector<std::string> picks;                           // shared picking chains it uses
  std::vector<std::string> hairpin;                         // endpoint IPs it counts in @hairpin
  std::map<std::string, uint32_t> slots;                    // picking chain → slot block id
};

struct NftState {
  std::map<std::string, NftServiceState> services;  // by "ns/name"
  std::map<std::string, int> hairpin_refs;          // endpoint IP → Services using it
  std::map<std::string, int> pick_refs;             // picking chain → Service ports using it
  std::set<uint32_t> used_slots;                    // block ids (0 unused)
};

struct NftText {
  std::string text;  // nft -f input: one transaction
  size_t rules = 0, elements = 0, chains_written = 0;
};

// `state`: what the table holds, updated in place to what it holds once the text is applied
// (no copy of every Service's state per sync); if applying fails, the caller's next call must
// pass known = false. `known`: `state` is exactly what the table holds (else a full sync starts
// from nothing). `changed`: nullptr for a full sync, else the Service keys rewritten.
NftText GenerateNftRules(const ServiceMap& services, const RulesConfig& config, const std::set<std::string>* changed,
                         NftState& state, bool known);

// upstream's chain names: prefix-HASH8-ns/name/proto/port (HASH8: base32(sha256) of the rest).
std::string NftServiceChain(const ServicePort& sp);
std::string NftEndpointsMap(const std::string& picking_chain);  // endpoints-<chain>
std::string NftPickChain(const std::string& proto, size_t endpoints);  // pick-<proto>-<n>, proto lower case
std::string NftEndpointChain(const ServicePort& sp, const Endpoint& ep);

}  // namespace kite::proxy
