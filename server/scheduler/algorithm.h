// One scheduling cycle of upstream's default profile over the cache: PreFilter, Filter on a
// sample of nodes, Score, host selection; and the FitError message when no node fits.
//
// - Filters run in the profile's order (NodeUnschedulable, NodeName, TaintToleration,
//   NodeAffinity, NodePorts, NodeResourcesFit, PodTopologySpread, InterPodAffinity); the first
//   failure is the node's status. Pods nominated to a node (after a preemption) with a priority
//   at least the pod's count there, as upstream's RunFilterPluginsWithNominatedPods.
// - Sampling as upstream's percentageOfNodesToScore: all nodes below 100; otherwise stop once
//   max(100, N × p%) feasible nodes are found, p = 50 - N/125 but at least 5 (adaptive) unless
//   configured; the search starts where the previous cycle stopped, so every node gets its turn.
//   A pod's nominated node is tried first and taken if it fits.
// - Scores with the default weights: TaintToleration 3, NodeAffinity 2, PodTopologySpread 2,
//   InterPodAffinity 2, NodeResourcesFit (LeastAllocated) 1, BalancedAllocation 1 (ImageLocality
//   is not implemented). The highest total wins; ties are broken at random (reservoir sampling).
//
// Threading: an Algorithm is used by one thread (it keeps scratch buffers and the next start).
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/scheduler/cache.h"
#include "server/scheduler/filters.h"
#include "server/scheduler/inter_pod_affinity.h"
#include "server/scheduler/topology_spread.h"

namespace kite::scheduler {

// Pods nominated to nodes by preemption (status.nominatedNodeName), by node name.
using NominatedPods = std::unordered_map<std::string, std::vector<PodInfoPtr>>;

// The per-cycle state of the plugins that need cluster-wide counts.
struct CycleState {
  const Cache* cache = nullptr;
  const PodInfo* pod = nullptr;
  const NominatedPods* nominated = nullptr;
  InterPodAffinityState affinity;
  SpreadFilterState spread;

  void PreFilter(const Cache& c, const PodInfo& p, const NominatedPods* n);
  // All filters on `node` (a node with a spec), nominated pods included.
  FilterStatus Filter(const NodeInfo& node);
  // Without nominated pods.
  FilterStatus FilterAlone(const NodeInfo& node) const;
  // What-if updates (preemption): `other` added to / removed from `node`.
  void UpdateWithPod(const PodInfo& other, const NodeInfo& node, int delta);
};

// Why a pod fits nowhere: per failing node, its status.
struct Diagnosis {
  int num_all_nodes = 0;
  std::vector<std::pair<const NodeInfo*, FilterStatus>> statuses;
  uint32_t plugins = 0;        // PluginBit of every plugin that rejected a node
  std::string pre_filter_msg;  // set when the pod was rejected before filtering nodes
};

// Upstream's FitError.Error(): "0/N nodes are available: <count reason, …>." followed by
// " <post_filter_msg>" when that is not empty. `absent_reason`, when given, is counted for
// the nodes without a status (upstream's absent-nodes status).
std::string FitErrorMessage(const Diagnosis& d, const PodInfo& pod, const std::string& post_filter_msg,
                            const char* absent_reason = nullptr);

struct AlgorithmOptions {
  int percentage_of_nodes_to_score = 0;  // 0: adaptive, as upstream's default
  uint64_t seed = 0;                     // 0: random
};

class Algorithm {
 public:
  explicit Algorithm(AlgorithmOptions o = {});

  // Picks a node for `pod`; "" when none fits (then `diag` says why). `state` is left prepared
  // for preemption. `no_nodes` is set when the cluster has no nodes at all (upstream's
  // "no nodes available to schedule pods").
  std::string Schedule(const Cache& cache, const PodInfo& pod, const NominatedPods& nominated, CycleState* state,
                       Diagnosis* diag, bool* no_nodes);

  // How many feasible nodes to look for among `all` (upstream's numFeasibleNodesToFind).
  size_t NumFeasibleNodesToFind(size_t all) const;
  std::mt19937_64& rng() { return rng_; }

 private:
  std::string SelectHost(const PodInfo& pod, const Cache& cache);

  AlgorithmOptions options_;
  std::mt19937_64 rng_;
  size_t next_start_ = 0;
  // Scratch, reused across cycles.
  std::vector<const NodeInfo*> feasible_;
  std::vector<int64_t> total_, plugin_;
};

}  // namespace kite::scheduler
