// NodeStatusManager: registers every node of this process and keeps its status posted, as
// upstream's kubelet does (registerWithAPIServer, syncNodeStatus).
//
// - Registration: create the Node (labels, taints, pod CIDR); when it exists already (a restart,
//   or a node someone made), take it over: our labels win, our taints are added to its own, an
//   existing pod CIDR is kept. Then the status goes through nodes/status, and the lease
//   controller is told to start the node's heartbeat. A node is registered once per process;
//   like the kubelet, a deleted Node is not registered again (status posts then fail and say so).
// - Status: posted every `status_interval` (a merge patch of the whole status: conditions with
//   lastHeartbeatTime, capacity, addresses, nodeInfo), and at once when a Node of ours shows a
//   Ready condition other than True (the node lifecycle controller marks a node whose lease
//   stopped Unknown; a node that comes back must say it is Ready, as the kubelet does when its
//   status differs from what it would post). Keys are node names on the shared worker pool.
// - Conditions: Ready is False (reason KubeletNotReady) while the node's container runtime says
//   it is not ready (CRI RuntimeStatus: RuntimeReady or NetworkReady false, in upstream's
//   wording) or cannot be reached; the reason is logged once per change. MemoryPressure,
//   DiskPressure and PIDPressure come from the pressure probe (none: never under pressure).
//   Each condition keeps its own lastTransitionTime.
// - With a report interval longer than the status interval (the kubelet's
//   nodeStatusUpdateFrequency vs nodeStatusReportFrequency), the status is measured every status
//   interval but posted only when something other than the heartbeat changed, or once a report
//   interval: fewer writes on flash.
// - A pod CIDR the server assigns after registration (node IPAM) goes to the runtime.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>

#include "agent/kubelet/node_lease_controller.h"
#include "agent/kubelet/node_objects.h"
#include "agent/kubelet/node_set.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::kubelet {

class NodeStatusManager final : public client::Controller {
 public:
  NodeStatusManager(const client::Client* client, const NodeTemplate* tmpl, NodeSet* nodes,
                       NodeLeaseController* leases, std::chrono::milliseconds status_interval, int workers);

  // Before Start: how pressure is measured (called on a worker thread at every status check).
  using PressureProbe = std::function<NodeHealth(const Node& node)>;
  void SetPressureProbe(PressureProbe probe) { pressure_ = std::move(probe); }
  // Before Start: post unchanged status only this often (default: every status interval).
  void SetReportInterval(std::chrono::milliseconds report) { report_interval_ = report; }

  // Watches Nodes (for the Ready repair above) and queues every node for registration.
  void Init(client::InformerFactory& informers) override;
  Status Reconcile(const std::string& node) override;

 private:
  struct NodeState {
    bool registered = false;
    WallClock::time_point transition;  // of the conditions we post
    bool not_ready_seen = false;       // the Node showed Ready other than True: a transition
    int failures = 0;
    std::array<int, 4> last{-1, -1, -1, -1};  // conditions' last posted values (ConditionTimes order)
    ConditionTimes since;
    std::string not_ready;                     // last logged reason
    std::string posted_shape;                  // the last posted status without its heartbeat
    WallClock::time_point posted_at;
    std::string pod_cidr;                      // given to the runtime
  };
  NodeHealth Measure(const Node& node);
  // Create or take over; fills *st on success.
  kite::Result<boost::json::object> Register(const NodeIdentity& id, NodeState* st);
  NodeState GetState(const std::string& node);
  void PutState(const std::string& node, const NodeState& st);
  void Retry(const std::string& node, NodeState* st, const kite::Status& e, const char* what);

  const client::Client* client_;
  const NodeTemplate* tmpl_;
  NodeSet* nodes_;
  NodeLeaseController* leases_;
  const std::chrono::milliseconds interval_;
  std::chrono::milliseconds report_interval_{0};
  PressureProbe pressure_;
  client::Informer* node_informer_ = nullptr;  // set by Init
  const std::string boot_id_;  // one per run of the process
  std::mutex mu_;              // guards state_
  std::unordered_map<std::string, NodeState> state_;
  std::atomic<size_t> registered_{0};
};

}  // namespace kite::kubelet
