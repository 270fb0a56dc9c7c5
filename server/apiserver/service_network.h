// The Service network of a cluster: the range cluster IPs come from (--service-cidr, k3s's name
// for kube-apiserver's --service-cluster-ip-range; default 10.43.0.0/16) and the range node ports
// come from (--service-node-port-range, default 30000-32767), and how a free address or port is
// picked in them.
//
// Addresses named by the range: the `kubernetes` Service takes the first after the network's
// (10.43.0.1), the cluster DNS the tenth (10.43.0.10, k3s's default --cluster-dns).
//
// Picking follows upstream's allocators since ServiceIPStaticSubrange and
// ServiceNodePortStaticSubrange: the low end of each range is a band kept for values users ask
// for by name (16 to 256 addresses, range/16; 16 to 128 ports, range/32), so a dynamic pick takes
// a random free value above the band and goes into the band only when everything above is taken.
// That is why kube-dns's 10.43.0.10 is never taken by a Service created before it.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "base/ip_address.h"
#include "base/status.h"

namespace kite::apiserver {

struct ServiceNetwork {
  Ipv4Cidr cidr{0x0a2b0000, 16};  // 10.43.0.0/16
  PortRange node_ports{30000, 32767};

  std::string Cidr() const { return FormatIpv4Cidr(cidr); }
  std::string KubernetesServiceIp() const { return FormatIpv4(cidr.base + 1); }
  std::string ClusterDnsIp() const { return FormatIpv4(cidr.base + 10); }
  // Whether `ip` (text) is an address Services may have: inside the range, neither the
  // network's nor the broadcast address.
  bool IsServiceIp(const std::string& ip) const;

  // A free cluster IP ("" when the range is full); `taken` tells which addresses are in use.
  std::string PickClusterIp(const std::function<bool(const std::string&)>& taken, std::mt19937& rng) const;
  // A free node port (0 when the range is full).
  int64_t PickNodePort(const std::function<bool(int64_t)>& taken, std::mt19937& rng) const;
};

// A Service spec's node ports, by port index (0 where a port has none; empty without a spec).
std::vector<int64_t> NodePortsOf(const boost::json::object* spec);
// Whether a Service of this spec has node ports: NodePort, and LoadBalancer unless
// allocateLoadBalancerNodePorts is false.
bool NeedsNodePorts(const boost::json::object* spec);

// Whether a Service of this spec has a health check node port: a LoadBalancer with
// externalTrafficPolicy Local (upstream's NeedsHealthCheck); and its spec.healthCheckNodePort
// (0: unset).
bool NeedsHealthCheck(const boost::json::object* spec);
int64_t HealthCheckNodePortOf(const boost::json::object* spec);

// The cluster IPs and node ports an allocation handed to a Service whose write is still on its
// way to storage (admission, webhooks, the write itself). Which addresses are taken is read from
// the stored Services, so without this two creates racing for one address could both get it (an
// upstream API server holds them in its allocator's bitmap). One per API server: kite serves the
// API from one process.
//
// An allocation runs under Lock(): AddTaken adds the addresses of every Hold of another request
// for another Service to what storage says is taken (a concurrent write of the same Service, its
// status say, keeps the same addresses and must not be refused them; a create by generateName
// has no name yet and is another Service), the picks and checks follow (no waiting in between),
// and Keep records what the Service now carries for its Hold. A Hold lives in the request's frame until the write returned,
// stored (storage now tells) or failed (the addresses are free again); its destructor lets go.
class ServiceAddressHolds {
 public:
  class Hold {
   public:
    explicit Hold(ServiceAddressHolds* holds) : holds_(holds) {}
    // Only a Hold that kept something takes the lock: every write of every kind makes one.
    ~Hold() {
      if (kept_) holds_->Release(this);
    }
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;

   private:
    friend class ServiceAddressHolds;
    ServiceAddressHolds* holds_;
    bool kept_ = false;
  };

  std::unique_lock<std::mutex> Lock() { return std::unique_lock<std::mutex>(mu_); }
  // Under Lock(): the addresses of every Hold but `self` (may be null) and those of `service`
  // ("namespace/name"; "" when it has no name yet) added to ips and ports.
  void AddTaken(const Hold* self, const std::string& service, std::set<std::string>& ips, std::set<int64_t>& ports) const;
  // Under Lock(): `hold` keeps spec's cluster IPs, node ports and health check node port for
  // `service` (what it kept before is replaced).
  void Keep(Hold* hold, const std::string& service, const boost::json::object& spec);
  size_t size() const {
    std::lock_guard<std::mutex> lock(mu_);
    return held_.size();
  }

 private:
  struct Held {
    std::string service;
    std::vector<std::string> ips;
    std::vector<int64_t> ports;
  };
  void Release(const Hold* hold) {
    std::lock_guard<std::mutex> lock(mu_);
    held_.erase(hold);
  }
  mutable std::mutex mu_;
  std::map<const Hold*, Held> held_;
};

// From the flags' text. The IPv4 range of a dual-stack value (10.43.0.0/16,fd00:43::/112) is
// used; the range must be /12 (upstream's largest) to /28 (room for the DNS address).
// InvalidArgument naming the flag otherwise.
Result<ServiceNetwork> ParseServiceNetwork(const std::string& service_cidr, const std::string& node_port_range);

// The band kept for values asked for by name at the low end of a range of `size` values (the
// static subrange): min(max(min_band, size / step), max_band), and none for a range smaller than
// min_band. Exposed for tests.
uint64_t StaticBand(uint64_t size, uint64_t min_band, uint64_t max_band, uint64_t step);

// A free offset in [0, size): random above `band` first, then in the band; nullopt when every
// offset is taken. A few random tries, then a scan from a random start, so a nearly full range
// costs at most one pass.
std::optional<uint64_t> PickFreeOffset(uint64_t size, uint64_t band, const std::function<bool(uint64_t)>& taken,
                                       std::mt19937& rng);

}  // namespace kite::apiserver
