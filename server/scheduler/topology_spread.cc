#include "server/scheduler/topology_spread.h"

#include <climits>
#include <cmath>

namespace kite::scheduler {

namespace {

bool HasAllKeys(const NodeInfo& n, const std::vector<const SpreadConstraint*>& cs) {
  for (const auto* c : cs) {
    if (!n.Label(c->topology_key)) return false;
  }
  return true;
}

// Upstream's matchNodeInclusionPolicies.
bool Included(const SpreadConstraint& c, const PodInfo& pod, const NodeInfo& n) {
  const NodeSpec& spec = *n.spec();
  if (c.honor_node_affinity && !pod.MatchesNodeSelectorAndAffinity(spec.name, spec.labels)) return false;
  if (c.honor_node_taints && FirstUntoleratedTaint(pod, spec) >= 0) return false;
  return true;
}

bool CountsPod(const SpreadConstraint& c, const PodInfo& pod, const PodInfo& other) {
  return !other.terminating && other.ns == pod.ns && !c.selector.Empty() && c.selector.Matches(other.labels);
}

// Which nodes are domain members, per constraint. In general each node is checked (its keys and
// the inclusion policies); when the policies cannot exclude a node for this pod and every
// constraint uses one key, membership is just having that key, which needs no pass over the
// nodes (the cache knows the domains).
class Eligibility {
 public:
  Eligibility(const Cache& cache, const PodInfo& pod, const std::vector<const SpreadConstraint*>& cs) : cs_(cs) {
    const bool no_node_affinity = pod.node_selector.empty() && !pod.required_node_affinity;
    simple_ = true;
    for (const auto* c : cs) {
      simple_ = simple_ && c->topology_key == cs[0]->topology_key && !c->honor_node_taints &&
                (!c->honor_node_affinity || no_node_affinity);
    }
    if (simple_) return;
    const auto& nodes = cache.Nodes();
    mask_.assign(nodes.size(), 0);
    for (size_t n = 0; n < nodes.size(); ++n) {
      if (!HasAllKeys(*nodes[n], cs)) continue;
      for (size_t i = 0; i < cs.size() && i < 32; ++i) {
        if (Included(*cs[i], pod, *nodes[n])) mask_[n] |= 1u << i;
      }
    }
  }
  bool simple() const { return simple_; }
  bool Of(const NodeInfo& n, size_t i) const {
    if (simple_) return n.Label(cs_[0]->topology_key) != nullptr;
    return n.list_pos < mask_.size() && (mask_[n.list_pos] & (1u << i));
  }
  bool Any(const NodeInfo& n) const {
    if (simple_) return n.Label(cs_[0]->topology_key) != nullptr;
    return n.list_pos < mask_.size() && mask_[n.list_pos] != 0;
  }

