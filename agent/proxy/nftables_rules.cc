#include "agent/proxy/nftables_rules.h"

#include <algorithm>
#include <cstring>

namespace kite::proxy {

namespace {

// "ip kube-proxy" or "ip6 kube-proxy".
std::string TableOf(const RulesConfig& cfg) { return std::string(cfg.ipv6 ? "ip6 " : "ip ") + kNftTable; }

// The fixed part's text is written for IPv4; the IPv6 table gets the same with the family's
// words and addresses.
std::string ForFamily(std::string s, bool ipv6) {
  if (!ipv6) return s;
  static const std::pair<const char*, const char*> kWords[] = {
      {"ipv4_addr", "ipv6_addr"}, {"ip daddr", "ip6 daddr"}, {"ip saddr", "ip6 saddr"},
      {"127.0.0.0/8", "::1"},     {"0.0.0.0", "::"}};
  for (const auto& [from, to] : kWords) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + std::strlen(to))) {
      s.replace(at, std::strlen(from), to);
    }
  }
  return s;
}

std::string LowerCase(std::string s) {
  for (char& c : s) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  return s;
}

// "ns/name/tcp/portname": what upstream's nftables chain names are built from.
std::string Base(const ServicePort& sp) { return sp.ns + "/" + sp.name + "/" + LowerCase(sp.protocol) + "/" + sp.port_name; }

std::string Named(const char* prefix, const std::string& base) {
  // nft chain names are at most 255 bytes; the hash keeps truncated names distinct.
  std::string n = HashName(prefix, base, 8) + "-" + base;
  if (n.size() > 250) n = n.substr(0, 247) + "...";
  return n;
}

// The fixed part: base chains, helper chains, the global maps and their dispatching rules.
struct Fixed {
  const char* name;
  const char* spec;  // "" for a regular chain
  std::vector<const char*> rules;
};
const std::vector<Fixed>& FixedChains() {
  static const std::vector<Fixed> chains = {
      {"nat-prerouting", "type nat hook prerouting priority dstnat ;", {"jump services"}},
      {"nat-output", "type nat hook output priority -100 ;", {"jump services"}},
      {"nat-postrouting", "type nat hook postrouting priority srcnat ;", {"jump masquerading"}},
      {"filter-prerouting", "type filter hook prerouting priority -110 ;", {"ct state new jump firewall-check"}},
      {"filter-input",
       "type filter hook input priority -110 ;",
       {"ct state new jump nodeport-endpoints-check", "ct state new jump service-endpoints-check"}},
      {"filter-forward", "type filter hook forward priority -110 ;", {"ct state new jump service-endpoints-check"}},
      {"filter-output",
       "type filter hook output priority -110 ;",
       {"ct state new jump service-endpoints-check", "ct state new jump firewall-check"}},
      {"mark-for-masquerade", "", {"meta mark set meta mark or 0x4000"}},
      {"masquerading",
       "",
       {"ct status dnat ip saddr . ip daddr @hairpin jump mark-for-masquerade", "meta mark & 0x4000 == 0 return",
        "meta mark set meta mark xor 0x4000", "masquerade fully-random"}},
      {"services",
       "",
       {"ip daddr . meta l4proto . th dport vmap @service-ips",
        "fib daddr type local ip daddr != 127.0.0.0/8 jump nodeports"}},
      {"nodeports", "", {"meta l4proto . th dport vmap @service-nodeports"}},
      {"service-endpoints-check", "", {"ip daddr . meta l4proto . th dport vmap @no-endpoint-services"}},
      {"nodeport-endpoints-check",
       "",
       {"fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap @no-endpoint-nodeports"}},
      {"firewall-check", "", {"ip daddr . meta l4proto . th dport vmap @firewall-ips"}},
      {"reject-chain", "", {"reject"}},
  };
  return chains;
}
struct FixedMap {
  const char* what;  // "map name"
  const char* spec;
  const char* sentinel_key;  // matches nothing real (port 0, slot block 0, 0.0.0.0)
  const char* sentinel_value;
};
const std::vector<FixedMap>& FixedMaps() {
  static const std::vector<FixedMap> maps = {
      {"map service-ips", "type ipv4_addr . inet_proto . inet_service : verdict ;", "0.0.0.0 . tcp . 0", "drop"},
      {"map service-nodeports", "type inet_proto . inet_service : verdict ;", "tcp . 0", "drop"},
      {"map no-endpoint-services", "type ipv4_addr . inet_proto . inet_service : verdict ;", "0.0.0.0 . tcp . 0", "drop"},
      {"map no-endpoint-nodeports", "type inet_proto . inet_service : verdict ;", "tcp . 0", "drop"},
      {"map firewall-ips", "type ipv4_addr . inet_proto . inet_service : verdict ;", "0.0.0.0 . tcp . 0", "drop"},
      {"map endpoint-chains", "typeof numgen random mod 1 : verdict ;", "0", "drop"},
      {"set hairpin", "type ipv4_addr . ipv4_addr ;", "0.0.0.0 . 0.0.0.0", ""},
  };
  return maps;
}

