// The node lifecycle controller (upstream's "nodelifecycle"): watches Nodes and their Leases in
// kube-node-lease. A node whose Lease renewTime and Ready heartbeat (lastHeartbeatTime) have
// not moved for the grace period (--node-monitor-grace-period; --node-startup-grace-period for
// a node that never posted Ready) gets its Ready, MemoryPressure, DiskPressure and PIDPressure
// conditions set to Unknown ("Kubelet stopped posting node status."). Its taints follow its
// conditions (taints.h): unreachable or not-ready with NoSchedule and NoExecute, removed once the
// node is Ready again. When a node stops being Ready its pods are marked Ready=False, and the
// events NodeNotReady / NodeReady ("Node <name> status is now: …"), RegisteredNode and
// RemovingNode tell the story.
//
// The taint eviction controller (upstream's "taint-eviction-controller") deletes pods from
// nodes with NoExecute taints they do not tolerate, at once, or after the smallest
// tolerationSeconds of the tolerations they use (counted from the taint's timeAdded), with the
// event TaintManagerEviction "Marking for deletion Pod <ns>/<name>".
#pragma once

#include <chrono>
#include <memory>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewNodeLifecycleController(const client::Client* client,
                                                               std::chrono::milliseconds monitor_grace,
                                                               std::chrono::milliseconds startup_grace,
                                                               const Clock* clock = Clock::Real());
std::unique_ptr<client::Controller> NewTaintEvictionController(const client::Client* client,
                                                               const Clock* clock = Clock::Real());

}  // namespace kite::controllers
