// Service address allocation, run at a Service's create and update (admission.cc): the cluster
// IP from --service-cidr and node ports from --service-node-port-range (service_network.h), as
// upstream's Service REST storage allocates them.
//
// A create gets a free cluster IP unless it asks for one (or "None": headless); an update keeps
// the addresses the stored Service had and gets any it lacks (a port that became a NodePort; none
// for a LoadBalancer with allocateLoadBalancerNodePorts false; a LoadBalancer with
// externalTrafficPolicy Local also gets spec.healthCheckNodePort from the node port range). An
// address or port asked for by name must be free and inside its range, else 422 with upstream's
// words ("provided IP is not in the valid range. The range of valid IPs is 10.43.0.0/16", which
// some tools parse to learn the range). ExternalName Services have no cluster IP.
//
// Which addresses are taken is read from every stored Service on each allocation, plus what other
// requests were handed and have not stored yet (ServiceAddressHolds, service_network.h: `hold`
// keeps this request's until its write returned), so two creates racing for one address do not
// both get it.
#include <boost/json.hpp>

#include <random>
#include <set>
#include <string>

#include "api/object.h"
#include "base/ip_address.h"
#include "server/apiserver/handlers/handlers.h"
#include "server/apiserver/handlers/handlers_internal.h"
#include "server/apiserver/service_network.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver {
namespace asio = boost::asio;
namespace json = boost::json;

