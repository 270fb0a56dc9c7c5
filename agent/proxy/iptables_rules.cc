#include "agent/proxy/iptables_rules.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string_view>

namespace kite::proxy {

namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

std::string PortProto(const ServicePort& sp) { return sp.Name() + Lower(sp.protocol); }

// upstream's computeProbability: 1/n with ten decimals.
std::string Probability(size_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%0.10f", 1.0 / static_cast<double>(n));
  return buf;
}

// "-m tcp -p tcp" (and the same for udp, sctp).
std::string ProtoMatch(const ServicePort& sp) {
  std::string p = Lower(sp.protocol);
  return "-m " + p + " -p " + p;
}

struct Writer {
  // nat_rules: the per-service chains' rules not yet in a batch; nat_deletes: the "-X" lines.
  // (The top-level chains' lines go to each Service's TopLines.)
  std::string nat_rules, nat_deletes;
  std::vector<std::string> nat_chains;  // declared per-service chains not yet in a batch
  size_t nat_count = 0, declared = 0;

  void Nat(const std::string& line) {
    nat_rules += line;
    nat_rules += '\n';
    ++nat_count;
  }
  void DeclareNat(const std::string& chain) {
    nat_chains.push_back(chain);
    ++declared;
  }
};

const char* kTopFilter[] = {"KUBE-NODEPORTS", "KUBE-SERVICES", "KUBE-EXTERNAL-SERVICES", "KUBE-FORWARD",
                            "KUBE-PROXY-FIREWALL"};

// The rules of one service port: the top-level chains' entries always, its own chains when
// `write_chains`. Returns the per-service chains it wants.
void WritePort(const ServicePort& sp, const RulesConfig& cfg, bool large, Writer& w, std::vector<std::string>& wanted,
               TopLines& top) {
  // Its lines in the top-level chains (KUBE-SERVICES and KUBE-NODEPORTS; the filter table's).
  auto nat_top = [&top](const std::string& line) {
    top.nat += line;
    top.nat += '\n';
    ++top.nat_n;
  };
  auto filter = [&top](const std::string& line) {
    top.filter += line;
    top.filter += '\n';
    ++top.filter_n;
  };
  const std::string name = sp.Name();
  const std::string proto = ProtoMatch(sp);
  const std::string port = std::to_string(sp.port);
  const std::vector<const Endpoint*> cluster_eps = UsableEndpoints(sp, false);
  const std::vector<const Endpoint*> local_eps =
      sp.internal_local || sp.external_local ? UsableEndpoints(sp, true) : std::vector<const Endpoint*>{};
  const bool has_endpoints = !cluster_eps.empty();
  // Hashing is most of the cost of a partial sync at scale: only the names in use.
  const std::string svc = ServiceChain(sp);
  const std::string svl = sp.internal_local || sp.external_local ? LocalServiceChain(sp) : "";
  const std::string ext = sp.ExternallyReachable() ? ExternalChain(sp) : "";
  const std::string& internal_chain = sp.internal_local ? svl : svc;
  const bool internal_has = sp.internal_local ? !local_eps.empty() : has_endpoints;
  const std::string& policy_chain = sp.external_local ? svl : svc;
  const bool external_has = sp.external_local ? !local_eps.empty() : has_endpoints;
  const bool uses_svc = has_endpoints;
  const bool uses_svl = (sp.internal_local || sp.external_local) && has_endpoints;
  const bool uses_ext = sp.ExternallyReachable() && has_endpoints;

  // ClusterIP.
  const std::string cip = "-d " + sp.cluster_ip + "/32 --dport " + port;
  if (internal_has) {
    nat_top("-A KUBE-SERVICES -m comment --comment \"" + name + " cluster IP\" " + proto + " " + cip + " -j " + internal_chain);
  } else if (!has_endpoints) {
    filter("-A KUBE-SERVICES -m comment --comment \"" + name + " has no endpoints\" " + proto + " " + cip +
             " -j REJECT --reject-with icmp-port-unreachable");
  } else {
    filter("-A KUBE-SERVICES -m comment --comment \"" + name + " has no local endpoints\" " + proto + " " + cip + " -j DROP");
  }
  // External destinations: externalIPs, load-balancer IPs, node ports.
  auto external = [&](const std::string& what, const std::string& match, bool nodeport) {
    if (uses_ext && !(what == "loadbalancer IP" && !sp.source_ranges.empty())) {
      nat_top(std::string("-A ") + (nodeport ? "KUBE-NODEPORTS" : "KUBE-SERVICES") + " -m comment --comment \"" + name +
            (nodeport ? "" : " " + what) + "\" " + proto + " " + match + " -j " + ext);
    }
    const std::string dst = nodeport ? "-m addrtype --dst-type LOCAL " : "";
    if (!has_endpoints) {
      filter("-A KUBE-EXTERNAL-SERVICES -m comment --comment \"" + name + " has no endpoints\" " + dst + proto + " " + match +
               " -j REJECT --reject-with icmp-port-unreachable");
    } else if (!external_has) {
      filter("-A KUBE-EXTERNAL-SERVICES -m comment --comment \"" + name + " has no local endpoints\" " + dst + proto + " " +
               match + " -j DROP");
    }
  };
  for (const std::string& ip : sp.external_ips) external("external IP", "-d " + ip + "/32 --dport " + port, false);
  // loadBalancerSourceRanges: the load-balancer IPs lead to KUBE-FW-, which passes the allowed
  // sources on to KUBE-EXT-; anything else is not DNATed and the filter table's
  // KUBE-PROXY-FIREWALL drops it (its destination is still the load-balancer IP there).
  const bool firewall = !sp.source_ranges.empty() && !sp.load_balancer_ips.empty();
  const std::string fw = firewall ? FirewallChain(sp) : "";
  for (const std::string& ip : sp.load_balancer_ips) {
    const std::string match = "-d " + ip + "/32 --dport " + port;
    if (!firewall) {
      external("loadbalancer IP", match, false);
      continue;
    }
    if (uses_ext) nat_top("-A KUBE-SERVICES -m comment --comment \"" + name + " loadbalancer IP\" " + proto + " " + match + " -j " + fw);
    external("loadbalancer IP", match, false);
    filter("-A KUBE-PROXY-FIREWALL -m comment --comment \"" + name + " traffic not accepted by " + fw + "\" " + proto + " " +
             match + " -j DROP");
  }
  if (sp.node_port != 0) external("", "--dport " + std::to_string(sp.node_port), true);

  if (uses_svc) wanted.push_back(svc);
  if (uses_svl) wanted.push_back(svl);
  if (uses_ext) wanted.push_back(ext);
  if (uses_ext && firewall) wanted.push_back(fw);
  // Endpoint chains: every endpoint either chain may pick.
  std::vector<const Endpoint*> eps = cluster_eps;
  for (const Endpoint* e : local_eps) {
    if (std::find(eps.begin(), eps.end(), e) == eps.end()) eps.push_back(e);
  }
  std::vector<std::string> sep_names;
  sep_names.reserve(eps.size());
  for (const Endpoint* e : eps) {
    sep_names.push_back(EndpointChain(sp, *e));
    wanted.push_back(sep_names.back());
  }

  auto sep_of = [&](const Endpoint* e) -> const std::string& {
    return sep_names[static_cast<size_t>(std::find(eps.begin(), eps.end(), e) - eps.begin())];
  };
  // Large clusters: no comments on the per-endpoint rules (upstream's large cluster mode; the
  // restore input and the kernel's tables are a good deal smaller).
  auto ep_comment = [&](const Endpoint* e) {
    return large ? std::string() : " -m comment --comment \"" + name + " -> " + e->String() + "\"";
  };
  const std::string sep_comment = large ? "" : " -m comment --comment \"" + name + "\"";
  auto pick = [&](const std::string& chain, const std::vector<const Endpoint*>& from) {
    if (sp.affinity_seconds > 0) {
      for (const Endpoint* e : from) {
        w.Nat("-A " + chain + ep_comment(e) + " -m recent --name " + sep_of(e) +
              " --rcheck --seconds " + std::to_string(sp.affinity_seconds) + " --reap -j " + sep_of(e));
      }
    }
    for (size_t i = 0; i < from.size(); ++i) {
      const std::string stat =
          i + 1 < from.size() ? " -m statistic --mode random --probability " + Probability(from.size() - i) : "";
      w.Nat("-A " + chain + ep_comment(from[i]) + stat + " -j " +
            sep_of(from[i]));
    }
  };
  auto masq_cluster_ip = [&](const std::string& chain) {
    if (cfg.masquerade_all) {
      w.Nat("-A " + chain + " -m comment --comment \"" + name + " cluster IP\" " + proto + " " + cip + " -j KUBE-MARK-MASQ");
    } else if (!cfg.cluster_cidr.empty()) {
      w.Nat("-A " + chain + " -m comment --comment \"" + name + " cluster IP\" " + proto + " " + cip + " ! -s " +
            cfg.cluster_cidr + " -j KUBE-MARK-MASQ");
    }
  };
  if (uses_svc) {
    w.DeclareNat(svc);
    if (!sp.internal_local) masq_cluster_ip(svc);
    pick(svc, cluster_eps);
  }
  if (uses_svl) {
    w.DeclareNat(svl);
    if (sp.internal_local) masq_cluster_ip(svl);
    pick(svl, local_eps);
  }
  if (uses_ext) {
    w.DeclareNat(ext);
    if (!sp.external_local) {
      w.Nat("-A " + ext + " -m comment --comment \"masquerade traffic for " + name + " external destinations\" -j KUBE-MARK-MASQ");
    } else {
      if (!cfg.cluster_cidr.empty()) {
        w.Nat("-A " + ext + " -s " + cfg.cluster_cidr + " -m comment --comment \"pod traffic for " + name +
              " external destinations\" -j " + svc);
      }
      w.Nat("-A " + ext + " -m comment --comment \"masquerade LOCAL traffic for " + name +
            " external destinations\" -m addrtype --src-type LOCAL -j KUBE-MARK-MASQ");
      w.Nat("-A " + ext + " -m comment --comment \"route LOCAL traffic for " + name +
            " external destinations\" -m addrtype --src-type LOCAL -j " + svc);
    }
    w.Nat("-A " + ext + " -j " + policy_chain);
  }
  if (uses_ext && firewall) {
    w.DeclareNat(fw);
    for (const std::string& range : sp.source_ranges) {
      w.Nat("-A " + fw + " -m comment --comment \"" + name + " loadbalancer IP\" -s " + range + " -j " + ext);
    }
    w.Nat("-A " + fw + " -m comment --comment \"other traffic to " + name + " will be dropped by KUBE-PROXY-FIREWALL\"");
  }
  for (size_t i = 0; i < eps.size(); ++i) {
    const Endpoint& e = *eps[i];
    const std::string& sep = sep_names[i];
    w.DeclareNat(sep);
    // Hairpin (an endpoint reaching its own Service and picked itself): only this node's
    // endpoints, see the header.
    if (e.local) w.Nat("-A " + sep + sep_comment + " -s " + e.ip + "/32 -j KUBE-MARK-MASQ");
    const std::string recent = sp.affinity_seconds > 0 ? " -m recent --name " + sep + " --set" : "";
    w.Nat("-A " + sep + sep_comment + recent + " " + proto + " -j DNAT --to-destination " +
          e.String());
  }
}

}  // namespace

