// PodTopologySpread: topologySpreadConstraints with whenUnsatisfiable DoNotSchedule as a
// filter and ScheduleAnyway as a score, with upstream's semantics:
// - Domains are the topology values of eligible nodes: nodes carrying every constraint's
//   topology key that pass the constraint's inclusion policies (nodeAffinityPolicy Honor by
//   default: the pod's nodeSelector/required affinity; nodeTaintsPolicy Ignore by default).
//   Pods counted: same namespace as the incoming pod, not terminating, matching the selector
//   (with matchLabelKeys merged in; an empty selector counts nothing).
// - Filter: a node without a constraint's key is UnschedulableAndUnresolvable ("... (missing
//   required label)"); otherwise matching pods in its domain + 1 if the pod matches its own
//   selector - the global minimum must not exceed maxSkew. The global minimum is 0 while fewer
//   than minDomains domains exist.
// - Score: per node, Σ over soft constraints of (pods in its domain × log(domains + 2) +
//   maxSkew - 1); fewer is better, normalised as upstream (100 × (max + min - s) / max); nodes
//   missing a key score 0. The system default constraints (for pods without their own, spread
//   by owning Service/ReplicaSet) are not applied.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "server/scheduler/cache.h"
#include "server/scheduler/filters.h"

namespace kite::scheduler {

class SpreadFilterState {
 public:
  void PreFilter(const Cache& cache, const PodInfo& pod);
  bool skip() const { return constraints_.empty(); }
  FilterStatus Filter(const NodeInfo& node) const;
  void UpdateWithPod(const PodInfo& other, const NodeInfo& node, int delta);

 private:
  using Counts = std::unordered_map<std::string, int>;
  void RecomputeMin(size_t i);
  int CountAt(size_t i, const std::string& domain) const;
  const PodInfo* pod_ = nullptr;
  std::vector<const SpreadConstraint*> constraints_;
  // Per constraint: domain → matching pods, as `base` (the cache's standing count when every
  // node with the key is a domain, else counted here) plus preemption's adjustments (`delta`);
  // `domains` has the domains as its keys (the cache's label-value index, or `owned`).
  std::vector<MatchCountsPtr> base_;
  std::vector<Counts> delta_;
  std::vector<const Counts*> domains_;
  std::vector<std::shared_ptr<MatchCounts>> owned_;
  std::vector<int> min_;
};

// Soft constraint scores of `nodes` (normalised 0..100); false when the pod has none.
bool SpreadScores(const Cache& cache, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes,
                  std::vector<int64_t>* scores);

}  // namespace kite::scheduler
