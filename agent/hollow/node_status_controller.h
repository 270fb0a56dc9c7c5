// NodeStatusController: registers every hollow node and keeps its status posted, as the
// kubelet's node status loop does.
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
#pragma once

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "agent/hollow/node_lease_controller.h"
#include "agent/hollow/node_objects.h"
#include "agent/hollow/node_set.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::hollow {

class NodeStatusController final : public client::Controller {
 public:
  NodeStatusController(const client::Client* client, const NodeTemplate* tmpl, NodeSet* nodes,
                       NodeLeaseController* leases, std::chrono::milliseconds status_interval, int workers);

  // Watches Nodes (for the Ready repair above) and queues every node for registration.
  void Init(client::InformerFactory& informers) override;
  Status Reconcile(const std::string& node) override;

 private:
  struct NodeState {
    bool registered = false;
    WallClock::time_point transition;  // of the conditions we post
    bool not_ready_seen = false;       // the Node showed Ready other than True: a transition
    int failures = 0;
  };
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
  const std::string boot_id_;  // one per run of kite-hollow
  std::mutex mu_;              // guards state_
  std::unordered_map<std::string, NodeState> state_;
  std::atomic<size_t> registered_{0};
};

}  // namespace kite::hollow
