#include "addons/dns/zone.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "api/object.h"

namespace kite::dns {
namespace {

// Answer plus additional bytes of one RRset stay below this, so any reply fits a TCP message
// (65535) with its header, question, SOA and OPT; a headless Service with more endpoints than
// that answers with the first few thousand of them.
constexpr size_t kMaxRRsetBytes = 60000;
constexpr uint8_t kQuestionPointer[2] = {0xC0, 0x0C};

void AppendRecord(std::string* out, const std::string* owner_wire, uint16_t type, uint32_t ttl,
                  const std::string& rdata) {
  if (owner_wire) {
    out->append(*owner_wire);
  } else {
    out->append(reinterpret_cast<const char*>(kQuestionPointer), 2);
  }
  uint8_t h[10];
  Put16(h, type);
  Put16(h + 2, kClassIN);
  Put32(h + 4, ttl);
  Put16(h + 8, static_cast<uint16_t>(rdata.size()));
  out->append(reinterpret_cast<const char*>(h), sizeof(h));
  out->append(rdata);
}

std::string Dashed(std::string ip_text) {
  std::replace(ip_text.begin(), ip_text.end(), '.', '-');
  std::replace(ip_text.begin(), ip_text.end(), ':', '-');
  return ip_text;
}

// The addresses in `within`'s plural field (strings, or objects with "ip"), else its single one.
std::vector<std::string> Ips(std::string_view plural, std::string_view single, const boost::json::object& within) {
  std::vector<std::string> out;
  for (const auto& v : api::GetArray(within, plural)) {
    if (v.is_string()) out.emplace_back(v.as_string());
    if (v.is_object()) out.push_back(api::GetString(v.as_object(), "ip"));
  }
  if (out.empty()) {
    std::string one = api::GetString(within, single);
    if (!one.empty()) out.push_back(std::move(one));
  }
  return out;
}

}  // namespace

std::shared_ptr<const Zone> Zone::Build(const ZoneConfig& config, const Objects& services, const Objects& slices,
                                        const Objects& pods) {
  std::shared_ptr<Zone> z(new Zone(config));
  const std::string& domain = config.domain;
  z->dot_domain_ = "." + domain;
  // The apex, its SOA (RFC 2308: the negative-caching TTL is min(SOA TTL, MINIMUM)) and the
  // two subtrees that always exist.
  std::string soa;
  AppendName("ns.dns." + domain, &soa);
  AppendName("hostmaster." + domain, &soa);
  uint8_t nums[20];
  Put32(nums, static_cast<uint32_t>(std::time(nullptr)));  // serial: when this zone was built
  Put32(nums + 4, 7200);
  Put32(nums + 8, 1800);
  Put32(nums + 12, 86400);
  Put32(nums + 16, config.ttl);
  soa.append(reinterpret_cast<const char*>(nums), sizeof(nums));
  std::string apex_wire;
  AppendName(domain, &apex_wire);
  AppendRecord(&z->soa_record_, &apex_wire, kTypeSOA, config.ttl, soa);
  RRset& apex = z->Rrset(domain, kTypeSOA);
  AppendRecord(&apex.answer, nullptr, kTypeSOA, config.ttl, soa);
  apex.count = 1;
  z->AddName("svc" + z->dot_domain_);
  if (config.pods != ZoneConfig::Pods::kDisabled) z->AddName("pod" + z->dot_domain_);

  // EndpointSlices by "ns/service".
  std::unordered_map<std::string, std::vector<const boost::json::object*>> by_service;
  for (const auto& s : slices) {
    const std::string svc = api::GetString(api::Labels(*s), "kubernetes.io/service-name");
    if (!svc.empty()) by_service[api::Namespace(*s) + "/" + svc].push_back(s.get());
  }

  for (const auto& svc : services) {
    const std::string ns = api::Namespace(*svc), name = api::Name(*svc);
    const std::string fqdn = name + "." + ns + ".svc" + z->dot_domain_;
    const auto& spec = api::GetObject(*svc, "spec");
    const std::string type = api::GetString(spec, "type");
    z->AddAlias(name + "." + ns, fqdn);
    if (type == "ExternalName") {
      std::string target = api::GetString(spec, "externalName");
      while (!target.empty() && target.back() == '.') target.pop_back();
      std::transform(target.begin(), target.end(), target.begin(), [](unsigned char c) { return std::tolower(c); });
      if (!target.empty()) z->AddCname(fqdn, target);
      continue;
    }
    z->AddName(fqdn);
    std::vector<std::string> cluster_ips = Ips("clusterIPs", "clusterIP", spec);
    const bool headless = !cluster_ips.empty() && cluster_ips.front() == "None";
    if (!headless) {
      for (const auto& ip : cluster_ips) {
        z->AddAddress(fqdn, ip);
        z->AddPtr(ip, fqdn);
      }
      if (cluster_ips.empty()) continue;  // not yet allocated
      for (const auto& p : api::GetArray(spec, "ports")) {
        if (!p.is_object()) continue;
        const std::string port_name = api::GetString(p.as_object(), "name");
        std::string proto = api::GetString(p.as_object(), "protocol");
        if (proto.empty()) proto = "TCP";
        const auto port = static_cast<uint16_t>(api::GetInt(p.as_object(), "port"));
        std::transform(proto.begin(), proto.end(), proto.begin(), [](unsigned char c) { return std::tolower(c); });
        for (const auto& ip : cluster_ips) {
          if (!port_name.empty()) z->AddSrv("_" + port_name + "._" + proto + "." + fqdn, port, fqdn, ip);
          z->AddSrv(fqdn, port, fqdn, ip);
        }
      }
      continue;
    }
    // Headless: the endpoints' own addresses, each also under its own host name.
    const bool not_ready_too = api::GetBool(spec, "publishNotReadyAddresses");
    std::set<std::string> seen;  // an address in two slices (during a handover) counts once
    for (const auto* slice : by_service[ns + "/" + name]) {
      std::vector<std::pair<std::string, uint16_t>> ports;
      for (const auto& p : api::GetArray(*slice, "ports")) {
        if (!p.is_object()) continue;
        std::string proto = api::GetString(p.as_object(), "protocol");
        if (proto.empty()) proto = "TCP";
        std::transform(proto.begin(), proto.end(), proto.begin(), [](unsigned char c) { return std::tolower(c); });
        const std::string port_name = api::GetString(p.as_object(), "name");
        ports.emplace_back(port_name.empty() ? std::string() : "_" + port_name + "._" + proto + ".",
                           static_cast<uint16_t>(api::GetInt(p.as_object(), "port")));
      }
      for (const auto& e : api::GetArray(*slice, "endpoints")) {
        if (!e.is_object()) continue;
        const auto& ep = e.as_object();
        // Upstream: a missing `ready` means ready.
        const auto* ready = api::Find(ep, api::Path{"conditions", "ready"});
        if (!not_ready_too && ready && ready->is_bool() && !ready->as_bool()) continue;
        std::string host = api::GetString(ep, "hostname");
        for (const auto& v : api::GetArray(ep, "addresses")) {
          if (!v.is_string()) continue;
          const std::string ip(v.as_string());
          if (!seen.insert(ip).second) continue;
          const std::string host_fqdn = (host.empty() ? Dashed(ip) : host) + "." + fqdn;
          z->AddAddress(fqdn, ip);
          z->AddAddress(host_fqdn, ip);
          z->AddPtr(ip, host_fqdn);
          for (const auto& [prefix, port] : ports) {
            if (!prefix.empty()) z->AddSrv(prefix + fqdn, port, host_fqdn, ip);
            z->AddSrv(fqdn, port, host_fqdn, ip);
          }
        }
      }
    }
  }

  if (config.pods == ZoneConfig::Pods::kVerified) {
    for (const auto& pod : pods) {
      const std::string phase = api::GetString(*pod, api::Path{"status", "phase"});
      if (phase == "Succeeded" || phase == "Failed") continue;
      const auto& status = api::GetObject(*pod, "status");
      const bool host_network = api::GetBool(*pod, api::Path{"spec", "hostNetwork"});
      for (const auto& ip : Ips("podIPs", "podIP", status)) {
        const std::string fqdn = Dashed(ip) + "." + api::Namespace(*pod) + ".pod" + z->dot_domain_;
        z->AddAddress(fqdn, ip);
        // A host-network pod has the node's address; its PTR is not the pod's to claim.
        if (!host_network) z->AddPtr(ip, fqdn);
      }
    }
  }
  z->Finish();
  return z;
}

void Zone::AddName(const std::string& name) {
  // The name and each ancestor down to the apex (empty non-terminals answer NODATA).
  std::string_view n = name;
  while (true) {
    auto [it, inserted] = nodes_.try_emplace(std::string(n));
    if (!inserted || n == config_.domain) return;
    const size_t dot = n.find('.');
    if (dot == std::string_view::npos) return;
    n = n.substr(dot + 1);
  }
}

RRset& Zone::Rrset(const std::string& name, uint16_t type) {
  const bool reverse = name.ends_with(".arpa");
  if (!reverse) AddName(name);
  Node& node = reverse ? reverse_[name] : nodes_[name];
  for (auto& s : node.rrsets) {
    if (s.type == type) return s;
  }
  node.rrsets.push_back(RRset{type, 0, {}, 0, {}});
  return node.rrsets.back();
}

void Zone::AddAddress(const std::string& name, const std::string& ip_text) {
  const std::string ip = ParseIp(ip_text);
  if (ip.empty()) return;
  std::string owner;
  if (!AppendName(name, &owner)) return;
  RRset& s = Rrset(name, ip.size() == 4 ? kTypeA : kTypeAAAA);
  if (s.answer.size() + s.extra.size() > kMaxRRsetBytes) return;
  AppendRecord(&s.answer, nullptr, s.type, config_.ttl, ip);
  ++s.count;
}

void Zone::AddPtr(const std::string& ip_text, const std::string& target) {
  const std::string ip = ParseIp(ip_text);
  std::string rdata;
  if (ip.empty() || !AppendName(target, &rdata)) return;
  RRset& s = Rrset(ReverseName(ip), kTypePTR);
  if (s.count > 0) return;  // first claim wins: a Service's name over a pod's
  AppendRecord(&s.answer, nullptr, kTypePTR, config_.ttl, rdata);
  s.count = 1;
}

void Zone::AddCname(const std::string& name, const std::string& target) {
  std::string rdata;
  if (!AppendName(target, &rdata)) return;
  AddName(name);
  Node& node = nodes_[name];
  node.rrsets.clear();
  node.rrsets.push_back(RRset{kTypeCNAME, 1, {}, 0, {}});
  AppendRecord(&node.rrsets.back().answer, nullptr, kTypeCNAME, config_.ttl, rdata);
}

void Zone::AddAlias(const std::string& alias, const std::string& target) {
  // Never over a name of the zone (a namespace "local" with a Service "cluster") or a reverse
  // name: those are answered as what they are.
  if (Owns(alias) || alias.ends_with(".arpa")) return;
  std::string rdata;
  if (!AppendName(target, &rdata)) return;
  Node& node = nodes_[alias];
  node.rrsets.clear();
  node.rrsets.push_back(RRset{kTypeCNAME, 1, {}, 0, {}});
  AppendRecord(&node.rrsets.back().answer, nullptr, kTypeCNAME, config_.ttl, rdata);
}

void Zone::AddSrv(const std::string& name, uint16_t port, const std::string& target, const std::string& target_ip) {
  pending_srv_[name].push_back(Srv{port, target, target_ip});
}

void Zone::Finish() {
  for (auto& [name, entries] : pending_srv_) {
    // As CoreDNS: equal priority, the weight 100 shared evenly between distinct records (a
    // dual-stack Service lists its target once per address family).
    std::set<std::pair<uint16_t, std::string>> distinct;
    for (const auto& e : entries) distinct.emplace(e.port, e.target);
    const auto weight = static_cast<uint16_t>(100 / distinct.size());
    RRset& s = Rrset(name, kTypeSRV);
    std::set<std::pair<uint16_t, std::string>> records;
    std::set<std::pair<std::string, std::string>> extras;
    for (const auto& e : entries) {
      if (s.answer.size() + s.extra.size() > kMaxRRsetBytes) break;
      std::string rdata(6, '\0');
      Put16(reinterpret_cast<uint8_t*>(rdata.data()), 0);
      Put16(reinterpret_cast<uint8_t*>(rdata.data()) + 2, weight);
      Put16(reinterpret_cast<uint8_t*>(rdata.data()) + 4, e.port);
      if (!AppendName(e.target, &rdata)) continue;
      if (records.emplace(e.port, e.target).second) {
        AppendRecord(&s.answer, nullptr, kTypeSRV, config_.ttl, rdata);
        ++s.count;
      }
      const std::string ip = ParseIp(e.target_ip);
      std::string owner;
      if (!ip.empty() && AppendName(e.target, &owner) && extras.emplace(e.target, ip).second) {
        AppendRecord(&s.extra, &owner, ip.size() == 4 ? kTypeA : kTypeAAAA, config_.ttl, ip);
        ++s.extra_count;
      }
    }
  }
  pending_srv_.clear();
}

bool Zone::Owns(const std::string& name) const {
  if (name.size() >= config_.domain.size() && name.ends_with(config_.domain)) {
    if (name.size() == config_.domain.size() || name.ends_with(dot_domain_)) return true;
  }
  // Otherwise only what the zone holds by name: reverse names of its addresses, and the
  // <svc>.<ns> aliases (the only other names in nodes_).
  return reverse_.contains(name) || nodes_.contains(name);
}

void Zone::AppendSoa(ZoneAnswer* out) const {
  out->authority.append(soa_record_);
  out->authority_count = 1;
}

void Zone::AppendWithOwner(const RRset& set, const std::string& owner, ZoneAnswer* out) const {
  std::string wire;
  if (!AppendName(owner, &wire)) return;
  const auto* p = reinterpret_cast<const uint8_t*>(set.answer.data());
  size_t at = 0;
  while (at + 12 <= set.answer.size()) {
    const size_t rdlen = Get16(p + at + 10);
    out->answer.append(wire);
    out->answer.append(set.answer, at + 2, 10 + rdlen);
    ++out->answer_count;
    at += 12 + rdlen;
  }
}

bool Zone::InsecurePod(const std::string& name, uint16_t qtype, ZoneAnswer* out) const {
  // <dashed-ip>.<ns>.pod.<domain>: answered for any well-formed address.
  const std::string suffix = ".pod" + dot_domain_;
  if (!name.ends_with(suffix)) return false;
  const std::string_view rest = std::string_view(name).substr(0, name.size() - suffix.size());
  const size_t dot = rest.find('.');
  if (dot == std::string_view::npos || dot == 0 || rest.find('.', dot + 1) != std::string_view::npos) return false;
  std::string text(rest.substr(0, dot));
  std::replace(text.begin(), text.end(), '-', '.');
  std::string ip = ParseIp(text);
  if (ip.size() != 4) {
    std::replace(text.begin(), text.end(), '.', ':');
    ip = ParseIp(text);
  }
  if (ip.empty()) return false;
  if (qtype == (ip.size() == 4 ? kTypeA : kTypeAAAA) || qtype == kTypeANY) {
    AppendRecord(&out->answer, nullptr, ip.size() == 4 ? kTypeA : kTypeAAAA, config_.ttl, ip);
    out->answer_count = 1;
  } else {
    AppendSoa(out);
  }
  return true;
}

void Zone::Answer(const std::string& name, uint16_t qtype, ZoneAnswer* out) const {
  out->rcode = kNoError;
  out->answer_count = out->authority_count = out->extra_count = 0;
  out->answer.clear();
  out->authority.clear();
  out->extra.clear();
  const Node* node = nullptr;
  if (auto it = nodes_.find(name); it != nodes_.end()) {
    node = &it->second;
  } else if (auto r = reverse_.find(name); r != reverse_.end()) {
    node = &r->second;
  }
  if (!node) {
    if (config_.pods == ZoneConfig::Pods::kInsecure && InsecurePod(name, qtype, out)) return;
    out->rcode = kNXDomain;
    AppendSoa(out);
    return;
  }
  for (const auto& s : node->rrsets) {
    if (s.type == qtype || qtype == kTypeANY || (s.type == kTypeCNAME && qtype != kTypeCNAME)) {
      out->answer.append(s.answer);
      out->answer_count = static_cast<uint16_t>(out->answer_count + s.count);
      out->extra.append(s.extra);
      out->extra_count = static_cast<uint16_t>(out->extra_count + s.extra_count);
    }
  }
  // An in-zone CNAME target (an ExternalName naming a Service) is followed, a few hops at most.
  if (!node->rrsets.empty() && node->rrsets.front().type == kTypeCNAME && qtype != kTypeCNAME) {
    const RRset* cname = &node->rrsets.front();
    for (int hop = 0; hop < 8; ++hop) {
      size_t pos = 12;  // pointer(2) type class ttl rdlen: the target follows
      std::string target;
      if (!ReadName(reinterpret_cast<const uint8_t*>(cname->answer.data()), cname->answer.size(), &pos, &target) ||
          !Owns(target)) {
        return;  // out of zone: the client's resolver follows it
      }
      auto it = nodes_.find(target);
      if (it == nodes_.end()) {
        out->rcode = kNXDomain;
        AppendSoa(out);
        return;
      }
      const RRset* next = nullptr;
      for (const auto& s : it->second.rrsets) {
        if (s.type == kTypeCNAME) next = &s;
        if (s.type == qtype || qtype == kTypeANY || s.type == kTypeCNAME) AppendWithOwner(s, target, out);
      }
      if (!next) {
        if (out->answer_count == static_cast<uint16_t>(1 + hop)) AppendSoa(out);
        return;
      }
      cname = next;
    }
    return;
  }
  if (out->answer_count == 0) AppendSoa(out);  // NODATA
}

}  // namespace kite::dns
