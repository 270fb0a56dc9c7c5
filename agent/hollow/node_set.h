// NodeSet: the simulated nodes of one kite-hollow process and what is learnt about them at run
// time — the uid of each Node object once registered (leases are owned by it) and the pod IPs
// handed out from each node's pod CIDR (unique per pod, reused after the pod is gone, as
// host-local IPAM does). Thread-safe; the list of nodes itself never changes.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "agent/hollow/node_objects.h"

namespace kite::hollow {

class NodeSet {
 public:
  NodeSet(const std::string& name_prefix, int count);

  const std::vector<NodeIdentity>& nodes() const { return nodes_; }
  // Ours, or nullptr.
  const NodeIdentity* Find(std::string_view name) const;

  // After (re-)registration: the Node's uid and the pod CIDR it ended up with (an existing Node
  // keeps the one it had). A different CIDR forgets the IPs handed out from the old one.
  void SetRegistered(const std::string& name, const std::string& uid, const std::string& pod_cidr);
  // "" until registered.
  std::string Uid(const std::string& name) const;

  // The IP of pod `pod_key` ("ns/name") on `node`: the one it was given before, else the lowest
  // free address from .2 on in the node's pod CIDR. "" when the CIDR is full or not IPv4.
  std::string PodIp(const std::string& node, const std::string& pod_key);
  // A pod that already has an IP (found Running after a restart) keeps it.
  void AdoptPodIp(const std::string& node, const std::string& pod_key, const std::string& ip);
  void ReleasePodIp(const std::string& pod_key);

 private:
  struct Runtime {
    std::string uid;
    std::string cidr;
    uint32_t cidr_base = 0;   // network address; 0: no usable IPv4 CIDR
    uint32_t cidr_hosts = 0;  // addresses after the network one, broadcast excluded
    std::unordered_set<uint32_t> used;  // offsets from cidr_base
  };
  struct Assigned {
    std::string node;
    uint32_t offset = 0;
  };
  void SetCidrLocked(Runtime& rt, const std::string& cidr);

  std::vector<NodeIdentity> nodes_;
  std::unordered_map<std::string, size_t> index_;  // name → position in nodes_
  mutable std::mutex mu_;                          // guards runtime_ and pod_ips_
  std::vector<Runtime> runtime_;                   // parallel to nodes_
  std::unordered_map<std::string, Assigned> pod_ips_;  // pod key → its address
};

}  // namespace kite::hollow