struct Out {
  std::string t;    // "ip kube-proxy" / "ip6 kube-proxy"
  const char* l3;   // "ip" / "ip6": the family's word in matches and DNAT
  std::string decl, flush, rules, deletes;  // in this order in the transaction
  std::map<std::string, std::vector<std::string>> add_elements, del_elements;  // map → "key : value" / "key"
  size_t rules_n = 0, chains_n = 0;
  void Rule(const std::string& chain, const std::string& rule) {
    rules += "add rule " + t + " " + chain + " " + rule + "\n";
    ++rules_n;
  }
};

// The writer of one Service's ports; fills its state and the output.
struct PortWriter {
  const RulesConfig& cfg;
  NftState& state;
  const NftServiceState* old;  // the Service's previous state (slots are kept), or nullptr
  NftServiceState& s;
  Out& o;

  uint32_t Slot(const std::string& chain) {
    if (old) {
      if (auto it = old->slots.find(chain); it != old->slots.end()) {
        s.slots[chain] = it->second;
        return it->second;
      }
    }
    uint32_t id = 1;
    while (state.used_slots.count(id)) ++id;  // the lowest free block: tests stay deterministic
    state.used_slots.insert(id);
    s.slots[chain] = id;
    return id;
  }
  void Element(const std::string& map, const std::string& key, const std::string& value) {
    // The same destination twice in one Service (an external IP that is also its load-balancer
    // IP): the first wins, as the first iptables rule would.
    for (const auto& e : s.elements) {
      if (e.map == map && e.key == key) return;
    }
    s.elements.push_back({map, key, value});
  }
  void Map(const std::string& map, const std::string& spec) {
    o.decl += "add map " + o.t + " " + map + " { " + spec + " }\n";
    s.maps.push_back(map);
  }
  void Chain(const std::string& chain) {
    o.decl += "add chain " + o.t + " " + chain + "\n";
    s.chains.push_back(chain);
    ++o.chains_n;
  }

