// The node IPAM controller (upstream's "nodeipam" with its range allocator, as
// kube-controller-manager runs it with --allocate-node-cidrs, which k3s sets): every Node
// without spec.podCIDR gets the lowest free subnet of --cluster-cidr (IPv4; k3s's default
// 10.42.0.0/16 with /24 per node — --node-cidr-mask-size). A node keeps its CIDR (spec.podCIDR
// is immutable once set); the CIDR of a deleted node is free again. CIDRs outside the cluster
// CIDR (a node that brought its own, like kite-hollow's) are left alone. When every subnet is
// taken the node stays without one and the event CIDRNotAvailable says so, as upstream's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "base/ip_address.h"
#include "base/status.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

namespace nodeipam {
// Subnet `index` of size /mask inside `cluster`, or nullopt past the last one.
std::optional<Ipv4Cidr> Subnet(const Ipv4Cidr& cluster, int mask, uint32_t index);
// The index of `subnet` inside `cluster` at /mask, or nullopt when it is not one of them.
std::optional<uint32_t> SubnetIndex(const Ipv4Cidr& cluster, int mask, const Ipv4Cidr& subnet);
}  // namespace nodeipam

// Fails for a malformed cluster CIDR or a mask not longer than its prefix (or over /30).
Status CheckClusterCidr(const std::string& cluster_cidr, int node_mask);
// CheckClusterCidr's errors. `clock`: the controller's time (its queue, the CIDRNotAvailable
// event's timestamps); tests pass a FakeClock.
Result<std::unique_ptr<client::Controller>> NewNodeIpamController(const client::Client* client,
                                                                  const std::string& cluster_cidr, int node_mask,
                                                                  const Clock* clock = Clock::Real());

}  // namespace kite::controllers
