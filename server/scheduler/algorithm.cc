#include "server/scheduler/algorithm.h"

#include <algorithm>
#include <map>

#include "server/scheduler/scores.h"

namespace kite::scheduler {

namespace {

// The default profile's score weights.
constexpr int64_t kWeightTaintToleration = 3;
constexpr int64_t kWeightNodeAffinity = 2;
constexpr int64_t kWeightPodTopologySpread = 2;
constexpr int64_t kWeightInterPodAffinity = 2;
constexpr int64_t kWeightNodeResourcesFit = 1;
constexpr int64_t kWeightBalancedAllocation = 1;

constexpr size_t kMinFeasibleNodesToFind = 100;
constexpr int kMinFeasibleNodesPercentageToFind = 5;

}  // namespace

void CycleState::PreFilter(const Cache& c, const PodInfo& p, const NominatedPods* n) {
  cache = &c;
  pod = &p;
  nominated = n;
  affinity.PreFilter(c, p);
  spread.PreFilter(c, p);
}

FilterStatus CycleState::FilterAlone(const NodeInfo& node) const {
  FilterStatus s = RunNodeFilters(*pod, node);
  if (!s.ok()) return s;
  if (!spread.skip()) {
    s = spread.Filter(node);
    if (!s.ok()) return s;
  }
  if (!affinity.skip()) s = affinity.Filter(node);
  return s;
}

void CycleState::UpdateWithPod(const PodInfo& other, const NodeInfo& node, int delta) {
  affinity.UpdateWithPod(other, node, delta);
  spread.UpdateWithPod(other, node, delta);
}

FilterStatus CycleState::Filter(const NodeInfo& node) {
  if (nominated && !nominated->empty()) {
    auto it = nominated->find(node.name());
    if (it != nominated->end()) {
      // Pods nominated here with at least our priority are expected to take their place: filter
      // as if they ran here, then (as upstream) also without them, for affinity to them must
      // not be what lets this pod in.
      NodeInfo with = node;
      std::vector<const PodInfo*> added;
      for (const auto& p : it->second) {
        if (p->key == pod->key || p->priority < pod->priority) continue;
        with.AddPod(p);
        UpdateWithPod(*p, with, +1);
        added.push_back(p.get());
      }
      if (!added.empty()) {
        FilterStatus s = FilterAlone(with);
        for (const PodInfo* p : added) UpdateWithPod(*p, with, -1);
        if (!s.ok()) return s;
      }
    }
  }
  return FilterAlone(node);
}

std::string FitErrorMessage(const Diagnosis& d, const PodInfo& pod, const std::string& post_filter_msg,
                            const char* absent_reason) {
  std::string msg = "0/" + std::to_string(d.num_all_nodes) + " nodes are available:";
  if (!d.pre_filter_msg.empty()) {
    msg += " " + d.pre_filter_msg + ".";
  } else {
    std::map<std::string, int> histogram;
    std::vector<std::string> reasons;
    for (const auto& [node, status] : d.statuses) {
      reasons.clear();
      AppendReasons(status, pod, *node, &reasons);
      for (auto& r : reasons) ++histogram[std::move(r)];
    }
    if (absent_reason && static_cast<int>(d.statuses.size()) < d.num_all_nodes) {
      histogram[absent_reason] += d.num_all_nodes - static_cast<int>(d.statuses.size());
    }
    std::vector<std::string> parts;
    for (const auto& [r, n] : histogram) parts.push_back(std::to_string(n) + " " + r);
    std::sort(parts.begin(), parts.end());  // as upstream: by the "count reason" text
    if (!parts.empty()) {
      msg += " ";
      for (size_t i = 0; i < parts.size(); ++i) msg += (i ? ", " : "") + parts[i];
      msg += ".";
    }
  }
  if (!post_filter_msg.empty()) msg += " " + post_filter_msg;
  return msg;
}

Algorithm::Algorithm(AlgorithmOptions o) : options_(o), rng_(o.seed ? o.seed : std::random_device{}()) {}

size_t Algorithm::NumFeasibleNodesToFind(size_t all) const {
  if (all < kMinFeasibleNodesToFind) return all;
  int64_t pct = options_.percentage_of_nodes_to_score;
  if (pct <= 0) {
    pct = 50 - static_cast<int64_t>(all) / 125;
    if (pct < kMinFeasibleNodesPercentageToFind) pct = kMinFeasibleNodesPercentageToFind;
  }
  if (pct >= 100) return all;
  size_t n = all * static_cast<size_t>(pct) / 100;
  return std::max(n, kMinFeasibleNodesToFind);
}

std::string Algorithm::Schedule(const Cache& cache, const PodInfo& pod, const NominatedPods& nominated,
                                CycleState* state, Diagnosis* diag, bool* no_nodes) {
  const auto& nodes = cache.Nodes();
  *no_nodes = nodes.empty();
  diag->num_all_nodes = static_cast<int>(nodes.size());
  diag->statuses.clear();
  diag->plugins = 0;
  diag->pre_filter_msg.clear();
  if (nodes.empty()) return "";
  if (!pod.parse_error.empty()) {
    diag->pre_filter_msg = pod.parse_error;
    return "";
  }
  state->PreFilter(cache, pod, &nominated);

  // A nominated node (the preemption made room there) is tried first.
  if (!pod.nominated_node_name.empty()) {
    const NodeInfo* n = cache.Node(pod.nominated_node_name);
    if (n && n->spec() && state->Filter(*n).ok()) return n->name();
  }

  const size_t total = nodes.size();
  const size_t want = NumFeasibleNodesToFind(total);
  feasible_.clear();
  size_t processed = 0;
  const size_t start = next_start_ % total;
  for (size_t i = 0; i < total && feasible_.size() < want; ++i) {
    const NodeInfo* n = nodes[(start + i) % total];
    ++processed;
    FilterStatus s = state->Filter(*n);
    if (s.ok()) {
      feasible_.push_back(n);
    } else {
      diag->statuses.emplace_back(n, s);
      diag->plugins |= PluginBit(s.plugin);
    }
  }
  next_start_ = (start + processed) % total;
  if (feasible_.empty()) return "";
  if (feasible_.size() == 1) return feasible_[0]->name();
  return SelectHost(pod, cache);
}

std::string Algorithm::SelectHost(const PodInfo& pod, const Cache& cache) {
  const size_t n = feasible_.size();
  total_.assign(n, 0);
  for (size_t i = 0; i < n; ++i) {
    total_[i] = kWeightNodeResourcesFit * LeastAllocatedScore(pod, *feasible_[i]) +
                kWeightBalancedAllocation * BalancedAllocationScore(pod, *feasible_[i]);
  }
  plugin_.resize(n);
  for (size_t i = 0; i < n; ++i) plugin_[i] = IntolerablePreferNoScheduleTaints(pod, *feasible_[i]);
  DefaultNormalizeScore(plugin_, /*reverse=*/true);
  for (size_t i = 0; i < n; ++i) total_[i] += kWeightTaintToleration * plugin_[i];
  if (!pod.preferred_node_affinity.empty()) {
    for (size_t i = 0; i < n; ++i) plugin_[i] = PreferredNodeAffinityWeight(pod, *feasible_[i]);
    DefaultNormalizeScore(plugin_, /*reverse=*/false);
    for (size_t i = 0; i < n; ++i) total_[i] += kWeightNodeAffinity * plugin_[i];
  }
  if (SpreadScores(cache, pod, feasible_, &plugin_)) {
    for (size_t i = 0; i < n; ++i) total_[i] += kWeightPodTopologySpread * plugin_[i];
  }
  if (InterPodAffinityScores(cache, pod, feasible_, &plugin_)) {
    for (size_t i = 0; i < n; ++i) total_[i] += kWeightInterPodAffinity * plugin_[i];
  }
  size_t best = 0, ties = 1;
  for (size_t i = 1; i < n; ++i) {
    if (total_[i] > total_[best]) {
      best = i;
      ties = 1;
    } else if (total_[i] == total_[best]) {
      // Reservoir sampling: each of the k tied nodes ends up chosen with probability 1/k.
      ++ties;
      if (rng_() % ties == 0) best = i;
    }
  }
  return feasible_[best]->name();
}

}  // namespace kite::scheduler