  void Pick(const ServicePort& sp, const std::string& chain, const std::vector<const Endpoint*>& eps) {
    const std::string l3 = o.l3;
    const std::string proto = LowerCase(sp.protocol);
    if (eps.empty()) return;
    if (sp.affinity_seconds == 0 && eps.size() == 1) {
      o.Rule(chain, "meta l4proto " + proto + " dnat " + l3 + " to " + eps[0]->String());
      return;
    }
    const size_t n = std::min<size_t>(eps.size(), kSlotStride);
    if (sp.affinity_seconds == 0) {
      // The chain's own map of slot → endpoint (see the header: one map bound by one rule).
      const std::string map = NftEndpointsMap(chain);
      // Typed by the Service's protocol: nft 1.0.6 rejects a `tcp dport` map under a UDP rule,
      // and a `th dport` one read back from the kernel under any rule.
      Map(map, "typeof numgen random mod 1 : " + l3 + " daddr . " + proto + " dport ;");
      o.Rule(chain, "meta l4proto " + proto + " dnat " + l3 + " addr . port to numgen random mod " + std::to_string(n) + " map @" +
                        map);
      for (size_t i = 0; i < n; ++i) Element(map, std::to_string(i), eps[i]->ip + " . " + std::to_string(eps[i]->port));
      return;
    }
    const uint32_t base = Slot(chain) * kSlotStride;
    const std::string numgen =
        "numgen random mod " + std::to_string(n) + " offset " + std::to_string(base);
    // Session affinity: a source seen recently goes back to its endpoint (the endpoint chain
    // records it in its dynamic set), others are spread at random.
    for (size_t i = 0; i < n; ++i) {
      const std::string ep = NftEndpointChain(sp, *eps[i]);
      o.Rule(chain, l3 + " saddr @affinity-" + ep.substr(9) + " goto " + ep);
    }
    o.Rule(chain, numgen + " vmap @endpoint-chains");
    for (size_t i = 0; i < n; ++i) Element("endpoint-chains", std::to_string(base + i), "goto " + NftEndpointChain(sp, *eps[i]));
  }

