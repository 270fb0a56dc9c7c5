// What the service proxy needs from Services and EndpointSlices, parsed once per change into
// plain structs (the rule generator, iptables_rules.h, is pure logic over these).
//
// One ServicePort per (Service, spec.ports[i]); its endpoints are those of the Service's
// EndpointSlices (label kubernetes.io/service-name) whose port has the same name and protocol,
// deduplicated by address. Services that get no rules are left out here: headless
// (clusterIP None), ExternalName, and those without a cluster IP of the family asked for.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace kite::proxy {

struct Endpoint {
  std::string ip;
  int32_t port = 0;
  // EndpointConditions as upstream defaults them: ready and serving true when unset, serving
  // follows ready when unset, terminating false when unset.
  bool ready = true, serving = true, terminating = false;
  bool local = false;  // nodeName is this node
  // "ip:port", "[ip]:port" for IPv6 (as DNAT targets are written).
  std::string String() const {
    return (ip.find(':') == std::string::npos ? ip : "[" + ip + "]") + ":" + std::to_string(port);
  }
};

struct ServicePort {
  std::string ns, name, port_name;  // port_name may be ""
  std::string protocol = "TCP";     // TCP, UDP or SCTP
  std::string cluster_ip;
  int32_t port = 0;
  int32_t node_port = 0;  // 0: none
  std::vector<std::string> external_ips;
  std::vector<std::string> load_balancer_ips;  // status.loadBalancer.ingress[].ip
  // spec.loadBalancerSourceRanges (LoadBalancer only, IPv4 CIDRs): when set, traffic to the
  // load-balancer IPs from any other source is dropped.
  std::vector<std::string> source_ranges;
  int32_t affinity_seconds = 0;  // sessionAffinity ClientIP: its timeout; 0: no affinity
  bool external_local = false;   // externalTrafficPolicy Local (NodePort / LoadBalancer only)
  bool internal_local = false;   // internalTrafficPolicy Local
  // spec.healthCheckNodePort of a LoadBalancer Service with externalTrafficPolicy Local (0:
  // none); the same on every port of the Service (service_health.h serves it).
  int32_t health_check_node_port = 0;
  std::vector<Endpoint> endpoints;

  // upstream's ServicePortName: "ns/name:port" ("ns/name" for an unnamed port).
  std::string Name() const { return ns + "/" + name + (port_name.empty() ? "" : ":" + port_name); }
  std::string ServiceKey() const { return ns + "/" + name; }
  bool ExternallyReachable() const { return node_port != 0 || !external_ips.empty() || !load_balancer_ips.empty(); }
};

// The ports of one Service in one IP family, built from it and its EndpointSlices of that
// family (addressType IPv4 or IPv6). Empty for a Service that gets no rules in that family (a
// single-stack Service of the other one). `node_name` decides which endpoints are local.
std::vector<ServicePort> BuildServicePorts(const boost::json::object& service,
                                           const std::vector<const boost::json::object*>& slices,
                                           const std::string& node_name, bool ipv6 = false);

// Every ServicePort, keyed by the Service's "ns/name" (std::map: the rules come out sorted, so
// the same state gives the same text).
using ServiceMap = std::map<std::string, std::vector<ServicePort>>;

// The endpoints traffic may go to, as upstream's CategorizeEndpoints picks them: the ready ones;
// when none is ready, the serving-and-terminating ones (so a rolling update drains instead of
// dropping). `local_only`: only this node's.
std::vector<const Endpoint*> UsableEndpoints(const ServicePort& sp, bool local_only);

}  // namespace kite::proxy
