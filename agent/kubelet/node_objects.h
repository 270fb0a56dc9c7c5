// The API objects a kubelet posts about its node, built as upstream's kubelet builds them: the
// Node (labels, taints, pod CIDR), its status (capacity, conditions, addresses, nodeInfo) and
// its Lease in kube-node-lease. Pure functions of the configuration and the clock, so they can
// be checked without a server. What the node says it runs (kubelet, kernel, OS image, container
// runtime) comes from the program: kite-hollow's simulated nodes say "hollow" there
// (agent/hollow/hollow_node.h), so no one mistakes them for real ones.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kite::kubelet {

using WallClock = std::chrono::system_clock;  // api/time.h formats its time points

// What every node of this process shares (from the command line and the runtime).
struct NodeTemplate {
  std::string cpu = "4", memory = "16Gi", ephemeral_storage = "100Gi";  // canonical quantities
  int64_t max_pods = 110;
  // status.allocatable where it differs from capacity (capacity minus --kube-reserved,
  // --system-reserved and the hard eviction thresholds: node_info.h); "" means the capacity.
  std::string allocatable_cpu, allocatable_memory, allocatable_ephemeral_storage;
  std::vector<std::pair<std::string, std::string>> labels;  // --node-labels, applied to all
  boost::json::array taints;                                  // --node-taints, as spec.taints
  int64_t lease_duration_seconds = 40;
  // status.nodeInfo: kubeletVersion, kernelVersion, osImage, containerRuntimeVersion
  // ("<runtime name>://<version>", from the runtime's Version).
  std::string kubelet_version, kernel_version, os_image, container_runtime_version;
  // The machine's identity (/etc/machine-id, the DMI product UUID, the kernel's boot ID); empty:
  // made up from the node name (kite-hollow's simulated nodes) and the process's start.
  std::string machine_id, system_uuid, boot_id;
  // status.daemonEndpoints.kubeletEndpoint.Port: where the kubelet server listens.
  int64_t kubelet_port = 10250;
};

// What the node's conditions say at one status post: pressure from measurements (node_info.h),
// and why the node is not Ready ("" when it is): the container runtime's own words.
struct NodeHealth {
  bool memory_pressure = false, disk_pressure = false, pid_pressure = false;
  std::string not_ready;
};

// lastTransitionTime of MemoryPressure, DiskPressure, PIDPressure and Ready, in that order.
using ConditionTimes = std::array<WallClock::time_point, 4>;

// One node's identity: its position among the nodes of this process (spreads their lease
// renewals), its name, InternalIP and the pod CIDR it asks for at registration.
struct NodeIdentity {
  int index = 0;
  std::string name;
  std::string internal_ip;
  std::string pod_cidr;
};

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

// The node's status. `since` says when each condition last changed, `now` is the heartbeat.
// `boot_id` is used when the template has none (it changes with every start of the process, as a
// real boot ID does). A Node with no pod CIDR yet (the server's node IPAM assigns it) says none.
boost::json::object BuildNodeStatus(const NodeTemplate& t, const NodeIdentity& id, const NodeHealth& health,
                                    const ConditionTimes& since, WallClock::time_point now, const std::string& boot_id);
// A healthy node whose conditions all changed at `transition`.
boost::json::object BuildNodeStatus(const NodeTemplate& t, const NodeIdentity& id, WallClock::time_point transition,
                                    WallClock::time_point now, const std::string& boot_id);

// The node's Lease, owned by the Node (uid), renewed at `now`.
boost::json::object BuildLease(const NodeTemplate& t, const std::string& node_name, const std::string& node_uid,
                               WallClock::time_point now);

// The architecture this binary was built for, in Kubernetes' spelling (amd64, arm64, arm).
const char* BuildArch();

}  // namespace kite::kubelet