  void Port(const ServicePort& sp) {
    const std::string l3 = o.l3;
    const std::string proto = LowerCase(sp.protocol);
    const std::string port = std::to_string(sp.port);
    const std::vector<const Endpoint*> cluster_eps = UsableEndpoints(sp, false);
    const bool any_local = sp.internal_local || sp.external_local;
    const std::vector<const Endpoint*> local_eps = any_local ? UsableEndpoints(sp, true) : std::vector<const Endpoint*>{};
    const bool has = !cluster_eps.empty();
    // A plain cluster-IP port shares the picking chain of every port with its protocol and
    // endpoint count (see the header): no chain, map or rule of its own, only elements.
    if (has && sp.affinity_seconds == 0 && !any_local && !sp.ExternallyReachable()) {
      const std::string pick = NftPickChain(proto, cluster_eps.size());
      s.picks.push_back(pick);
      Element("service-ips", sp.cluster_ip + " . " + proto + " . " + port, "goto " + pick);
      const std::string map = NftEndpointsMap(pick);
      for (size_t i = 0; i < cluster_eps.size(); ++i) {
        Element(map, sp.cluster_ip + " . " + port + " . " + std::to_string(i),
                cluster_eps[i]->ip + " . " + std::to_string(cluster_eps[i]->port));
        if (cluster_eps[i]->local) s.hairpin.push_back(cluster_eps[i]->ip);
      }
      return;
    }
    const std::string base = Base(sp);
    const std::string svc = Named("service-", base);
    const std::string loc = any_local ? Named("local-", base) : "";
    const std::string ext = sp.ExternallyReachable() ? Named("external-", base) : "";
    const bool firewall = !sp.source_ranges.empty() && !sp.load_balancer_ips.empty();
    const std::string fw = firewall ? Named("firewall-", base) : "";
    const bool internal_has = sp.internal_local ? !local_eps.empty() : has;
    const bool external_has = sp.external_local ? !local_eps.empty() : has;
    const std::string no_eps = "goto reject-chain";

    // Where each destination goes.
    auto key = [&](const std::string& ip) { return ip + " . " + proto + " . " + port; };
    if (internal_has) {
      Element("service-ips", key(sp.cluster_ip), "goto " + (sp.internal_local ? loc : svc));
    } else {
      Element("no-endpoint-services", key(sp.cluster_ip), has ? "drop" : no_eps);
    }
    std::vector<std::string> external_ips = sp.external_ips;
    external_ips.insert(external_ips.end(), sp.load_balancer_ips.begin(), sp.load_balancer_ips.end());
    for (const std::string& ip : external_ips) {
      if (has) Element("service-ips", key(ip), "goto " + ext);
      if (!external_has) Element("no-endpoint-services", key(ip), has ? "drop" : no_eps);
    }
    if (firewall) {
      for (const std::string& ip : sp.load_balancer_ips) Element("firewall-ips", key(ip), "goto " + fw);
    }
    if (sp.node_port != 0) {
      const std::string np = proto + " . " + std::to_string(sp.node_port);
      if (has) Element("service-nodeports", np, "goto " + ext);
      if (!external_has) Element("no-endpoint-nodeports", np, has ? "drop" : no_eps);
    }

    if (firewall) {
      Chain(fw);
      std::string ranges;
      for (const std::string& r : sp.source_ranges) ranges += (ranges.empty() ? "" : ", ") + r;
      o.Rule(fw, l3 + " saddr != { " + ranges + " } drop");
    }
    if (!has) return;
    // Masquerade cluster-IP traffic from outside the pod network (it would not come back).
    auto masq = [&](const std::string& chain) {
      const std::string dst = l3 + " daddr " + sp.cluster_ip + " " + proto + " dport " + port;
      if (cfg.masquerade_all) {
        o.Rule(chain, dst + " jump mark-for-masquerade");
      } else if (!cfg.cluster_cidr.empty()) {
        o.Rule(chain, dst + " " + l3 + " saddr != " + cfg.cluster_cidr + " jump mark-for-masquerade");
      }
    };
    Chain(svc);
    if (!sp.internal_local) masq(svc);
    Pick(sp, svc, cluster_eps);
    if (any_local) {
      Chain(loc);
      if (sp.internal_local) masq(loc);
      Pick(sp, loc, local_eps);
    }
    if (!ext.empty()) {
      Chain(ext);
      if (!sp.external_local) {
        o.Rule(ext, "jump mark-for-masquerade");
        o.Rule(ext, "goto " + svc);
      } else {
        // Pods and the node itself may use any endpoint; the rest keep their source and go local.
        if (!cfg.cluster_cidr.empty()) o.Rule(ext, l3 + " saddr " + cfg.cluster_cidr + " goto " + svc);
        o.Rule(ext, "fib saddr type local jump mark-for-masquerade");
        o.Rule(ext, "fib saddr type local goto " + svc);
        o.Rule(ext, "goto " + loc);
      }
    }
    // This node's endpoints count for hairpin masquerade (see the header); affinity needs a
    // chain per endpoint.
    std::vector<const Endpoint*> eps = cluster_eps;
    for (const Endpoint* e : local_eps) {
      if (std::find(eps.begin(), eps.end(), e) == eps.end()) eps.push_back(e);
    }
    for (const Endpoint* e : eps) {
      if (e->local) s.hairpin.push_back(e->ip);
    }
    if (sp.affinity_seconds == 0) return;
    for (const Endpoint* e : eps) {
      const std::string ep = NftEndpointChain(sp, *e);
      const std::string set = "affinity-" + ep.substr(9);
      o.decl += "add set " + o.t + " " + set + " { type " + (cfg.ipv6 ? "ipv6_addr" : "ipv4_addr") +
                " ; flags dynamic,timeout ; timeout " +
                std::to_string(sp.affinity_seconds) + "s ; }\n";
      s.sets.push_back(set);
      Chain(ep);
      if (e->local) o.Rule(ep, l3 + " saddr " + e->ip + " jump mark-for-masquerade");
      o.Rule(ep, "update @" + set + " { " + l3 + " saddr }");
      o.Rule(ep, "meta l4proto " + proto + " dnat " + l3 + " to " + e->String());
    }
  }
};

