#include "agent/proxy/service_health.h"

#include <atomic>
#include <set>

#include "base/http_server.h"
#include "base/log.h"

namespace kite::proxy {

struct ServiceHealthServers::Entry {
  std::string ns, name;
  int32_t port = 0;
  std::atomic<int> local_endpoints{0};
  std::unique_ptr<HttpServer> server;  // null while the port could not be bound
};

int32_t HealthCheckNodePort(const std::vector<ServicePort>& ports) {
  return ports.empty() ? 0 : ports.front().health_check_node_port;
}

int LocalReadyEndpoints(const std::vector<ServicePort>& ports) {
  std::set<std::string> seen;
  for (const ServicePort& sp : ports) {
    for (const Endpoint& e : sp.endpoints) {
      if (e.local && e.ready) seen.insert(e.String());
    }
  }
  return static_cast<int>(seen.size());
}

std::string HealthCheckBody(const std::string& ns, const std::string& name, int local_endpoints, bool proxy_healthy) {
  // Names are DNS labels: nothing in them needs escaping in a JSON string.
  return "{\n\t\"service\": {\n\t\t\"namespace\": \"" + ns + "\",\n\t\t\"name\": \"" + name + "\"\n\t},\n\t\"localEndpoints\": " +
         std::to_string(local_endpoints) + ",\n\t\"serviceProxyHealthy\": " + (proxy_healthy ? "true" : "false") + "\n}";
}

ServiceHealthServers::ServiceHealthServers(std::function<bool()> proxy_healthy, std::string host)
    : proxy_healthy_(std::move(proxy_healthy)), host_(std::move(host)) {}

ServiceHealthServers::~ServiceHealthServers() = default;

void ServiceHealthServers::Set(const std::string& key, const std::vector<ServicePort>& ports) {
  const int32_t port = HealthCheckNodePort(ports);
  auto it = entries_.find(key);
  if (port == 0) {
    if (it != entries_.end()) entries_.erase(it);  // stops and joins its server
    return;
  }
  if (it != entries_.end() && it->second->port != port) {
    entries_.erase(it);
    it = entries_.end();
  }
  if (it == entries_.end()) {
    auto e = std::make_unique<Entry>();
    e->ns = ports.front().ns;
    e->name = ports.front().name;
    e->port = port;
    it = entries_.emplace(key, std::move(e)).first;
  }
  Entry* e = it->second.get();
  e->local_endpoints = LocalReadyEndpoints(ports);
  if (e->server) return;
  auto server = std::make_unique<HttpServer>();
  server->Route("*", [e, healthy = proxy_healthy_] {
    const int count = e->local_endpoints.load();
    const bool proxy_ok = healthy();
    HttpReply r;
    r.status = count > 0 && proxy_ok ? 200 : 503;
    r.content_type = "application/json";
    r.headers = {{"X-Content-Type-Options", "nosniff"}, {"X-Load-Balancing-Endpoint-Weight", std::to_string(count)}};
    r.body = HealthCheckBody(e->ns, e->name, count, proxy_ok);
    return r;
  });
  const std::string where = (host_.find(':') == std::string::npos ? host_ : "[" + host_ + "]") + ":" + std::to_string(port);
  if (Status s = server->Start(where); !s.ok()) {
    KITE_LOG(0) << "kube-proxy: health check of Service " << key << " on " << where << ": " << s.message();
    return;
  }
  e->server = std::move(server);
}

void ServiceHealthServers::SetAll(const ServiceMap& services) {
  for (auto it = entries_.begin(); it != entries_.end();) {
    it = services.count(it->first) ? std::next(it) : entries_.erase(it);
  }
  for (const auto& [key, ports] : services) {
    if (HealthCheckNodePort(ports) != 0 || entries_.count(key)) Set(key, ports);
  }
}

int ServiceHealthServers::Port(const std::string& key) const {
  auto it = entries_.find(key);
  return it != entries_.end() && it->second->server ? it->second->port : 0;
}

}  // namespace kite::proxy
