#include "server/scheduler/scores.h"

#include <algorithm>
#include <cmath>

namespace kite::scheduler {

namespace {

int64_t LeastRequested(int64_t requested, int64_t capacity) {
  if (capacity == 0 || requested > capacity) return 0;
  return (capacity - requested) * kMaxNodeScore / capacity;
}

}  // namespace

int64_t LeastAllocatedScore(const PodInfo& pod, const NodeInfo& node) {
  const Resources& alloc = node.spec()->allocatable;
  int64_t sum = 0, weights = 0;
  if (alloc.milli_cpu != 0) {
    sum += LeastRequested(node.non_zero_milli_cpu() + pod.non_zero_milli_cpu, alloc.milli_cpu);
    ++weights;
  }
  if (alloc.memory != 0) {
    sum += LeastRequested(node.non_zero_memory() + pod.non_zero_memory, alloc.memory);
    ++weights;
  }
  return weights == 0 ? 0 : sum / weights;
}

int64_t BalancedAllocationScore(const PodInfo& pod, const NodeInfo& node) {
  const Resources& alloc = node.spec()->allocatable;
  double fractions[2];
  int n = 0;
  if (alloc.milli_cpu != 0) {
    fractions[n++] = std::min(1.0, static_cast<double>(node.requested().milli_cpu + pod.requests.milli_cpu) /
                                       static_cast<double>(alloc.milli_cpu));
  }
  if (alloc.memory != 0) {
    fractions[n++] = std::min(1.0, static_cast<double>(node.requested().memory + pod.requests.memory) /
                                       static_cast<double>(alloc.memory));
  }
  double std_dev = n == 2 ? std::abs((fractions[0] - fractions[1]) / 2) : 0;
  return static_cast<int64_t>((1 - std_dev) * static_cast<double>(kMaxNodeScore));
}

int64_t IntolerablePreferNoScheduleTaints(const PodInfo& pod, const NodeInfo& node) {
  int64_t count = 0;
  for (const auto& t : node.spec()->taints) {
    if (t.effect != "PreferNoSchedule") continue;
    bool tolerated = false;
    for (const auto& tol : pod.tolerations) {
      if ((tol.effect.empty() || tol.effect == "PreferNoSchedule") && tol.Tolerates(t)) {
        tolerated = true;
        break;
      }
    }
    if (!tolerated) ++count;
  }
  return count;
}

int64_t PreferredNodeAffinityWeight(const PodInfo& pod, const NodeInfo& node) {
  int64_t sum = 0;
  for (const auto& p : pod.preferred_node_affinity) {
    if (p.weight != 0 && p.term.Matches(node.name(), node.spec()->labels)) sum += p.weight;
  }
  return sum;
}

void DefaultNormalizeScore(std::vector<int64_t>& scores, bool reverse) {
  int64_t max = 0;
  for (int64_t s : scores) max = std::max(max, s);
  for (auto& s : scores) {
    if (max == 0) {
      s = reverse ? kMaxNodeScore : 0;
      continue;
    }
    s = kMaxNodeScore * s / max;
    if (reverse) s = kMaxNodeScore - s;
  }
}

}  // namespace kite::scheduler
