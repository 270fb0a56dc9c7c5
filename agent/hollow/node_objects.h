// The API objects a hollow node posts about itself, built as the kubelet builds them: the Node
// (labels, taints, pod CIDR), its status (capacity, conditions, addresses, nodeInfo) and its
// Lease in kube-node-lease. Pure functions of the configuration and the clock, so they can be
// checked without a server. Everything that identifies the node says "hollow": these are
// simulated nodes for tests and benchmarks, and no one should mistake them for real ones.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kite::hollow {

using WallClock = std::chrono::system_clock;  // api/time.h formats its time points

// What every simulated node shares (from the command line).
struct NodeTemplate {
  std::string cpu = "4", memory = "16Gi", ephemeral_storage = "100Gi";  // canonical quantities
  int64_t max_pods = 110;
  std::vector<std::pair<std::string, std::string>> labels;  // --node-labels, applied to all
  boost::json::array taints;                                  // --node-taints, as spec.taints
  int64_t lease_duration_seconds = 40;
};

// One simulated node's identity. Node i gets InternalIP 10.200.0.0 + i + 1 and pod CIDR
// 10.(64 + i/256).(i%256).0/24, so up to 16,384 nodes have disjoint addresses.
struct NodeIdentity {
  int index = 0;
  std::string name;
  std::string internal_ip;
  std::string pod_cidr;
};
NodeIdentity MakeNodeIdentity(const std::string& prefix, int index);

// Parses --node-labels items "key=value" and --node-taints items "key[=value]:Effect" (Effect
// NoSchedule, PreferNoSchedule or NoExecute), as the kubelet's --node-labels and
// --register-with-taints read them; quantities are checked and made canonical.
Status ParseNodeLabels(const std::vector<std::string>& items, NodeTemplate* t);
Status ParseNodeTaints(const std::vector<std::string>& items, NodeTemplate* t);
Status SetCapacity(const std::string& cpu, const std::string& memory, const std::string& ephemeral_storage,
                   int64_t max_pods, NodeTemplate* t);

// The Node to create: metadata (name, labels), spec (taints, podCIDR/podCIDRs). No status: that
// goes through nodes/status.
boost::json::object BuildNode(const NodeTemplate& t, const NodeIdentity& id);

// The node's status. `transition` is when the conditions last changed (registration), `now`
// the heartbeat. `boot_id` changes with every start of kite-hollow, as a real boot ID does.
boost::json::object BuildNodeStatus(const NodeTemplate& t, const NodeIdentity& id, WallClock::time_point transition,
                                    WallClock::time_point now, const std::string& boot_id);

// The node's Lease, owned by the Node (uid), renewed at `now`.
boost::json::object BuildLease(const NodeTemplate& t, const std::string& node_name, const std::string& node_uid,
                               WallClock::time_point now);

// The architecture this binary was built for, in Kubernetes' spelling (amd64, arm64, arm).
const char* BuildArch();

}  // namespace kite::hollow
