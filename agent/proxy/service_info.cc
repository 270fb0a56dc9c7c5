#include "agent/proxy/service_info.h"

#include <arpa/inet.h>

#include <algorithm>
#include <set>

#include "api/object.h"

namespace kite::proxy {

namespace json = boost::json;

namespace {

bool IsIPv4(const std::string& s) {
  in_addr a{};
  return inet_pton(AF_INET, s.c_str(), &a) == 1;
}

bool IsIPv6(const std::string& s) {
  in6_addr a{};
  return inet_pton(AF_INET6, s.c_str(), &a) == 1;
}

bool Condition(const json::object& conditions, std::string_view key, bool fallback) {
  const json::value* v = api::Find(conditions, key);
  return v && v->is_bool() ? v->as_bool() : fallback;
}

}  // namespace

std::vector<ServicePort> BuildServicePorts(const json::object& service, const std::vector<const json::object*>& slices,
                                           const std::string& node_name, bool ipv6) {
  std::vector<ServicePort> out;
  const json::object& spec = api::GetObject(service, "spec");
  const std::string type = api::GetString(spec, "type");
  auto of_family = [ipv6](const std::string& ip) { return ipv6 ? IsIPv6(ip) : IsIPv4(ip); };
  // The family's cluster IP: spec.clusterIPs (dual-stack: one per family), else spec.clusterIP.
  std::string cluster_ip;
  for (const json::value& ip : api::GetArray(spec, "clusterIPs")) {
    if (ip.is_string() && of_family(std::string(ip.as_string()))) {
      cluster_ip = std::string(ip.as_string());
      break;
    }
  }
  if (cluster_ip.empty()) cluster_ip = api::GetString(spec, "clusterIP");
  if (type == "ExternalName" || cluster_ip.empty() || cluster_ip == "None" || !of_family(cluster_ip)) return out;

  ServicePort base;
  base.ns = api::Namespace(service);
  base.name = api::Name(service);
  base.cluster_ip = cluster_ip;
  for (const json::value& ip : api::GetArray(spec, "externalIPs")) {
    if (ip.is_string() && of_family(std::string(ip.as_string()))) base.external_ips.emplace_back(ip.as_string());
  }
  if (type == "LoadBalancer") {
    for (const json::value& in : api::GetArray(service, {"status", "loadBalancer", "ingress"})) {
      if (!in.is_object()) continue;
      // ipMode Proxy: the load balancer rewrites the destination itself; no short-cut here.
      if (api::GetString(in.as_object(), "ipMode") == "Proxy") continue;
      std::string ip = api::GetString(in.as_object(), "ip");
      if (of_family(ip)) base.load_balancer_ips.push_back(ip);
    }
    for (const json::value& r : api::GetArray(spec, "loadBalancerSourceRanges")) {
      if (!r.is_string()) continue;
      std::string cidr(r.as_string());
      // Spaces are tolerated by the API (upstream trims them); the other family's ranges do
      // not apply here.
      cidr.erase(std::remove(cidr.begin(), cidr.end(), ' '), cidr.end());
      const size_t slash = cidr.find('/');
      if (of_family(cidr.substr(0, slash))) base.source_ranges.push_back(cidr);
    }
  }
  if (api::GetString(spec, "sessionAffinity") == "ClientIP") {
    base.affinity_seconds = static_cast<int32_t>(
        api::GetInt(spec, {"sessionAffinityConfig", "clientIP", "timeoutSeconds"}, 10800));
    if (base.affinity_seconds <= 0) base.affinity_seconds = 10800;
  }
  const bool external = type == "NodePort" || type == "LoadBalancer" || !base.external_ips.empty();
  base.external_local = external && api::GetString(spec, "externalTrafficPolicy") == "Local";
  base.internal_local = api::GetString(spec, "internalTrafficPolicy") == "Local";
  if (type == "LoadBalancer" && base.external_local) {
    const int64_t hc = api::GetInt(spec, "healthCheckNodePort");
    if (hc > 0 && hc <= 65535) base.health_check_node_port = static_cast<int32_t>(hc);
  }

  for (const json::value& pv : api::GetArray(spec, "ports")) {
    if (!pv.is_object()) continue;
    const json::object& p = pv.as_object();
    ServicePort sp = base;
    sp.port_name = api::GetString(p, "name");
    sp.protocol = api::GetString(p, "protocol");
    if (sp.protocol.empty()) sp.protocol = "TCP";
    sp.port = static_cast<int32_t>(api::GetInt(p, "port"));
    if (type == "NodePort" || type == "LoadBalancer") sp.node_port = static_cast<int32_t>(api::GetInt(p, "nodePort"));
    if (sp.port <= 0) continue;
    std::set<std::string> seen;
    for (const json::object* slice : slices) {
      const std::string family = api::GetString(*slice, "addressType");
      if (!family.empty() && family != (ipv6 ? "IPv6" : "IPv4")) continue;
      int32_t target = 0;
      bool found = false;
      for (const json::value& spv : api::GetArray(*slice, "ports")) {
        if (!spv.is_object()) continue;
        const json::object& s = spv.as_object();
        std::string proto = api::GetString(s, "protocol");
        if (proto.empty()) proto = "TCP";
        if (api::GetString(s, "name") != sp.port_name || proto != sp.protocol) continue;
        target = static_cast<int32_t>(api::GetInt(s, "port"));
        found = true;
        break;
      }
      if (!found || target <= 0) continue;
      for (const json::value& ev : api::GetArray(*slice, "endpoints")) {
        if (!ev.is_object()) continue;
        const json::object& e = ev.as_object();
        const json::array& addresses = api::GetArray(e, "addresses");
        if (addresses.empty() || !addresses[0].is_string()) continue;
        Endpoint ep;
        ep.ip = std::string(addresses[0].as_string());
        if (!of_family(ep.ip)) continue;
        ep.port = target;
        const json::object& c = api::GetObject(e, "conditions");
        ep.ready = Condition(c, "ready", true);
        ep.serving = Condition(c, "serving", ep.ready);
        ep.terminating = Condition(c, "terminating", false);
        ep.local = !node_name.empty() && api::GetString(e, "nodeName") == node_name;
        if (!seen.insert(ep.String()).second) continue;  // the same address in two slices (a move)
        sp.endpoints.push_back(std::move(ep));
      }
    }
    out.push_back(std::move(sp));
  }
  return out;
}

std::vector<const Endpoint*> UsableEndpoints(const ServicePort& sp, bool local_only) {
  std::vector<const Endpoint*> ready, draining;
  for (const Endpoint& e : sp.endpoints) {
    if (local_only && !e.local) continue;
    if (e.ready) {
      ready.push_back(&e);
    } else if (e.serving && e.terminating) {
      draining.push_back(&e);
    }
  }
  return ready.empty() ? draining : ready;
}

}  // namespace kite::proxy
