#include "server/apiserver/service_network.h"

#include <algorithm>

namespace kite::apiserver {

namespace {

// A random offset in [from, to), to > from.
uint64_t RandomIn(uint64_t from, uint64_t to, std::mt19937& rng) {
  return from + std::uniform_int_distribution<uint64_t>(0, to - from - 1)(rng);
}

// A free offset in [from, to), or nullopt.
std::optional<uint64_t> FreeIn(uint64_t from, uint64_t to, const std::function<bool(uint64_t)>& taken, std::mt19937& rng) {
  if (to <= from) return std::nullopt;
  for (int i = 0; i < 16; ++i) {
    const uint64_t at = RandomIn(from, to, rng);
    if (!taken(at)) return at;
  }
  const uint64_t start = RandomIn(from, to, rng), n = to - from;
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t at = from + (start - from + i) % n;
    if (!taken(at)) return at;
  }
  return std::nullopt;
}

}  // namespace

uint64_t StaticBand(uint64_t size, uint64_t min_band, uint64_t max_band, uint64_t step) {
  if (size < min_band) return 0;
  return std::min(std::max(min_band, size / step), max_band);
}

std::optional<uint64_t> PickFreeOffset(uint64_t size, uint64_t band, const std::function<bool(uint64_t)>& taken,
                                       std::mt19937& rng) {
  if (auto above = FreeIn(std::min(band, size), size, taken, rng)) return above;
  return FreeIn(0, std::min(band, size), taken, rng);
}

std::vector<int64_t> NodePortsOf(const boost::json::object* spec) {
  std::vector<int64_t> out;
  const boost::json::value* ports = spec ? spec->if_contains("ports") : nullptr;
  if (!ports || !ports->is_array()) return out;
  for (const auto& p : ports->as_array()) {
    const boost::json::value* np = p.is_object() ? p.as_object().if_contains("nodePort") : nullptr;
    out.push_back(np && np->is_int64() ? np->as_int64() : 0);
  }
  return out;
}

bool NeedsNodePorts(const boost::json::object* spec) {
  const boost::json::value* type = spec ? spec->if_contains("type") : nullptr;
  if (!type || !type->is_string()) return false;
  if (type->as_string() == "NodePort") return true;
  if (type->as_string() != "LoadBalancer") return false;
  const boost::json::value* allocate = spec->if_contains("allocateLoadBalancerNodePorts");
  return !(allocate && allocate->is_bool() && !allocate->as_bool());
}

bool NeedsHealthCheck(const boost::json::object* spec) {
  if (!spec) return false;
  const boost::json::value* type = spec->if_contains("type");
  const boost::json::value* policy = spec->if_contains("externalTrafficPolicy");
  return type && type->is_string() && type->as_string() == "LoadBalancer" && policy && policy->is_string() &&
         policy->as_string() == "Local";
}

int64_t HealthCheckNodePortOf(const boost::json::object* spec) {
  const boost::json::value* port = spec ? spec->if_contains("healthCheckNodePort") : nullptr;
  return port && port->is_int64() ? port->as_int64() : 0;
}

void ServiceAddressHolds::AddTaken(const Hold* self, const std::string& service, std::set<std::string>& ips,
                                   std::set<int64_t>& ports) const {
  for (const auto& [hold, held] : held_) {
    if (hold == self || (!service.empty() && held.service == service)) continue;
    ips.insert(held.ips.begin(), held.ips.end());
    ports.insert(held.ports.begin(), held.ports.end());
  }
}

void ServiceAddressHolds::Keep(Hold* hold, const std::string& service, const boost::json::object& spec) {
  Held held;
  held.service = service;
  if (const boost::json::value* ips = spec.if_contains("clusterIPs"); ips && ips->is_array()) {
    for (const auto& ip : ips->as_array()) {
      if (ip.is_string() && ip.as_string() != "None") held.ips.emplace_back(ip.as_string());
    }
  }
  for (int64_t p : NodePortsOf(&spec)) {
    if (p != 0) held.ports.push_back(p);
  }
  if (int64_t hc = HealthCheckNodePortOf(&spec); hc != 0) held.ports.push_back(hc);
  held_[hold] = std::move(held);
  hold->kept_ = true;
}

bool ServiceNetwork::IsServiceIp(const std::string& ip) const {
  const auto a = ParseIpv4(ip);
  return a && cidr.Contains(*a) && *a != cidr.base && uint64_t{*a} != cidr.base + cidr.Size() - 1;
}

std::string ServiceNetwork::PickClusterIp(const std::function<bool(const std::string&)>& taken, std::mt19937& rng) const {
  // Offsets count the usable addresses: offset 0 is the network's address + 1.
  const uint64_t usable = cidr.Size() - 2;
  auto at = PickFreeOffset(usable, StaticBand(usable, 16, 256, 16),
                           [&](uint64_t o) { return taken(FormatIpv4(static_cast<uint32_t>(cidr.base + 1 + o))); }, rng);
  return at ? FormatIpv4(static_cast<uint32_t>(cidr.base + 1 + *at)) : "";
}

int64_t ServiceNetwork::PickNodePort(const std::function<bool(int64_t)>& taken, std::mt19937& rng) const {
  const uint64_t size = static_cast<uint64_t>(node_ports.Size());
  auto at = PickFreeOffset(size, StaticBand(size, 16, 128, 32),
                           [&](uint64_t o) { return taken(node_ports.first + static_cast<int64_t>(o)); }, rng);
  return at ? node_ports.first + static_cast<int64_t>(*at) : 0;
}

Result<ServiceNetwork> ParseServiceNetwork(const std::string& service_cidr, const std::string& node_port_range) {
  ServiceNetwork n;
  auto split = SplitDualStackCidrs(service_cidr);
  if (!split.ok()) return split.status().Annotate("--service-cidr");
  if (split->ipv4.empty()) return Status(Code::kInvalidArgument, "--service-cidr: an IPv4 range is required (IPv6-only Services are not supported)");
  auto cidr = ParseIpv4Cidr(split->ipv4);
  if (!cidr.ok()) return cidr.status().Annotate("--service-cidr");
  if (cidr->prefix < 12 || cidr->prefix > 28) {
    return Status(Code::kInvalidArgument, "--service-cidr: " + split->ipv4 +
                                              " must be /12 (kube-apiserver's largest) to /28 (room for the cluster DNS address)");
  }
  n.cidr = *cidr;
  auto ports = ParsePortRange(node_port_range);
  if (!ports.ok()) return ports.status().Annotate("--service-node-port-range");
  n.node_ports = *ports;
  return n;
}

}  // namespace kite::apiserver