void Elements(std::string& text, const std::string& kT, const char* verb, const std::map<std::string, std::vector<std::string>>& by_map,
              size_t* count) {
  // A few hundred per command: one line per element costs nft a command each; one line for
  // 100k elements is one huge token list. Both work; this is the cheaper middle.
  for (const auto& [map, els] : by_map) {
    for (size_t i = 0; i < els.size(); i += 512) {
      text += std::string(verb) + " element " + kT + " " + map + " { ";
      for (size_t j = i; j < std::min(els.size(), i + 512); ++j) {
        if (j > i) text += ", ";
        text += els[j];
      }
      text += " }\n";
    }
    if (count) *count += els.size();
  }
}

// A shared picking chain (pick-<proto>-<n>) with its map, declared and filled with its rules:
// cluster-IP traffic from outside the pod network is masqueraded, then one of n endpoints is
// looked up by the destination and a random slot.
void PickChain(Out& o, const RulesConfig& cfg, const std::string& pick) {
  const size_t dash = pick.rfind('-');
  const std::string proto = pick.substr(5, dash - 5), n = pick.substr(dash + 1);
  const std::string map = NftEndpointsMap(pick);
  const std::string l3 = o.l3;
  o.decl += "add chain " + o.t + " " + pick + "\n";
  ++o.chains_n;
  o.decl += "add map " + o.t + " " + map + " { typeof " + l3 + " daddr . " + proto + " dport . numgen random mod 1 : " + l3 +
            " daddr . " + proto + " dport ; }\n";
  if (cfg.masquerade_all) {
    o.Rule(pick, "jump mark-for-masquerade");
  } else if (!cfg.cluster_cidr.empty()) {
    o.Rule(pick, l3 + " saddr != " + cfg.cluster_cidr + " jump mark-for-masquerade");
  }
  o.Rule(pick, "meta l4proto " + proto + " dnat " + l3 + " addr . port to " + l3 + " daddr . " + proto +
                   " dport . numgen random mod " + n + " map @" + map);
}

}  // namespace

std::string NftPickChain(const std::string& proto, size_t endpoints) {
  return "pick-" + proto + "-" + std::to_string(endpoints);
}

std::string NftServiceChain(const ServicePort& sp) { return Named("service-", Base(sp)); }
std::string NftEndpointsMap(const std::string& chain) {
  // Set names are at most 255 bytes too; the chain's hash (its first 17 characters) keeps it unique.
  std::string n = "endpoints-" + chain;
  if (n.size() > 250) n = n.substr(0, 247) + "...";
  return n;
}
std::string NftEndpointChain(const ServicePort& sp, const Endpoint& ep) {
  // nft's names cannot hold ':' (an IPv6 address is written with '.' instead; the hash keeps
  // names distinct).
  std::string ip = ep.ip;
  std::replace(ip.begin(), ip.end(), ':', '.');
  return Named("endpoint-", Base(sp) + "__" + ip + "/" + std::to_string(ep.port));
}