asio::awaitable<Result<int64_t>> ResourceHandlers::AllocateServiceAddresses(json::object& svc, const std::string& ns,
                                                                             const json::object* old,
                                                                             ServiceAddressHolds::Hold* hold) {
  json::value& sv = svc["spec"];
  if (!sv.is_object()) sv = json::object();
  json::object& spec = sv.as_object();
  const std::string type = api::GetString(spec, "type");
  const json::object* old_spec = old ? old->if_contains("spec") && old->at("spec").is_object() ? &old->at("spec").as_object() : nullptr
                                     : nullptr;
  if (type == "ExternalName") {
    spec.erase("clusterIP");
    spec.erase("clusterIPs");
    co_return int64_t{0};
  }
  const api::ResourceInfo* services = api::FindResource("", "v1", "services");
  const ListOptions everything;
  const std::string all_namespaces;
  auto all = co_await registry_.List(*services, all_namespaces, everything);
  if (!all.ok()) co_return all.error();
  std::set<std::string> ips;
  std::set<int64_t> node_ports;
  // Who the service is: the stored one's identity on an update (the body may omit it).
  json::object identity = old && old->contains("metadata") && old->at("metadata").is_object() ? old->at("metadata").as_object()
                                                                                              : api::MutableObject(svc, "metadata");
  const std::string self_ns = api::GetString(identity, "namespace"), self_name = api::GetString(identity, "name");
  for (auto& item : all.value()["items"].as_array()) {
    if (old) {  // an update: the service's own addresses are not taken by another
      auto& m = api::MutableObject(item.as_object(), "metadata");
      if (api::GetString(m, "namespace") == self_ns && api::GetString(m, "name") == self_name) continue;
    }
    const json::value* s = item.as_object().if_contains("spec");
    if (!s || !s->is_object()) continue;
    ips.insert(api::GetString(s->as_object(), "clusterIP"));
    for (int64_t p : NodePortsOf(&s->as_object())) {
      if (p != 0) node_ports.insert(p);
    }
    if (int64_t hc = HealthCheckNodePortOf(&s->as_object()); hc != 0) node_ports.insert(hc);
  }
  // The picks and checks, without waiting: they run under the holds' lock, so what another
  // request was handed and has not stored yet counts as taken too.
  auto assign = [&]() -> Result<int64_t> {
    json::object named;  // for the error's "Service "x" is invalid"
    named["metadata"] = json::object{{"name", self_name}};
    FieldErrors errors;

    // The cluster is single-stack IPv4 (--service-cidr's IPv4 range): a Service that requires both
    // families, or names IPv6, is refused as upstream refuses it on such a cluster.
    if (api::GetString(spec, "ipFamilyPolicy") == "RequireDualStack") {
      errors.Invalid("spec.ipFamilyPolicy", Quoted("RequireDualStack"), "this cluster is not configured for dual-stack services");
    }
    if (const json::value* families = spec.if_contains("ipFamilies"); families && families->is_array()) {
      for (size_t i = 0; i < families->as_array().size(); ++i) {
        const json::value& f = families->as_array()[i];
        if (f.is_string() && f.as_string() != "IPv4") {
          errors.Invalid("spec.ipFamilies[" + std::to_string(i) + "]", Quoted(std::string(f.as_string())), "not configured on this cluster");
        }
      }
    }
    if (auto e = InvalidStatus(*services, named, errors)) return *e;

    static thread_local std::mt19937 rng{std::random_device{}()};
    const std::string old_ip = old_spec ? api::GetString(*old_spec, "clusterIP") : "";
    std::string ip = api::GetString(spec, "clusterIP");
    if (ip.empty()) ip = old_ip;
    if (ip.empty()) {
      ip = service_network_.PickClusterIp([&](const std::string& a) { return ips.count(a) > 0; }, rng);
      if (ip.empty()) return InternalError("failed to allocate a serviceIP: range is full");
    } else if (ip != "None" && ip != old_ip) {
      const std::string shown = "[]string{\"" + ip + "\"}";
      if (!IsIpAddress(ip)) {
        errors.Invalid("spec.clusterIPs[0]", Quoted(ip), "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)");
      } else if (!service_network_.IsServiceIp(ip)) {
        errors.Invalid("spec.clusterIPs", shown, "failed to allocate IP " + ip + ": provided IP is not in the valid range. The range of valid IPs is " +
                                                     service_network_.Cidr());
      } else if (ips.count(ip)) {
        errors.Invalid("spec.clusterIPs", shown, "failed to allocate IP " + ip + ": provided IP is already allocated");
      }
      if (auto e = InvalidStatus(*services, named, errors)) return *e;
    }
    spec["clusterIP"] = ip;
    spec["clusterIPs"] = json::array{json::string(ip)};
    if (type != "NodePort" && type != "LoadBalancer") return int64_t{0};
    // A LoadBalancer Service with allocateLoadBalancerNodePorts false gets none picked (the ones it
    // names are still checked and held).
    const bool pick = NeedsNodePorts(&spec);

    json::value* ports = spec.if_contains("ports");
    const std::vector<int64_t> had = NodePortsOf(old_spec);
    const std::set<int64_t> had_set(had.begin(), had.end());
    json::array no_ports;
    json::array& port_list = ports && ports->is_array() ? ports->as_array() : no_ports;
    size_t i = 0;
    for (auto& p : port_list) {
      const size_t index = i++;
      if (!p.is_object()) continue;
      auto& port = p.as_object();
      const json::value* given = port.if_contains("nodePort");
      int64_t want = given && given->is_int64() ? given->as_int64() : 0;
      if (want != 0) {
        const std::string field = "spec.ports[" + std::to_string(index) + "].nodePort";
        // A port the stored Service had is its own, even if the range has changed since.
        if (!had_set.count(want) && !service_network_.node_ports.Contains(want)) {
          errors.Invalid(field, std::to_string(want), "provided port is not in the valid range. The range of valid ports is " +
                                                          service_network_.node_ports.String());
        } else if (!node_ports.insert(want).second) {
          errors.Invalid(field, std::to_string(want), "provided port is already allocated");
        }
        continue;
      }
      if (!pick) continue;
      // Keep the node port this port had before, else pick one.
      want = index < had.size() ? had[index] : 0;
      if (want != 0 && !node_ports.insert(want).second) want = 0;
      if (want == 0) want = service_network_.PickNodePort([&](int64_t n) { return node_ports.count(n) > 0; }, rng);
      if (want == 0) return InternalError("failed to allocate a nodePort: range is full");
      node_ports.insert(want);
      port["nodePort"] = want;
    }
    if (auto e = InvalidStatus(*services, named, errors)) return *e;
    if (!NeedsHealthCheck(&spec)) return int64_t{0};

    // The health check node port (LoadBalancer, externalTrafficPolicy Local: agent/proxy/
    // service_health.h serves it) comes from the node port range too. A Service that had one keeps
    // it (a different one is refused); one asked for by name must be free and in the range;
    // upstream reports those as internal errors (500).
    const int64_t had_hc = NeedsHealthCheck(old_spec) ? HealthCheckNodePortOf(old_spec) : 0;
    int64_t hc = HealthCheckNodePortOf(&spec);
    if (had_hc != 0) {
      if (hc != 0 && hc != had_hc) {
        errors.Invalid("spec.healthCheckNodePort", std::to_string(hc),
                       "cannot change healthCheckNodePort on loadBalancer service with externalTraffic=Local during update");
        if (auto e = InvalidStatus(*services, named, errors)) return *e;
      }
      hc = had_hc;
    } else if (hc != 0) {
      const std::string asked = "failed to allocate requested HealthCheck NodePort " + std::to_string(hc) + ": ";
      if (!service_network_.node_ports.Contains(hc)) {
        return InternalError(asked + "provided port is not in the valid range. The range of valid ports is " +
                                service_network_.node_ports.String());
      }
      if (!node_ports.insert(hc).second) return InternalError(asked + "provided port is already allocated");
    } else {
      hc = service_network_.PickNodePort([&](int64_t n) { return node_ports.count(n) > 0; }, rng);
      if (hc == 0) return InternalError("failed to allocate a HealthCheck NodePort 0: range is full");
    }
    spec["healthCheckNodePort"] = hc;
    return int64_t{0};
  };
  const std::string service = self_name.empty() ? "" : ns + "/" + self_name;
  auto lock = address_holds_.Lock();
  address_holds_.AddTaken(hold, service, ips, node_ports);
  Result<int64_t> assigned = assign();
  if (assigned.ok() && hold) address_holds_.Keep(hold, service, spec);
  co_return assigned;
}

}  // namespace kite::apiserver
