// Per-node score plugins of the default profile that need only the pod and the node, and
// upstream's DefaultNormalizeScore. Scores are 0..100 (MaxNodeScore) after normalisation; the
// profile's weights are applied by the algorithm (algorithm.h).
// - NodeResourcesFit, LeastAllocated: for CPU and memory (weight 1 each) the free fraction
//   after placing the pod, ×100, averaged; requests here are the "non-zero" ones (100m / 200Mi
//   for containers stating none), as upstream.
// - NodeResourcesBalancedAllocation: 100 × (1 - std deviation of the CPU and memory fractions
//   requested), with actual requests.
// - TaintToleration: the count of PreferNoSchedule taints the pod does not tolerate,
//   normalised in reverse (fewer is better).
// - NodeAffinity: the sum of the weights of matching preferred terms, normalised.
#pragma once

#include <cstdint>
#include <vector>

#include "server/scheduler/cache.h"

namespace kite::scheduler {

inline constexpr int64_t kMaxNodeScore = 100;

int64_t LeastAllocatedScore(const PodInfo& pod, const NodeInfo& node);
int64_t BalancedAllocationScore(const PodInfo& pod, const NodeInfo& node);
int64_t IntolerablePreferNoScheduleTaints(const PodInfo& pod, const NodeInfo& node);
int64_t PreferredNodeAffinityWeight(const PodInfo& pod, const NodeInfo& node);

// Upstream's DefaultNormalizeScore: scale to 0..100 by the maximum (reverse: 100 - that);
// all-zero scores become 0 (reverse: 100).
void DefaultNormalizeScore(std::vector<int64_t>& scores, bool reverse);

}  // namespace kite::scheduler
