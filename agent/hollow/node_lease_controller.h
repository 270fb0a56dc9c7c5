// NodeLeaseController: the heartbeat of every hollow node, as the kubelet's node lease
// controller does it — a Lease named after the node in kube-node-lease, held by the node, owned
// by the Node object, its renewTime renewed every `renew_interval` (upstream: 10 s, a quarter of
// the 40 s lease duration). Renewals write the last lease this process wrote (optimistic
// concurrency on its resourceVersion) and fall back to get-or-create on a conflict.
//
// Work is spread out: node i of N renews at offset i/N of the interval, so 5,000 nodes make a
// steady stream of writes instead of a burst every ten seconds. Keys are node names in the
// controller's work queue, served by the runner's shared worker pool (no thread per node).
// A failed renewal is retried after RetryDelay, not after a whole interval.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "agent/hollow/node_objects.h"
#include "agent/hollow/node_set.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::hollow {

class NodeLeaseController final : public client::Controller {
 public:
  NodeLeaseController(const client::Client* client, const NodeTemplate* tmpl, NodeSet* nodes,
                      std::chrono::milliseconds renew_interval, int workers);

  void Init(client::InformerFactory&) override {}
  Status Reconcile(const std::string& node) override;

  // The node is registered (its uid known): write its lease now, then on its slot.
  void NodeRegistered(const std::string& node) { queue_.Add(node); }

 private:
  // The next renewal time of node `index` strictly after now.
  std::chrono::steady_clock::time_point NextSlot(int index) const;
  kite::Result<boost::json::object> Renew(const std::string& node, const std::string& uid);

  const client::Client* client_;
  const NodeTemplate* tmpl_;
  NodeSet* nodes_;
  const std::chrono::milliseconds interval_;
  const std::chrono::steady_clock::time_point epoch_;
  std::mutex mu_;  // guards latest_ and failures_ (the queue never runs one node twice at once)
  std::unordered_map<std::string, boost::json::object> latest_;  // the lease as last written
  std::unordered_map<std::string, int> failures_;
};

}  // namespace kite::hollow
