// PodWorkers: what the kubelet does for the pods bound to its nodes (spec.nodeName), as
// upstream's pod workers and SyncPod do, through the node's container runtime (agent/cri/):
// - a pod to run gets a sandbox (its network: the pod IP) and its containers, init containers
//   first, one after another, each run to completion; images are pulled when missing. Once
//   every container runs, the status manager writes the pod Running (IPs, conditions, a running
//   state per container);
// - a pod whose restartPolicy is Never or OnFailure becomes Succeeded when every container
//   exited 0: the runtime is asked every `relist_period` (upstream's PLEG relist);
// - a pod that finished, goes, or is being deleted gracefully (metadata.deletionTimestamp) has
//   its sandbox stopped and removed (containers and pod IP with it); a graceful deletion then
//   ends with the status manager's final delete;
// - `start_latency` delays the start of a pod from when it was first seen (kite-hollow's
//   simulated start-up time; 0 for a kubelet).
// Not yet (they come with the containerd runtime): container restarts, Failed pods, probes.
// A runtime that lost a sandbox (kite-hollow restarted) gets a new one, as after a node reboot.
// One informer over all pods (not one watch per node: a process may run thousands of nodes);
// its handlers queue the keys of our nodes' pods; Reconcile(ns/name) is level-triggered.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/kubelet/node_set.h"
#include "agent/kubelet/pod_status.h"
#include "agent/kubelet/status_manager.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::kubelet {

class PodWorkers final : public client::Controller {
 public:
  struct Options {
    std::chrono::milliseconds start_latency{0};
    std::chrono::milliseconds relist_period{1000};
    int workers = 4;
  };
  PodWorkers(NodeSet* nodes, const StatusManager* status, Options opts);

  void Init(client::InformerFactory& informers) override;
  Status Reconcile(const std::string& key) override;

 private:
  using Steady = std::chrono::steady_clock;
  // What this process did to one pod (per uid: a re-created pod of the same name starts over).
  // The informer's copy can lag behind our own writes; this keeps us from writing twice.
  struct PodState {
    std::string uid;
    Steady::time_point seen{};   // first reconcile on our node
    std::string node;            // where its sandbox runs
    std::string sandbox_id;      // "" before the start and once killed
    std::string pod_ip;
    size_t init_done = 0;        // init containers that exited 0
    std::vector<std::pair<std::string, std::string>> containers;  // (name, runtime id), started
    bool running_written = false, done_written = false;
    int failures = 0;
  };
  // Sandbox and containers, as far as they get: init containers one at a time.
  // OK with *ready false: come back later (an init container still runs).
  Status StartPod(const std::string& key, const boost::json::object& pod, const Node& node, PodState& st, bool* ready);
  Status StartContainer(const Node& node, const boost::json::object& pod, const boost::json::object& container,
                        const cri::PodSandboxConfig& sandbox, PodState& st, std::string* id);
  // Writes Running or Succeeded from the runtime's state of the containers.
  Status SyncStatus(const std::string& key, const boost::json::object& pod, const Node& node, PodState& st);
  // Stops and removes the sandbox with its containers (idempotent).
  void KillPod(PodState& st);
  void Retry(const std::string& key, PodState& st, const kite::Status& e, const char* what);
  void RetryRuntime(const std::string& key, PodState& st, const Status& s, const char* what);

  NodeSet* nodes_;
  const StatusManager* status_;
  const Options opts_;
  client::Informer* pods_ = nullptr;
  std::mutex mu_;  // guards state_ (the queue never hands one key to two workers)
  std::unordered_map<std::string, PodState> state_;
};

}  // namespace kite::kubelet
