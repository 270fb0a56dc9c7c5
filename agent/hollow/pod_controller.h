// PodController: what a hollow node does for the pods bound to it (spec.nodeName), in place of
// the kubelet's pod workers and status manager, with containers that do nothing:
// - a pod not yet Running becomes Running `start_latency` after the node first saw it: one
//   status write (pods/status) with IPs, conditions and a running state per container;
// - a pod whose restartPolicy is Never or OnFailure becomes Succeeded `job_duration` after it
//   started (its containers exit 0); restartPolicy Always pods run until deleted;
// - a pod being deleted gracefully (metadata.deletionTimestamp) is deleted for good, with grace
//   0 and its uid as precondition, as the kubelet finishes a deletion once the containers are
//   stopped (here: at once);
// - pod IPs come from the node's pod CIDR (NodeSet) and are released when the pod finishes or
//   goes; after a restart of kite-hollow, pods found Running keep theirs.
// One informer over all pods (not one watch per node: a process may simulate thousands of
// nodes); its handlers queue the keys of our nodes' pods; Reconcile(ns/name) is level-triggered.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "agent/hollow/node_set.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::hollow {

class PodController final : public client::Controller {
 public:
  PodController(const client::Client* client, NodeSet* nodes, std::chrono::milliseconds start_latency,
                std::chrono::milliseconds job_duration, int workers);

  void Init(client::InformerFactory& informers) override;
  Status Reconcile(const std::string& key) override;

 private:
  using Steady = std::chrono::steady_clock;
  // What this process did to one pod (per uid: a re-created pod of the same name starts over).
  // The informer's copy can lag behind our own writes; this keeps us from writing twice.
  struct PodState {
    std::string uid;
    Steady::time_point seen{};              // first reconcile on our node
    WallClock::time_point started_at{};     // when we reported it Running
    bool running_written = false, done_written = false;
    int failures = 0;
  };
  Status Start(const std::string& key, const boost::json::object& pod, const std::string& node, PodState& st);
  Status Finish(const std::string& key, const boost::json::object& pod, const std::string& node, PodState& st);
  Status FinishDeletion(const std::string& key, const boost::json::object& pod, PodState& st);
  void Retry(const std::string& key, PodState& st, const kite::Status& e, const char* what);

  const client::Client* client_;
  NodeSet* nodes_;
  const std::chrono::milliseconds start_latency_, job_duration_;
  client::Informer* pods_ = nullptr;
  std::mutex mu_;  // guards state_ (the queue never hands one key to two workers)
  std::unordered_map<std::string, PodState> state_;
};

}  // namespace kite::hollow