std::string HashName(const char* prefix, const std::string& input, size_t chars) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(input.data(), input.size(), md, &n, EVP_sha256(), nullptr);
  // RFC 4648 base32 (Go's base32.StdEncoding); `chars` characters take the first 5 × chars bits.
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string out = prefix;
  uint64_t acc = 0;
  int bits = 0;
  size_t used = 0;
  for (unsigned int i = 0; i < n && used < chars; ++i) {
    acc = (acc << 8) | md[i];
    bits += 8;
    while (bits >= 5 && used < chars) {
      out += alphabet[(acc >> (bits - 5)) & 31];
      bits -= 5;
      ++used;
    }
  }
  return out;
}

std::string ServiceChain(const ServicePort& sp) { return HashName("KUBE-SVC-", PortProto(sp)); }
std::string LocalServiceChain(const ServicePort& sp) { return HashName("KUBE-SVL-", PortProto(sp)); }
std::string ExternalChain(const ServicePort& sp) { return HashName("KUBE-EXT-", PortProto(sp)); }
std::string FirewallChain(const ServicePort& sp) { return HashName("KUBE-FW-", PortProto(sp)); }
std::string EndpointChain(const ServicePort& sp, const Endpoint& ep) {
  return HashName("KUBE-SEP-", PortProto(sp) + ep.String());
}

