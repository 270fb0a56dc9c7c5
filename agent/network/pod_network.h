// PodNetwork: the way from this node's pods to every other node's pods — flannel's job in k3s,
// done inside the agent (`--flannel-backend`, `--flannel-iface`, k3s's flag names). The node's
// own pods sit on the CNI bridge (cni_config.h); this controller programs the kernel so that
// each other node's podCIDR is reachable, watching Nodes through an informer:
//
//   vxlan (default), flannel-compatible: a device flannel.1 (VNI 1, UDP 8472, no learning, MTU
//     the uplink's − 50, address <own podCIDR>.0/32) whose MAC (stable: derived from the node
//     name) is published with upstream's annotations on this Node:
//       flannel.alpha.coreos.com/backend-data       {"VNI":1,"VtepMAC":"…"}
//       flannel.alpha.coreos.com/backend-type       vxlan
//       flannel.alpha.coreos.com/public-ip          the uplink's address
//       flannel.alpha.coreos.com/kube-subnet-manager true
//     and for every other node: route <podCIDR> via <its podCIDR>.0 onlink dev flannel.1, a
//     permanent ARP entry <podCIDR>.0 → its VTEP MAC, and an FDB entry VTEP MAC → its public IP.
//   host-gw: route <podCIDR> via the other node's public IP (nodes share a link).
//   none: nothing (a CNI the user installs does it).
//
// Level-triggered: every sync reads the kernel (routes marked with netlink::kRouteProtocol,
// the permanent neighbours and FDB entries of flannel.1) and makes it match the Nodes, so a node
// that left loses its routes, a restart adopts what is there, and a route deleted by hand comes
// back at the next resync. Node events that change a podCIDR, address or these annotations
// trigger a sync at once. Masquerade for traffic leaving the cluster CIDR: masquerade.h.
// The kernel is programmed through netlink.h, in the agent's own network namespace.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "agent/network/masquerade.h"
#include "agent/network/netlink.h"
#include "client/controller.h"

namespace kite::network {

enum class Backend { kVxlan, kHostGw, kNone };
Result<Backend> ParseBackend(const std::string& name);  // "vxlan" | "host-gw" | "none"
const char* BackendName(Backend b);

inline constexpr const char* kVxlanDevice = "flannel.1";
inline constexpr uint32_t kVxlanVni = 1;
inline constexpr uint16_t kVxlanPort = 8472;  // flannel's (the Linux default, not IANA's 4789)
inline constexpr uint32_t kVxlanOverhead = 50;  // outer IPv4 20 + UDP 8 + VXLAN 8 + Ethernet 14

inline constexpr const char* kAnnotationBackendData = "flannel.alpha.coreos.com/backend-data";
inline constexpr const char* kAnnotationBackendType = "flannel.alpha.coreos.com/backend-type";
inline constexpr const char* kAnnotationPublicIp = "flannel.alpha.coreos.com/public-ip";
inline constexpr const char* kAnnotationSubnetManager = "flannel.alpha.coreos.com/kube-subnet-manager";

struct PodNetworkOptions {
  Backend backend = Backend::kVxlan;
  std::string iface;      // --flannel-iface; "": the interface holding node_ip
  std::string node_name;
  std::string node_ip;    // the node's InternalIP; "": the default route's interface
  std::string cluster_cidr = "10.42.0.0/16";
  std::chrono::milliseconds resync{30'000};
};

// The interface pod traffic leaves the node by.
struct Uplink {
  std::string name;
  int index = 0;
  uint32_t mtu = 0;
  netlink::Ip4 ip;
};
// --flannel-iface when given (its first IPv4 address), else the interface holding `node_ip`,
// else the default route's.
Result<Uplink> FindUplink(netlink::Socket& nl, const std::string& iface, const std::string& node_ip);
// The pods' MTU for this backend: the uplink's, less the VXLAN overhead for vxlan; 0 for none or
// when no uplink is found (then the CNI plugin's default).
int PodMtu(const PodNetworkOptions& options);

// ---- the pure part (unit-tested) ----------------------------------------------------------------

struct Cidr {
  netlink::Ip4 net;
  int prefix = 0;
  static std::optional<Cidr> Parse(const std::string& text);  // IPv4 a.b.c.d/n, host bits cleared
  bool Contains(netlink::Ip4 ip) const;
  std::string ToString() const;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// What a Node tells the pod network.
struct NodeNetwork {
  std::string name;
  std::optional<Cidr> pod_cidr;
  std::string backend_type;           // the annotation ("" when absent)
  netlink::Ip4 public_ip;             // the annotation, else the InternalIP
  std::optional<netlink::Mac> vtep;   // from backend-data
  friend bool operator==(const NodeNetwork&, const NodeNetwork&) = default;
};
NodeNetwork ReadNodeNetwork(const boost::json::object& node);

// The VTEP MAC of a node: locally administered, unicast, from the node name's SHA-256, so a
// restarted agent (or a recreated device) keeps the address the other nodes know.
netlink::Mac VtepMac(const std::string& node_name);
// The annotations this node publishes.
std::map<std::string, std::string> NodeAnnotations(Backend b, netlink::Ip4 public_ip, const netlink::Mac& vtep);

struct Dataplane {
  std::vector<netlink::Route> routes;
  std::vector<netlink::Neighbour> neighbours;
  std::vector<netlink::FdbEntry> fdb;
};
// What the kernel should hold for the other nodes. `vxlan_index`: flannel.1's; `uplink_index`:
// the host-gw routes' device. Nodes without a podCIDR, with another backend, or missing what
// the backend needs (a VTEP MAC, an address) are left out.
Dataplane Desired(Backend b, const std::string& self, const std::vector<NodeNetwork>& nodes, int vxlan_index,
                  int uplink_index);

struct Changes {
  Dataplane remove, add;  // add: create or replace
  bool empty() const;
};
// From what the kernel holds (only our own: routes with kRouteProtocol, permanent entries of
// flannel.1) to `want`.
Changes Diff(const Dataplane& want, const Dataplane& have);

// ---- the controller ------------------------------------------------------------------------------

class PodNetwork final : public client::Controller {
 public:
  PodNetwork(const client::Client* client, PodNetworkOptions options);
  void Init(client::InformerFactory& informers) override;
  kite::Status Reconcile(const std::string& key) override;

 private:
  kite::Status EnsureVxlanDevice(const Uplink& up, const Cidr& own, int* index);
  kite::Status EnsureAnnotations(const boost::json::object& node, const Uplink& up);
  kite::Status Apply(const Changes& c);

  const client::Client* client_;
  const PodNetworkOptions options_;
  client::Informer* nodes_ = nullptr;
  std::optional<netlink::Socket> nl_;
  std::optional<IptablesCommands> iptables_;
};

}  // namespace kite::network
