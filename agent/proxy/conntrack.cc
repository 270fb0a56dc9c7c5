#include "agent/proxy/conntrack.h"

#include <map>
#include <set>

namespace kite::proxy {

namespace {

// The destinations of a port: cluster IP, external IPs, load-balancer IPs.
std::vector<std::string> Destinations(const ServicePort& sp) {
  std::vector<std::string> d = {sp.cluster_ip};
  d.insert(d.end(), sp.external_ips.begin(), sp.external_ips.end());
  d.insert(d.end(), sp.load_balancer_ips.begin(), sp.load_balancer_ips.end());
  return d;
}

std::set<std::string> UsableIps(const ServicePort& sp) {
  std::set<std::string> ips;
  for (const Endpoint* e : UsableEndpoints(sp, false)) ips.insert(e->ip);
  for (const Endpoint* e : UsableEndpoints(sp, true)) ips.insert(e->ip);
  return ips;
}

}  // namespace

std::vector<std::vector<std::string>> StaleConntrackCommands(const ServiceMap& before, const ServiceMap& after,
                                                             bool ipv6) {
  std::vector<std::vector<std::string>> cmds;
  std::set<std::vector<std::string>> seen;
  auto add = [&](std::vector<std::string> c) {
    if (ipv6) c.insert(c.begin() + 2, {"-f", "ipv6"});
    if (seen.insert(c).second) cmds.push_back(std::move(c));
  };
  // Service ports by name, old and new.
  std::map<std::string, const ServicePort*> old_ports;
  for (const auto& [key, ports] : before) {
    for (const ServicePort& sp : ports) {
      if (sp.protocol == "UDP") old_ports[sp.Name()] = &sp;
    }
  }
  std::set<std::string> new_names;
  for (const auto& [key, ports] : after) {
    for (const ServicePort& sp : ports) {
      if (sp.protocol != "UDP") continue;
      new_names.insert(sp.Name());
      const std::set<std::string> now = UsableIps(sp);
      auto it = old_ports.find(sp.Name());
      const std::set<std::string> was = it == old_ports.end() ? std::set<std::string>{} : UsableIps(*it->second);
      if (was.empty() && !now.empty()) {
        for (const std::string& ip : Destinations(sp)) add({"conntrack", "-D", "--orig-dst", ip, "-p", "udp"});
        if (sp.node_port) add({"conntrack", "-D", "-p", "udp", "--dport", std::to_string(sp.node_port)});
      }
      if (it == old_ports.end()) continue;
      for (const std::string& gone : was) {
        if (now.count(gone)) continue;
        for (const std::string& ip : Destinations(*it->second)) {
          add({"conntrack", "-D", "--orig-dst", ip, "--dst-nat", gone, "-p", "udp"});
        }
        if (it->second->node_port) {
          add({"conntrack", "-D", "-p", "udp", "--dport", std::to_string(it->second->node_port), "--dst-nat", gone});
        }
      }
    }
  }
  // Ports gone altogether: every flow that was DNATed to their endpoints.
  for (const auto& [name, sp] : old_ports) {
    if (new_names.count(name)) continue;
    for (const std::string& gone : UsableIps(*sp)) {
      for (const std::string& ip : Destinations(*sp)) add({"conntrack", "-D", "--orig-dst", ip, "--dst-nat", gone, "-p", "udp"});
    }
  }
  return cmds;
}

std::vector<std::string> RunConntrack(const Exec& exec, const std::vector<std::vector<std::string>>& commands) {
  std::vector<std::string> failures;
  for (const auto& c : commands) {
    auto r = exec(c, "");
    // conntrack exits 1 when nothing matched ("0 flow entries have been deleted").
    if (!r.ok() && r.status().message().find("0 flow entries") == std::string::npos) {
      failures.push_back(r.status().message());
    }
  }
  return failures;
}

}  // namespace kite::proxy