bool IsServiceChain(const std::string& c) {
  for (const char* p : {"KUBE-SVC-", "KUBE-SVL-", "KUBE-EXT-", "KUBE-SEP-", "KUBE-FW-"}) {
    if (c.rfind(p, 0) == 0) return true;
  }
  return false;
}

RulesText GenerateRules(const ServiceMap& services, const RulesConfig& cfg, const std::set<std::string>* changed,
                        ChainState before, size_t batch_chains) {
  Writer w;
  RulesText out;
  size_t endpoints = 0;
  for (const auto& [key, ports] : services) {
    for (const ServicePort& sp : ports) endpoints += sp.endpoints.size();
  }
  const bool large = endpoints > kLargeClusterEndpoints;

  // Fixed rules first: masquerade marking and the forward accepts (the nat ones kept apart: they
  // go in the first batch when there are batches).
  std::string fixed_nat;
  for (const std::string& line :
       {"-A KUBE-POSTROUTING -m mark ! --mark " + std::string(kMasqueradeMark) + "/" + kMasqueradeMark + " -j RETURN",
        "-A KUBE-POSTROUTING -j MARK --xor-mark " + std::string(kMasqueradeMark),
        std::string("-A KUBE-POSTROUTING -m comment --comment \"kubernetes service traffic requiring SNAT\" -j MASQUERADE "
                    "--random-fully"),
        "-A KUBE-MARK-MASQ -j MARK --or-mark " + std::string(kMasqueradeMark)}) {
    fixed_nat += line;
    fixed_nat += '\n';
    ++w.nat_count;
  }
  const std::string fixed_filter =
      "-A KUBE-FORWARD -m conntrack --ctstate INVALID -j DROP\n"
      "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding rules\" -m mark --mark " +
      std::string(kMasqueradeMark) + "/" + kMasqueradeMark +
      " -j ACCEPT\n"
      "-A KUBE-FORWARD -m comment --comment \"kubernetes forwarding conntrack rule\" -m conntrack --ctstate "
      "RELATED,ESTABLISHED -j ACCEPT\n";
  const size_t fixed_filter_n = 3;

  // The state after this sync. A full sync builds it anew; a partial one takes `before` over and
  // replaces the entries of the Services it writes, so that the unchanged ones (all but a few at
  // scale) cost nothing: no copy of their chain lists or cached lines.
  ChainState& st = out.chains;
  std::map<std::string, std::vector<std::string>> old_chains;  // of the Services written or gone
  std::map<std::string, TopLines> old_top;
  auto take = [&](const std::string& key) {
    if (auto it = st.by_service.find(key); it != st.by_service.end()) {
      old_chains[key] = std::move(it->second);
      st.by_service.erase(it);
    }
    if (auto it = st.top.find(key); it != st.top.end()) {
      old_top[key] = std::move(it->second);
      st.top.erase(it);
    }
  };
  std::vector<const ServiceMap::value_type*> to_write;
  std::vector<std::string> orphans;
  if (!changed) {
    old_chains = std::move(before.by_service);
    old_top = std::move(before.top);
    orphans.assign(before.orphans.begin(), before.orphans.end());
    for (const auto& entry : services) to_write.push_back(&entry);
  } else {
    st = std::move(before);
    for (const std::string& key : *changed) take(key);
    // One walk over both sorted maps: Services not in the state are written too (first seen),
    // entries whose Service is gone go (their chains are deleted).
    std::vector<std::string> gone;
    auto it = st.by_service.begin();
    for (const auto& entry : services) {
      while (it != st.by_service.end() && it->first < entry.first) gone.push_back((it++)->first);
      if (it != st.by_service.end() && it->first == entry.first) {
        ++it;  // unchanged: its chains and lines as they are
        continue;
      }
      to_write.push_back(&entry);
    }
    for (; it != st.by_service.end(); ++it) gone.push_back(it->first);
    for (const std::string& key : gone) take(key);
  }
  w.nat_rules.reserve(to_write.size() * 1024);

  // Batches (see the header): the per-service chains not yet in a batch are w.nat_chains and
  // w.nat_rules; the first batch carries the fixed chains too (the services' rules jump to
  // KUBE-MARK-MASQ).
  auto cut_batch = [&] {
    std::sort(w.nat_chains.begin(), w.nat_chains.end(), std::greater<>());  // see the note on order below
    std::string b = "*nat\n";
    if (out.batches.empty()) b += ":KUBE-POSTROUTING - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n";
    for (const std::string& c : w.nat_chains) b += ":" + c + " - [0:0]\n";
    if (out.batches.empty()) b += fixed_nat;
    b += w.nat_rules;
    b += "COMMIT\n";
    out.batches.push_back(std::move(b));
    w.nat_chains.clear();
    w.nat_rules.clear();
  };
  bool top_changed = !changed;  // a partial sync leaves unchanged top-level chains alone
  for (const ServiceMap::value_type* entry : to_write) {
    const std::string& key = entry->first;
    std::vector<std::string>& wanted = st.by_service[key];
    TopLines& top = st.top[key];
    for (const ServicePort& sp : entry->second) WritePort(sp, cfg, large, w, wanted, top);
    if (changed) {
      if (auto was = old_top.find(key); was == old_top.end() || was->second.nat != top.nat || was->second.filter != top.filter) {
        top_changed = true;
      }
    }
    if (batch_chains > 0 && w.nat_chains.size() >= batch_chains) cut_batch();
  }
  if (!out.batches.empty() && !w.nat_chains.empty()) cut_batch();
  for (const auto& [key, lines] : old_top) {
    if (top_changed) break;
    if (!services.count(key)) top_changed = true;  // a Service gone: its top-level lines go
  }

  // Chains to delete: flushed (declared) then removed, after every rule that jumped to them is
  // gone (their referrers are rewritten in this same batch).
  // A chain's name hashes its Service's port (and endpoint), so only the written Services' chains
  // can be wanted among theirs (a set of every chain cost a partial sync ~110k inserts at 10k).
  std::set<std::string> keep;
  for (const ServiceMap::value_type* entry : to_write) {
    const std::vector<std::string>& chains = st.by_service[entry->first];
    keep.insert(chains.begin(), chains.end());
  }
  auto remove = [&](const std::string& chain) {
    if (keep.count(chain)) return;
    w.DeclareNat(chain);
    w.nat_deletes += "-X " + chain + "\n";
    out.deleted.push_back(chain);
  };
  for (const auto& [key, chains] : old_chains) {
    for (const std::string& c : chains) remove(c);
  }
  for (const std::string& c : orphans) remove(c);  // a full sync's; a partial one carries them on

  // The order of the nat part is for iptables-nft-restore (1.8.9): before it reads the kernel's
  // chains it gathers every chain name the batch mentions (each command's chain and jump
  // target) in a list kept sorted by name, walked from its smallest name for each command. Names
  // arriving in descending order are each found or placed at the head; in the order they are
  // generated (random, they are hashes) each walks half the list, and at 1k Services that walk
  // was 80% of a full restore's CPU (measured). So: the chains are declared in descending order,
  // and the top-level rules, rewritten in every sync, come in descending order of the chain they
  // jump to (their destinations are all distinct, so their order does not change what matches).
  // The legacy backend does not care.
  std::sort(w.nat_chains.begin(), w.nat_chains.end(), std::greater<>());
  // Rule counts (the metric): the top-level lines of every Service, whether written or not.
  size_t top_nat_n = 0, filter_n = fixed_filter_n, top_bytes = 0;
  for (const auto& [key, top] : st.top) {
    top_nat_n += top.nat_n;
    filter_n += top.filter_n;
    if (top_changed) top_bytes += top.nat.size() + top.filter.size();
  }
  std::vector<std::string_view> top_lines;
  if (top_changed) {
    top_lines.reserve(top_nat_n);
    for (const auto& [key, top] : st.top) {
      for (size_t at = 0; at < top.nat.size();) {
        const size_t nl = top.nat.find('\n', at);
        top_lines.emplace_back(top.nat.data() + at, nl - at);
        at = nl + 1;
      }
    }
  }
  auto target = [](std::string_view line) { return line.substr(line.rfind(" -j ") + 4); };
  std::stable_sort(top_lines.begin(), top_lines.end(),
                   [&](std::string_view a, std::string_view b) { return target(a) > target(b); });

  // A partial sync whose Services' top-level lines are as before writes only their own chains
  // (and nothing at all when none changed): KUBE-SERVICES has a line per Service port, and
  // rewriting it is most of a small sync's work for iptables-nft (a rule object each) and
  // iptables-restore's parser. The full sync (and any top-level change) rewrites it, so lines
  // deleted by hand come back then.
  const bool fixed_here = top_changed && out.batches.empty();
  std::string& t = out.text;
  t.reserve(top_bytes + w.nat_chains.size() * 32 + w.nat_rules.size() + w.nat_deletes.size() + 512);
  if (top_changed) {
    t += "*filter\n";
    for (const char* c : kTopFilter) t += std::string(":") + c + " - [0:0]\n";
    t += fixed_filter;
    for (const auto& [key, top] : st.top) t += top.filter;
    t += "COMMIT\n";
  }
  if (!top_changed && w.nat_chains.empty() && w.nat_rules.empty() && w.nat_deletes.empty()) {
    // Nothing: the caller skips the restore.
  } else {
    t += "*nat\n";
    if (top_changed) t += ":KUBE-SERVICES - [0:0]\n:KUBE-NODEPORTS - [0:0]\n";
    if (fixed_here) t += ":KUBE-POSTROUTING - [0:0]\n:KUBE-MARK-MASQ - [0:0]\n";
    for (const std::string& c : w.nat_chains) {
      t += ':';
      t += c;
      t += " - [0:0]\n";
    }
    if (top_changed) {
      for (std::string_view line : top_lines) {
        t += line;
        t += '\n';
      }
      t += "-A KUBE-SERVICES -m comment --comment \"kubernetes service nodeports; NOTE: this must be the last rule in "
           "this chain\" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS\n";
    }
    if (fixed_here) t += fixed_nat;
    t += w.nat_rules;
    t += w.nat_deletes;
    t += "COMMIT\n";
  }
  out.filter_rules = filter_n;
  out.nat_rules = w.nat_count + top_nat_n + 1;  // and the nodeports rule
  out.nat_chains_written = w.declared;
  return out;
}

}  // namespace kite::proxy
