// InterPodAffinity: required pod affinity / anti-affinity as a filter, preferred terms (and
// existing pods' terms toward the incoming pod) as a score, with upstream's semantics:
// - Filter, in upstream's order: every required affinity term needs a matching pod in the
//   node's topology domain (UnschedulableAndUnresolvable "node(s) didn't match pod affinity
//   rules"), except that the first pod of a group whose terms select itself may go anywhere
//   with the topology labels; no required anti-affinity term may have a matching pod in the
//   domain ("node(s) didn't match pod anti-affinity rules"); and no placed pod's required
//   anti-affinity term may select the incoming pod from the node's domain ("node(s) didn't
//   satisfy existing pods anti-affinity rules").
// - Score: per topology domain, the weights of matching preferred terms (anti-affinity
//   subtracting), plus 1 (hardPodAffinityWeight) per placed pod whose required affinity selects
//   the incoming pod; normalised to 0..100 by min/max across the scored nodes.
// Counts are computed once per pod at PreFilter from the cache's indexes (cache.h); preemption
// adjusts them with UpdateWithPod as it removes and re-adds victims.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "server/scheduler/cache.h"
#include "server/scheduler/filters.h"

namespace kite::scheduler {

class InterPodAffinityState {
 public:
  void PreFilter(const Cache& cache, const PodInfo& pod);
  // Nothing to check: the pod has no required terms and no placed pod's term selects it.
  bool skip() const { return skip_; }
  FilterStatus Filter(const NodeInfo& node) const;
  // `other` is added to (delta +1) or removed from (-1) `node` for what-if evaluation.
  void UpdateWithPod(const PodInfo& other, const NodeInfo& node, int delta);

 private:
  struct Existing {
    const TermEntry* entry;
    std::unordered_map<std::string, int> delta;  // preemption's adjustments per topology value
  };
  using Counts = std::unordered_map<std::string, int>;
  // Per required term of the pod: topology value → pods, as the cache's counts (`base`, shared,
  // not copied) plus preemption's what-if adjustments (`delta`).
  struct TermCounts {
    MatchCountsPtr base;
    Counts delta;
    int At(const std::string& v) const;
    bool Empty() const { return base->by_value.empty() && delta.empty(); }
  };
  bool MatchesAllAffinityTerms(const PodInfo& other) const;

  const Cache* cache_ = nullptr;
  const PodInfo* pod_ = nullptr;
  bool skip_ = true;
  std::vector<Existing> existing_;
  std::vector<TermCounts> affinity_, anti_;
  int64_t affinity_total_ = 0;
  bool self_affinity_ = false;
};

// Raw InterPodAffinity scores of `nodes` into `scores` (same order), already normalised to
// 0..100. Returns false (scores untouched) when the plugin has nothing to say for this pod.
bool InterPodAffinityScores(const Cache& cache, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes,
                            std::vector<int64_t>* scores);

}  // namespace kite::scheduler
