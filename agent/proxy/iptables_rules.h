// The service proxy's rules as iptables-restore input: pure logic, no system calls, so it is
// unit-tested by comparing text.
//
// The layout is upstream kube-proxy's iptables mode (users and tools read these chains):
//   nat    KUBE-SERVICES (ClusterIP / external IP / load-balancer IP → the service's chain; the
//          last rule sends node-local destinations to KUBE-NODEPORTS), KUBE-NODEPORTS,
//          KUBE-SVC-<hash> (random pick among endpoints, session affinity with `recent`),
//          KUBE-SVL-<hash> (the same over this node's endpoints: traffic policy Local),
//          KUBE-EXT-<hash> (external destinations: masquerade, then SVC or SVL),
//          KUBE-FW-<hash> (loadBalancerSourceRanges: allowed sources → EXT; the filter table's
//          KUBE-PROXY-FIREWALL drops the rest),
//          KUBE-SEP-<hash> (one endpoint: hairpin masquerade, DNAT), KUBE-MARK-MASQ and
//          KUBE-POSTROUTING (the 0x4000 mark → MASQUERADE).
// Hairpin: a pod reaching its own Service and sent to itself is masqueraded (else its reply to
// itself would skip the un-DNAT), only for this node's endpoints, as upstream's IPVS mode does
// with its loop-back set: another node's pod reaches this node's chains only through external
// destinations, which masquerade anyway (an externalTrafficPolicy Local node port that a remote
// pod sends to its own endpoint here is the one case left out, as there).
//   filter KUBE-SERVICES / KUBE-EXTERNAL-SERVICES (REJECT for ports with no endpoints, DROP for
//          Local policy with none here), KUBE-FORWARD, KUBE-NODEPORTS, KUBE-PROXY-FIREWALL.
// Chain names hash the service port name and protocol (and the endpoint) with SHA-256, base32,
// 16 characters, as upstream does, so the same Service gets the same chain names as under
// kube-proxy.
//
// Partial sync: per-service chains only for the Services named in `changed`, plus the deletion
// of chains no longer wanted; the top-level chains are rewritten whole only when one of those
// Services' lines in them changed (an endpoint change leaves them alone). It goes to
// `iptables-restore --noflush` in one batch (a declared chain is flushed and refilled, an
// undeclared one is left alone).
#pragma once

#include <cstddef>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent/proxy/service_info.h"

namespace kite::proxy {

inline constexpr const char* kMasqueradeMark = "0x4000";
// Past this many endpoints the per-endpoint rules carry no comment (upstream's large cluster
// mode, same threshold).
inline constexpr size_t kLargeClusterEndpoints = 1000;

struct RulesConfig {
  // The pods' CIDR (--cluster-cidr): ClusterIP traffic from outside it is masqueraded, external
  // traffic from inside it skips the Local policy. "": unknown (no such rules).
  std::string cluster_cidr;
  bool masquerade_all = false;  // masquerade every ClusterIP connection (upstream --masquerade-all)
  // The IPv6 family (nftables mode: table ip6 kube-proxy): the Services' IPv6 cluster IPs and
  // endpoints, cluster_cidr the IPv6 pod CIDR. One generator per family: a dual-stack node
  // runs both.
  bool ipv6 = false;
};

// The per-service nat chains in place, by Service key ("ns/name"); carried from one sync to the
// next so a partial sync knows what to delete without reading the tables back.
// A Service's lines in the top-level chains (KUBE-SERVICES, KUBE-NODEPORTS, the filter table's),
// kept so that a partial sync copies them for every unchanged Service instead of building them
// (and hashing its chain names) again.
struct TopLines {
  std::string nat, filter;
  size_t nat_n = 0, filter_n = 0;
};

struct ChainState {
  std::map<std::string, std::vector<std::string>> by_service;
  std::map<std::string, TopLines> top;  // by Service key; an entry for every Service of by_service
  std::set<std::string> orphans;  // chains found in the table that belong to no known Service
};

struct RulesText {
  // iptables-restore inputs, applied in order: `batches` (nat only, possibly none) then `text`
  // (*filter … COMMIT, *nat … COMMIT; "" when a partial sync has nothing to write).
  std::vector<std::string> batches;
  std::string text;
  ChainState chains;  // the state once `text` is applied
  // The per-service chains `text` deletes: after a failed restore they may still be there (the
  // caller keeps them as orphans, which the next full sync deletes).
  std::vector<std::string> deleted;
  size_t filter_rules = 0, nat_rules = 0;  // "-A" lines written
  size_t nat_chains_written = 0;           // per-service chains declared (written or deleted)
};

// `changed`: nullptr for a full sync (every chain written; every per-service chain of `before`
// not wanted any more is deleted), else the Service keys whose chains are rewritten. `before` is
// taken by value: a partial sync moves it into the result and replaces only the written
// Services' entries (the caller moves its state in; a copy of 10k Services' chain lists was most
// of the proxy's own share of a partial sync).
//
// `batch_chains` > 0 (the nft backend): the per-service chains are written in batches of about
// that many chains, whole Services each, before the final text that rewrites the top-level chains
// and deletes what is gone. iptables-nft-restore 1.8.9 keeps the chain names a batch mentions in
// a sorted linked list, walked for every command: a 10k-Service batch (110k chains, 320k rules)
// is quadratic there (minutes of CPU, measured), while batches of a few thousand chains stay
// linear overall. Each batch is still one transaction: a Service's chains change together, and
// a new Service's chains exist before KUBE-SERVICES (in the final text) jumps to them. The legacy
// backend replaces the whole table per commit, so it gets one batch (0).
RulesText GenerateRules(const ServiceMap& services, const RulesConfig& config, const std::set<std::string>* changed,
                        ChainState before, size_t batch_chains = 0);

// prefix + the first `chars` characters of base32(sha256(input)) (RFC 4648, as Go encodes it).
std::string HashName(const char* prefix, const std::string& input, size_t chars = 16);

// upstream's chain names: prefix + the first 16 characters of base32(sha256(parts…)).
std::string ServiceChain(const ServicePort& sp);                      // KUBE-SVC-
std::string LocalServiceChain(const ServicePort& sp);                 // KUBE-SVL-
std::string ExternalChain(const ServicePort& sp);                     // KUBE-EXT-
std::string FirewallChain(const ServicePort& sp);                     // KUBE-FW- (loadBalancerSourceRanges)
std::string EndpointChain(const ServicePort& sp, const Endpoint& ep); // KUBE-SEP-

// Whether a nat chain name is one of the per-service chains this proxy owns.
bool IsServiceChain(const std::string& chain);

}  // namespace kite::proxy
