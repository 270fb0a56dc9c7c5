// What makes a kite-hollow node a simulated one: its identity (addresses that do not clash
// across thousands of nodes) and the template that says "hollow" wherever a node says what it
// runs (kubeletVersion v1.32.4-hollow, kernel hollow, OS image kite-hollow, instance type
// hollow), so no one mistakes these nodes for real ones.
#pragma once

#include <string>

#include "agent/kubelet/node_objects.h"

namespace kite::hollow {

// Node i gets InternalIP 10.200.0.0 + i + 1 and pod CIDR 10.(64 + i/256).(i%256).0/24, so up to
// 16,384 nodes have disjoint addresses.
kubelet::NodeIdentity MakeNodeIdentity(const std::string& prefix, int index);

// A NodeTemplate with the hollow node info and the instance-type label, before --node-labels.
// `container_runtime_version` is the runtime's ("hollow://1.0").
kubelet::NodeTemplate HollowNodeTemplate(const std::string& container_runtime_version = "hollow://1.0");

}  // namespace kite::hollow