NftText GenerateNftRules(const ServiceMap& services, const RulesConfig& cfg, const std::set<std::string>* changed,
                         NftState& st, bool known) {
  NftText out;
  const std::string kT = TableOf(cfg);
  Out o;
  o.t = kT;
  o.l3 = cfg.ipv6 ? "ip6" : "ip";
  const bool full = changed == nullptr;
  std::string head;
  if (full) {
    head = "add table " + kT + "\n";
    head += known ? "flush table " + kT + "\n" : "delete table " + kT + "\nadd table " + kT + "\n";
    // "map name" → "add map ip kube-proxy name { … }".
    auto kind_table_name = [&kT](const std::string& what) {
      const size_t sp = what.find(' ');
      return what.substr(0, sp) + " " + kT + what.substr(sp);
    };
    for (const FixedMap& m : FixedMaps()) {
      head += "add " + kind_table_name(m.what) + " { " + ForFamily(m.spec, cfg.ipv6) + " }\n";
      const std::string name = std::string(m.what).substr(std::string(m.what).find(' ') + 1);
      const std::string key = ForFamily(m.sentinel_key, cfg.ipv6);
      const std::string el = key + (*m.sentinel_value ? std::string(" : ") + m.sentinel_value : "");
      if (known) head += "delete element " + kT + " " + name + " { " + key + " }\n";
      head += "add element " + kT + " " + name + " { " + el + " }\n";
    }
    for (const Fixed& c : FixedChains()) {
      head += "add chain " + kT + " " + c.name + (*c.spec ? std::string(" { ") + c.spec + " }" : "") + "\n";
      for (const char* r : c.rules) o.Rule(c.name, ForFamily(r, cfg.ipv6));
    }
    if (!known) st = NftState{};
  }

  // Which Services are (re)written, and the old state each one leaves behind.
  std::set<std::string> write;
  if (full) {
    for (const auto& [key, ports] : services) write.insert(key);
    if (known) {
      for (const auto& [key, s] : st.services) write.insert(key);
    }
  } else {
    write = *changed;
    for (const auto& [key, ports] : services) {
      if (!st.services.count(key)) write.insert(key);  // never written: its state is unknown
    }
  }
  std::set<std::string> keep_chains, keep_sets, keep_maps;
  std::map<std::string, NftServiceState> old_states;
  // The hairpin IPs whose count changes, with the count before: only they are added or deleted
  // in a partial sync (the set holds every endpoint IP of the cluster).
  std::map<std::string, int> hairpin_was;
  auto touch = [&](const std::string& ip) {
    if (hairpin_was.count(ip)) return;
    auto it = st.hairpin_refs.find(ip);
    hairpin_was[ip] = it == st.hairpin_refs.end() ? 0 : it->second;
  };
  // The same for the shared picking chains: made when their first user comes, deleted when the
  // last one goes.
  std::map<std::string, int> picks_were;
  auto touch_pick = [&](const std::string& pick) {
    if (picks_were.count(pick)) return;
    auto it = st.pick_refs.find(pick);
    picks_were[pick] = it == st.pick_refs.end() ? 0 : it->second;
  };
  for (const std::string& key : write) {
    auto it = st.services.find(key);
    if (it == st.services.end()) continue;
    old_states[key] = std::move(it->second);
    st.services.erase(it);
    for (const auto& [c, id] : old_states[key].slots) st.used_slots.erase(id);
    for (const std::string& ip : old_states[key].hairpin) {
      touch(ip);
      if (--st.hairpin_refs[ip] <= 0) st.hairpin_refs.erase(ip);
    }
    for (const std::string& pick : old_states[key].picks) {
      touch_pick(pick);
      if (--st.pick_refs[pick] <= 0) st.pick_refs.erase(pick);
    }
  }
  // Keep each Service's slot blocks: reserve them before anything new takes one.
  for (const std::string& key : write) {
    if (auto it = old_states.find(key); it != old_states.end() && services.count(key)) {
      for (auto& [c, id] : it->second.slots) st.used_slots.insert(id);
    }
  }
  for (const std::string& key : write) {
    auto sit = services.find(key);
    if (sit == services.end()) continue;
    auto old = old_states.find(key);
    NftServiceState s;
    PortWriter w{cfg, st, old == old_states.end() ? nullptr : &old->second, s, o};
    for (const ServicePort& sp : sit->second) w.Port(sp);
    // Blocks the Service held but no longer uses go back.
    if (old != old_states.end()) {
      for (auto& [c, id] : old->second.slots) {
        if (!s.slots.count(c)) st.used_slots.erase(id);
      }
    }
    for (const std::string& ip : s.hairpin) {
      touch(ip);
      ++st.hairpin_refs[ip];
    }
    for (const std::string& pick : s.picks) {
      touch_pick(pick);
      ++st.pick_refs[pick];
    }
    keep_chains.insert(s.chains.begin(), s.chains.end());
    keep_sets.insert(s.sets.begin(), s.sets.end());
    keep_maps.insert(s.maps.begin(), s.maps.end());
    st.services[key] = std::move(s);
  }

  // Elements: only the differences from what each Service had (see the header).
  for (const std::string& key : write) {
    static const NftServiceState kNone;
    auto old = old_states.find(key);
    const NftServiceState& was = old == old_states.end() ? kNone : old->second;
    auto now_it = st.services.find(key);
    const NftServiceState& now = now_it == st.services.end() ? kNone : now_it->second;
    const std::set<NftServiceState::Element> before_set(was.elements.begin(), was.elements.end());
    const std::set<NftServiceState::Element> after_set(now.elements.begin(), now.elements.end());
    for (const auto& e : was.elements) {
      // A Service's own map that goes is deleted whole below.
      const bool map_goes = std::find(was.maps.begin(), was.maps.end(), e.map) != was.maps.end() && !keep_maps.count(e.map);
      if (!after_set.count(e) && !map_goes) o.del_elements[e.map].push_back(e.key);
    }
    for (const auto& e : now.elements) {
      if (!before_set.count(e)) o.add_elements[e.map].push_back(e.key + " : " + e.value);
    }
  }
  // Picking chains: all of them after a full sync's flush, else only new ones; unused ones go.
  for (const auto& [pick, n] : st.pick_refs) {
    auto was = picks_were.find(pick);
    if (full || (was != picks_were.end() && was->second == 0)) PickChain(o, cfg, pick);
  }
  if (!full || known) {
    for (const auto& [pick, was] : picks_were) {
      if (was > 0 && !st.pick_refs.count(pick)) {
        o.deletes += "delete chain " + kT + " " + pick + "\n";
        o.deletes += "delete map " + kT + " " + NftEndpointsMap(pick) + "\n";
      }
    }
  }
  // Partial: the rewritten Services' chains are flushed first (a full sync flushed the table).
  if (!full) {
    for (const auto& [key, s] : old_states) {
      for (const std::string& c : s.chains) o.flush += "flush chain " + kT + " " + c + "\n";
    }
  }
  if (!full || known) {
    for (const auto& [ip, was] : hairpin_was) {
      if (was > 0 && !st.hairpin_refs.count(ip)) o.del_elements["hairpin"].push_back(ip + " . " + ip);
    }
  }
  // Chains and sets no longer wanted go last, once nothing refers to them.
  if (full ? known : true) {
    for (const auto& [key, s] : old_states) {
      for (const std::string& c : s.chains) {
        if (!keep_chains.count(c)) o.deletes += "delete chain " + kT + " " + c + "\n";
      }
      for (const std::string& set : s.sets) {
        if (!keep_sets.count(set)) o.deletes += "delete set " + kT + " " + set + "\n";
      }
      for (const std::string& map : s.maps) {
        if (!keep_maps.count(map)) o.deletes += "delete map " + kT + " " + map + "\n";
      }
    }
  }
  if (full && !known) {
    for (const auto& [ip, n] : st.hairpin_refs) o.add_elements["hairpin"].push_back(ip + " . " + ip);
  } else {
    for (const auto& [ip, was] : hairpin_was) {
      if (was == 0 && st.hairpin_refs.count(ip)) o.add_elements["hairpin"].push_back(ip + " . " + ip);
    }
  }

  std::string& t = out.text;
  t.reserve(head.size() + o.decl.size() + o.rules.size() + o.deletes.size() + 64 * o.rules_n);
  t += head;
  Elements(t, kT, "delete", o.del_elements, nullptr);
  t += o.flush;
  t += o.decl;
  t += o.rules;
  Elements(t, kT, "add", o.add_elements, &out.elements);
  t += o.deletes;
  out.rules = o.rules_n;
  out.chains_written = o.chains_n;
  return out;
}

}  // namespace kite::proxy
