// The cluster zone: every name kite-dns answers with authority, precomputed from Services,
// EndpointSlices and Pods into wire-format bytes, so answering is a hash lookup and a copy.
//
// Records follow the Kubernetes DNS specification (as CoreDNS's kubernetes plugin serves it):
//   <svc>.<ns>.svc.<domain>            A/AAAA: the ClusterIPs; headless: the ready endpoints' IPs;
//                                      ExternalName: CNAME to spec.externalName
//   <host>.<svc>.<ns>.svc.<domain>     A/AAAA of one endpoint of a headless Service, <host> being
//                                      the endpoint's hostname or its IP with '-' for '.' / ':'
//   _<port>._<proto>.<svc>.<ns>.svc.<domain>  SRV for each named port (and all of them at the
//                                      Service name), targets' addresses in the additional section
//   <a-b-c-d>.<ns>.pod.<domain>        A/AAAA of a pod ("verified": only pods that exist with that
//                                      IP in that namespace; "insecure": any well-formed name)
//   PTR under in-addr.arpa / ip6.arpa  for ClusterIPs, headless endpoints and pod IPs
//   <domain>                           SOA (also in the authority section of every negative answer)
//   <svc>.<ns>                         CNAME to <svc>.<ns>.svc.<domain> (followed in the answer), only
//                                      for Services that exist: see "Two-label names" below.
// Every ancestor of a name is an empty non-terminal: asking it gives NODATA, not NXDOMAIN.
//
// Two-label names: busybox's nslookup (1.28.4 and later, Debian's 1.35 included) never applies the
// search path to a name with a dot, so `nslookup kubernetes.default` asks `kubernetes.default.`
// as written, a name outside the cluster domain; CoreDNS forwards it and the user sees NXDOMAIN.
// kite-dns answers `<svc>.<ns>.` itself when that Service exists in that namespace (a CNAME to
// its cluster name, so the user sees which name answered), and forwards every other two-label
// name as before. The price: a Service shadows the real name it spells (a Service `example` in a
// namespace `com` answers `example.com` inside the cluster), as a search path would for
// resolvers that try it first. Resolvers that use the search path (glibc, musl with ndots:5)
// never ask the bare name for these, so they see no difference.
//
// A Zone is immutable once built; the server swaps in a new one when the cluster changes.
// Records owned by the question name start with a compression pointer to offset 12 (where the
// question's name sits in every reply), which keeps the client's letter case (0x20 encoding).
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "addons/dns/message.h"

namespace kite::dns {

struct ZoneConfig {
  std::string domain = "cluster.local";
  uint32_t ttl = 5;  // of every record, and the SOA MINIMUM (the negative-caching TTL)
  enum class Pods { kDisabled, kInsecure, kVerified } pods = Pods::kVerified;
};

// The precomputed sections for one (name, type).
struct RRset {
  uint16_t type = 0;
  uint16_t count = 0;        // records in `answer`
  std::string answer;        // records, owner = pointer to offset 12
  uint16_t extra_count = 0;  // records in `extra`
  std::string extra;         // additional section (addresses of SRV targets), full owner names
};

// What the zone says about one question.
struct ZoneAnswer {
  uint16_t rcode = kNoError;
  uint16_t answer_count = 0, authority_count = 0, extra_count = 0;
  std::string answer, authority, extra;
};

class Zone {
 public:
  using Objects = std::vector<std::shared_ptr<const boost::json::object>>;
  static std::shared_ptr<const Zone> Build(const ZoneConfig& config, const Objects& services, const Objects& slices,
                                           const Objects& pods);
  // An empty zone (before the first lists arrived): only the apex and its SOA.
  static std::shared_ptr<const Zone> Empty(const ZoneConfig& config) { return Build(config, {}, {}, {}); }

  // Whether `name` (lower case, dotted) is answered from this zone: the cluster domain and
  // everything below it, and reverse names of cluster IPs this zone knows. Other names go to
  // the upstream resolvers.
  bool Owns(const std::string& name) const;

  // Fills `out` for an owned name. `out` is reused between calls (its buffers kept).
  void Answer(const std::string& name, uint16_t qtype, ZoneAnswer* out) const;

  const ZoneConfig& config() const { return config_; }
  size_t names() const { return nodes_.size(); }

 private:
  struct Node {
    std::vector<RRset> rrsets;  // at most one per type; a CNAME node has only the CNAME
  };
  explicit Zone(const ZoneConfig& c) : config_(c) {}
  RRset& Rrset(const std::string& name, uint16_t type);
  void AddName(const std::string& name);  // the name and its ancestors up to the apex exist
  void AddAddress(const std::string& name, const std::string& ip);
  void AddPtr(const std::string& ip, const std::string& target);
  void AddCname(const std::string& name, const std::string& target);
  void AddAlias(const std::string& alias, const std::string& target);  // <svc>.<ns> (no ancestors)
  void AddSrv(const std::string& name, uint16_t port, const std::string& target, const std::string& target_ip);
  void Finish();  // SRV weights, size caps
  bool InsecurePod(const std::string& name, uint16_t qtype, ZoneAnswer* out) const;
  void AppendSoa(ZoneAnswer* out) const;
  void AppendWithOwner(const RRset& set, const std::string& owner, ZoneAnswer* out) const;

  ZoneConfig config_;
  std::string dot_domain_;   // ".cluster.local"
  std::string soa_record_;   // the apex's SOA as an authority record (full owner name)
  std::unordered_map<std::string, Node> nodes_;
  std::unordered_map<std::string, Node> reverse_;  // PTR names
  struct Srv {
    uint16_t port;
    std::string target, target_ip;
  };
  std::unordered_map<std::string, std::vector<Srv>> pending_srv_;  // during Build only
};

}  // namespace kite::dns