 private:
  const std::vector<const SpreadConstraint*>& cs_;
  bool simple_ = false;
  std::vector<uint32_t> mask_;  // by Cache::Nodes() position, a bit per constraint
};

}  // namespace

void SpreadFilterState::PreFilter(const Cache& cache, const PodInfo& pod) {
  pod_ = &pod;
  constraints_.clear();
  for (const auto& c : pod.spread) {
    if (c.hard) constraints_.push_back(&c);
  }
  if (constraints_.empty()) return;
  const size_t n = constraints_.size();
  base_.assign(n, nullptr);
  delta_.assign(n, {});
  domains_.assign(n, nullptr);
  owned_.assign(n, nullptr);
  min_.assign(n, 0);
  const Eligibility eligible(cache, pod, constraints_);
  if (eligible.simple()) {
    // Every node with the (single) key is a domain: the cache's standing counts answer.
    static const Counts kNoDomains;
    const Counts* values = cache.LabelValues(constraints_[0]->topology_key);
    for (size_t i = 0; i < n; ++i) {
      base_[i] = cache.CountSpread(pod.ns, constraints_[i]->selector, constraints_[i]->topology_key);
      domains_[i] = values ? values : &kNoDomains;
    }
  } else {
    for (size_t i = 0; i < n; ++i) owned_[i] = std::make_shared<MatchCounts>();
    for (const NodeInfo* node : cache.Nodes()) {
      for (size_t i = 0; i < n; ++i) {
        if (eligible.Of(*node, i)) owned_[i]->by_value.try_emplace(*node->Label(constraints_[i]->topology_key), 0);
      }
    }
    cache.ForEachPodIn(pod.ns, [&](const PodInfo& p, const NodeInfo& node) {
      if (!eligible.Any(node)) return;
      for (size_t i = 0; i < n; ++i) {
        if (eligible.Of(node, i) && CountsPod(*constraints_[i], pod, p)) ++owned_[i]->by_value[*node.Label(constraints_[i]->topology_key)];
      }
    });
    for (size_t i = 0; i < n; ++i) {
      base_[i] = owned_[i];
      domains_[i] = &owned_[i]->by_value;  // zero entries included: they are the domains
    }
  }
  for (size_t i = 0; i < n; ++i) RecomputeMin(i);
}

int SpreadFilterState::CountAt(size_t i, const std::string& domain) const {
  auto it = base_[i]->by_value.find(domain);
  int c = it == base_[i]->by_value.end() ? 0 : it->second;
  if (!delta_[i].empty()) {
    auto d = delta_[i].find(domain);
    if (d != delta_[i].end()) c += d->second;
  }
  return c;
}

void SpreadFilterState::RecomputeMin(size_t i) {
  const Counts& domains = *domains_[i];
  if (static_cast<int64_t>(domains.size()) < constraints_[i]->min_domains) {
    min_[i] = 0;
    return;
  }
  // Counts are never negative, so a domain without pods is the minimum. The cache's counts
  // hold only domains with pods (a subset of the domains), so when they are fewer than the
  // domains (and nothing is adjusted) that settles it without a pass over the domains.
  if (delta_[i].empty() && base_[i]->by_value.size() < domains.size()) {
    min_[i] = 0;
    return;
  }
  int m = INT_MAX;
  for (const auto& [v, unused] : domains) m = std::min(m, CountAt(i, v));
  min_[i] = m == INT_MAX ? 0 : m;
}

FilterStatus SpreadFilterState::Filter(const NodeInfo& node) const {
  for (size_t i = 0; i < constraints_.size(); ++i) {
    const SpreadConstraint& c = *constraints_[i];
    const std::string* v = node.Label(c.topology_key);
    if (!v) return Fail(FilterCode::kUnresolvable, Plugin::kPodTopologySpread, Reason::kSpreadMissingLabel);
    int self = c.selector.Matches(pod_->labels) ? 1 : 0;
    int match = CountAt(i, *v);
    if (match + self - min_[i] > c.max_skew) {
      return Fail(FilterCode::kUnschedulable, Plugin::kPodTopologySpread, Reason::kSpreadConstraints);
    }
  }
  return {};
}

void SpreadFilterState::UpdateWithPod(const PodInfo& other, const NodeInfo& node, int delta) {
  if (constraints_.empty() || !node.spec() || other.ns != pod_->ns || !HasAllKeys(node, constraints_)) return;
  for (size_t i = 0; i < constraints_.size(); ++i) {
    const SpreadConstraint& c = *constraints_[i];
    if (!c.selector.Matches(other.labels) || !Included(c, *pod_, node)) continue;
    delta_[i][*node.Label(c.topology_key)] += delta;
    RecomputeMin(i);
  }
}

bool SpreadScores(const Cache& cache, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes,
                  std::vector<int64_t>* scores) {
  std::vector<const SpreadConstraint*> cs;
  for (const auto& c : pod.spread) {
    if (!c.hard) cs.push_back(&c);
  }
  if (cs.empty() || nodes.empty()) return false;
  // Domains of the scored nodes; nodes missing a key are ignored (score 0).
  std::vector<std::unordered_map<std::string, int64_t>> counts(cs.size());
  std::vector<bool> ignored(nodes.size(), false);
  size_t scored = 0;
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (!HasAllKeys(*nodes[n], cs)) {
      ignored[n] = true;
      continue;
    }
    ++scored;
    for (size_t i = 0; i < cs.size(); ++i) counts[i].try_emplace(*nodes[n]->Label(cs[i]->topology_key), 0);
  }
  std::vector<double> weight(cs.size());
  for (size_t i = 0; i < cs.size(); ++i) {
    size_t size = cs[i]->topology_key == "kubernetes.io/hostname" ? scored : counts[i].size();
    weight[i] = std::log(static_cast<double>(size + 2));
  }
  const Eligibility eligible(cache, pod, cs);
  if (eligible.simple()) {
    // Every node with the key is eligible: the cache's standing counts answer.
    for (size_t i = 0; i < cs.size(); ++i) {
      const MatchCountsPtr placed = cache.CountSpread(pod.ns, cs[i]->selector, cs[i]->topology_key);
      for (auto& [v, c] : counts[i]) {
        auto it = placed->by_value.find(v);
        if (it != placed->by_value.end()) c += it->second;
      }
    }
  } else {
    cache.ForEachPodIn(pod.ns, [&](const PodInfo& p, const NodeInfo& n) {
      if (!eligible.Any(n)) return;
      for (size_t i = 0; i < cs.size(); ++i) {
        if (!eligible.Of(n, i) || !CountsPod(*cs[i], pod, p)) continue;
        auto it = counts[i].find(*n.Label(cs[i]->topology_key));
        if (it != counts[i].end()) ++it->second;
      }
    });
  }
  std::vector<int64_t> raw(nodes.size(), 0);
  int64_t lo = INT64_MAX, hi = 0;
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (ignored[n]) continue;
    double s = 0;
    for (size_t i = 0; i < cs.size(); ++i) {
      int64_t cnt = counts[i][*nodes[n]->Label(cs[i]->topology_key)];
      s += static_cast<double>(cnt) * weight[i] + static_cast<double>(cs[i]->max_skew - 1);
    }
    raw[n] = static_cast<int64_t>(std::llround(s));
    lo = std::min(lo, raw[n]);
    hi = std::max(hi, raw[n]);
  }
  scores->assign(nodes.size(), 0);
  for (size_t n = 0; n < nodes.size(); ++n) {
    if (ignored[n]) continue;
    (*scores)[n] = hi == 0 ? 100 : 100 * (hi + lo - raw[n]) / hi;
  }
  return true;
}

}  // namespace kite::scheduler
