// EvictionManager: the kubelet's node-pressure eviction, as upstream's eviction manager runs it.
// Every `period` (upstream's housekeeping, 10 s) it observes the signals (thresholds.h), and
// when a threshold is met:
// - the node's condition says so (MemoryPressure for memory.available, DiskPressure for the
//   nodefs/imagefs signals, PIDPressure for pid.available) and keeps saying so for
//   --eviction-pressure-transition-period (5 min) after the last time it was met, so the
//   condition does not flap; Health() is what the node status manager reports;
// - for a disk signal, node-level resources go first: unused images (the `reclaim` callback,
//   ImageGC::Free); if that brings the signal back above the threshold, no pod is evicted;
// - otherwise one pod is evicted per period, in upstream's ranking (thresholds.h): for memory,
//   by the memory working set of its cgroup (<cgroup root>/…/pod<uid>, read by stats.h on
//   cgroup v1 or v2: usage − inactive file pages); for disk, by the bytes under its log directory, its
//   emptyDir volumes and its containers' writable layers (CRI ListContainerStats), as upstream. A hard threshold kills at once (grace 0); a soft one gives the pod
//   min(its grace period, --eviction-max-pod-grace-period). The pod ends Failed with reason
//   Evicted and upstream's message, and a Warning Evicted event (PodWorkers::Evict).
// Static and mirror pods and pods of a system-critical priority are never evicted.
// While a pressure condition holds, new pods are refused as upstream's eviction admission does
// (Admit: reason Evicted, "The node had condition: [MemoryPressure]. "): under memory pressure
// alone only BestEffort pods that do not tolerate node.kubernetes.io/memory-pressure; under
// disk or PID pressure every pod; critical pods never.
// Not done: per-signal imagefs/nodefs split when they are different filesystems (here they are the same one: the
// agent's data dir holds containerd's root), and memory cgroup notifications (the kernel's
// threshold events) instead of polling.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/kubelet/eviction/thresholds.h"
#include "agent/kubelet/node_objects.h"
#include "agent/kubelet/node_set.h"
#include "agent/kubelet/stats.h"
#include "client/controller.h"

namespace kite::kubelet::eviction {

class EvictionManager final : public client::Controller {
 public:
  struct Options {
    std::vector<Threshold> thresholds;
    std::chrono::milliseconds period{10000};
    std::chrono::milliseconds pressure_transition_period{std::chrono::minutes(5)};
    int64_t max_pod_grace_period_s = 0;  // --eviction-max-pod-grace-period; 0: the pod's own
    std::string nodefs_dir, imagefs_dir;  // filesystems of the kubelet's root and of the images
    std::string cgroup_root = "/kubepods";
    std::string pod_logs_root = "/var/log/pods";
    std::string pods_dir;  // <kubelet root>/pods (emptyDir volumes under <uid>/volumes)
    std::string proc_root = "/";
  };
  // Evicts one pod: kill (grace seconds), Failed/Evicted with `message`.
  using Evict = std::function<void(const std::string& key, const std::string& uid, const std::string& message,
                                   int64_t grace_s)>;
  // Frees up to `bytes` of node-level disk (unused images); returns the bytes freed.
  using Reclaim = std::function<int64_t(int64_t bytes)>;

  EvictionManager(NodeSet* nodes, Evict evict, Reclaim reclaim, Options opts);

  void Init(client::InformerFactory& informers) override;
  Status Reconcile(const std::string& key) override;

  // The pressure conditions now (the node status manager's probe).
  NodeHealth Health() const;

  // Upstream's eviction admission for a new pod under Health(): the rejection message, or
  // nullopt to admit. AdmitUnder is the same for a given health (for tests).
  std::optional<std::string> Admit(const boost::json::object& pod) const { return AdmitUnder(Health(), pod); }
  static std::optional<std::string> AdmitUnder(const NodeHealth& health, const boost::json::object& pod);

  // One pass over `observed` at `now` (exposed for tests): updates Health() and evicts at most
  // one pod. Returns the key of the pod evicted, or "".
  std::string Synchronize(const Observations& observed, std::chrono::steady_clock::time_point now);

 private:
  struct Met {
    const Threshold* threshold;
    Observation observation;
  };
  std::vector<Met> ThresholdsMet(const Observations& observed, std::chrono::steady_clock::time_point now);
  std::string EvictOne(const Met& met);

  NodeSet* nodes_;
  Evict evict_;
  Reclaim reclaim_;
  const Options opts_;
  const CgroupFs cgroup_fs_;  // v1 or v2, detected once
  client::Informer* pods_ = nullptr;

  mutable std::mutex mu_;  // guards the state below
  std::map<const Threshold*, std::chrono::steady_clock::time_point> first_seen_;  // soft: when first met
  std::map<const Threshold*, bool> met_;                                          // for min reclaim
  // The last time a memory / disk / pid threshold was met.
  std::map<std::string, std::chrono::steady_clock::time_point> last_met_;
  NodeHealth health_;
};

}  // namespace kite::kubelet::eviction
