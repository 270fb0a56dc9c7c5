// Health checks of Services whose external traffic stays on the node (upstream kube-proxy's
// service health server, pkg/proxy/healthcheck): a LoadBalancer Service with
// externalTrafficPolicy Local gets spec.healthCheckNodePort from the API server
// (admission/service_addresses.cc), and every node's proxy listens on that port so an external
// load balancer sends traffic only to nodes that have the Service's pods (the others drop it).
//
// Any path answers, as upstream's: 200 while this node has ready endpoints of the Service and the
// proxy itself is healthy, 503 otherwise; Content-Type application/json, X-Content-Type-Options
// nosniff, X-Load-Balancing-Endpoint-Weight = the count, and the body
//   {"service":{"namespace":"default","name":"web"},"localEndpoints":1,"serviceProxyHealthy":true}
// (pretty-printed as upstream's). localEndpoints counts this node's ready endpoints (address and
// port) over all the Service's ports.
//
// One small HTTP server per such Service, on all IPv4 addresses (upstream's default
// nodePortAddresses); a port that cannot be bound is logged and tried again at the Service's next
// change. Set/SetAll run on the proxy's worker only; the servers' threads read the counts.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "agent/proxy/service_info.h"

namespace kite::proxy {

class ServiceHealthServers {
 public:
  // `proxy_healthy`: the proxy's own health (serviceProxyHealthy); `host`: the address listened on.
  explicit ServiceHealthServers(std::function<bool()> proxy_healthy, std::string host = "0.0.0.0");
  ~ServiceHealthServers();

  // One Service ("ns/name") after a change: its ports (empty: the Service is gone or gets no rules).
  void Set(const std::string& key, const std::vector<ServicePort>& ports);
  // Every Service (a full sync): listeners of Services not in `services` are closed.
  void SetAll(const ServiceMap& services);
  // The port a Service's health check listens on now (0: none). For tests.
  int Port(const std::string& key) const;

  struct Entry;

 private:
  std::function<bool()> proxy_healthy_;
  std::string host_;
  std::map<std::string, std::unique_ptr<Entry>> entries_;
};

// The health check node port of a Service's ports (0: none) and how many of its endpoints on
// this node are ready (distinct address and port over all its ports).
int32_t HealthCheckNodePort(const std::vector<ServicePort>& ports);
int LocalReadyEndpoints(const std::vector<ServicePort>& ports);

// The body upstream's health check answers with.
std::string HealthCheckBody(const std::string& ns, const std::string& name, int local_endpoints, bool proxy_healthy);

}  // namespace kite::proxy
