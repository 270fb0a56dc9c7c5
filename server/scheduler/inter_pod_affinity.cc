#include "server/scheduler/inter_pod_affinity.h"

#include <algorithm>
#include <limits>

namespace kite::scheduler {

namespace {

int CountAt(const std::unordered_map<std::string, int>& m, const std::string& v) {
  auto it = m.find(v);
  return it == m.end() ? 0 : it->second;
}

void Bump(std::unordered_map<std::string, int>& m, const std::string& v, int delta) {
  int& c = m[v];
  c += delta;
  if (c == 0) m.erase(v);
}

// Upstream's hardPodAffinityWeight default: what a placed pod's required affinity toward the
// incoming pod adds to its domain's score.
constexpr int64_t kHardPodAffinityWeight = 1;

}  // namespace

bool InterPodAffinityState::MatchesAllAffinityTerms(const PodInfo& other) const {
  const Labels* ns_labels = cache_->NamespaceLabels(other.ns);
  for (const auto& t : pod_->required_affinity) {
    if (!TermMatchesPod(t, other, ns_labels)) return false;
  }
  return !pod_->required_affinity.empty();
}

int InterPodAffinityState::TermCounts::At(const std::string& v) const {
  return CountAt(base->by_value, v) + (delta.empty() ? 0 : CountAt(delta, v));
}

void InterPodAffinityState::PreFilter(const Cache& cache, const PodInfo& pod) {
  cache_ = &cache;
  pod_ = &pod;
  existing_.clear();
  const Labels* own_ns_labels = cache.NamespaceLabels(pod.ns);
  for (const auto& [sig, entry] : cache.AntiAffinityTerms()) {
    if (!entry->counts.empty() && TermMatchesPod(entry->term, pod, own_ns_labels)) existing_.push_back({entry.get(), {}});
  }
  skip_ = existing_.empty() && pod.required_affinity.empty() && pod.required_anti_affinity.empty();
  if (skip_) return;

  affinity_.clear();
  anti_.clear();
  affinity_total_ = 0;
  if (pod.required_affinity.size() == 1) {
    // One term: the pods it selects, as the cache counts them.
    affinity_.push_back({cache.CountMatching(pod.required_affinity[0]), {}});
    affinity_total_ = affinity_[0].base->total;
  } else if (!pod.required_affinity.empty()) {
    // Several terms: a candidate must match all of them, which no standing query answers.
    // Candidates are the pods matched by the first term.
    std::vector<std::shared_ptr<MatchCounts>> counts;
    for (size_t i = 0; i < pod.required_affinity.size(); ++i) counts.push_back(std::make_shared<MatchCounts>());
    cache.ForEachPodMatching(pod.required_affinity[0], [&](const PodInfo& p, const NodeInfo& n) {
      if (!MatchesAllAffinityTerms(p)) return;
      for (size_t i = 0; i < pod.required_affinity.size(); ++i) {
        if (const std::string* v = n.Label(pod.required_affinity[i].topology_key)) {
          counts[i]->Bump(*v, +1);
          ++affinity_total_;
        }
      }
    });
    for (auto& c : counts) affinity_.push_back({std::move(c), {}});
  }
  if (!pod.required_affinity.empty()) {
    self_affinity_ = true;
    for (const auto& t : pod.required_affinity) self_affinity_ = self_affinity_ && TermMatchesPod(t, pod, nullptr);
  }
  for (const auto& t : pod.required_anti_affinity) anti_.push_back({cache.CountMatching(t), {}});
}

FilterStatus InterPodAffinityState::Filter(const NodeInfo& node) const {
  if (skip_) return {};
  if (!pod_->required_affinity.empty()) {
    bool pods_exist = true;
    for (size_t i = 0; i < pod_->required_affinity.size(); ++i) {
      const std::string* v = node.Label(pod_->required_affinity[i].topology_key);
      if (!v) return Fail(FilterCode::kUnresolvable, Plugin::kInterPodAffinity, Reason::kAffinityRules);
      if (affinity_[i].At(*v) <= 0) pods_exist = false;
    }
    // The first pod of a group with affinity to itself may start the group anywhere.
    if (!pods_exist && !(affinity_total_ == 0 && self_affinity_)) {
      return Fail(FilterCode::kUnresolvable, Plugin::kInterPodAffinity, Reason::kAffinityRules);
    }
  }
  for (size_t i = 0; i < anti_.size(); ++i) {
    if (anti_[i].Empty()) continue;
    const std::string* v = node.Label(pod_->required_anti_affinity[i].topology_key);
    if (v && anti_[i].At(*v) > 0) {
      return Fail(FilterCode::kUnschedulable, Plugin::kInterPodAffinity, Reason::kAntiAffinityRules);
    }
  }
  for (const auto& e : existing_) {
    const std::string* v = node.Label(e.entry->term.topology_key);
    if (!v) continue;
    int c = CountAt(e.entry->counts, *v);
    if (!e.delta.empty()) c += CountAt(e.delta, *v);
    if (c > 0) return Fail(FilterCode::kUnschedulable, Plugin::kInterPodAffinity, Reason::kExistingAntiAffinity);
  }
  return {};
}

void InterPodAffinityState::UpdateWithPod(const PodInfo& other, const NodeInfo& node, int delta) {
  if (skip_ || !node.spec()) return;
  const Labels* own_ns_labels = cache_->NamespaceLabels(pod_->ns);
  for (const auto& t : other.required_anti_affinity) {
    if (!TermMatchesPod(t, *pod_, own_ns_labels)) continue;
    const std::string* v = node.Label(t.topology_key);
    if (!v) continue;
    for (auto& e : existing_) {
      if (e.entry->term.signature == t.signature) {
        Bump(e.delta, *v, delta);
        break;
      }
    }
  }
  if (!pod_->required_affinity.empty() && MatchesAllAffinityTerms(other)) {
    for (size_t i = 0; i < pod_->required_affinity.size(); ++i) {
      if (const std::string* v = node.Label(pod_->required_affinity[i].topology_key)) {
        Bump(affinity_[i].delta, *v, delta);
        affinity_total_ += delta;
      }
    }
  }
  const Labels* other_ns_labels = cache_->NamespaceLabels(other.ns);
  for (size_t i = 0; i < pod_->required_anti_affinity.size(); ++i) {
    const AffinityTerm& t = pod_->required_anti_affinity[i];
    if (!TermMatchesPod(t, other, other_ns_labels)) continue;
    if (const std::string* v = node.Label(t.topology_key)) Bump(anti_[i].delta, *v, delta);
  }
}

bool InterPodAffinityScores(const Cache& cache, const PodInfo& pod, const std::vector<const NodeInfo*>& nodes,
                            std::vector<int64_t>* scores) {
  const bool own_terms = !pod.preferred_affinity.empty() || !pod.preferred_anti_affinity.empty();
  const TermIndex& required = cache.Terms(TermKind::kRequiredAffinity);
  const TermIndex& preferred = cache.Terms(TermKind::kPreferredAffinity);
  const TermIndex& preferred_anti = cache.Terms(TermKind::kPreferredAntiAffinity);
  if (!own_terms && required.empty() && preferred.empty() && preferred_anti.empty()) return false;
  // topology key → value → score
  std::unordered_map<std::string, std::unordered_map<std::string, int64_t>> by_domain;
  // The pod's preferences toward placed pods.
  auto add_term = [&](const AffinityTerm& t, int64_t w) {
    const MatchCountsPtr counts = cache.CountMatching(t);
    if (counts->by_value.empty()) return;
    auto& values = by_domain[t.topology_key];
    for (const auto& [v, count] : counts->by_value) values[v] += w * count;
  };
  for (const auto& t : pod.preferred_affinity) add_term(t, t.weight);
  for (const auto& t : pod.preferred_anti_affinity) add_term(t, -t.weight);
  // Placed pods' terms selecting this pod, per distinct term with its pods per domain.
  const Labels* own_ns_labels = cache.NamespaceLabels(pod.ns);
  auto from_placed = [&](const TermIndex& index, int64_t sign, bool hard) {
    for (const auto& [key, e] : index) {
      if (e->counts.empty() || !TermMatchesPod(e->term, pod, own_ns_labels)) continue;
      const int64_t w = sign * (hard ? kHardPodAffinityWeight : e->term.weight);
      auto& values = by_domain[e->term.topology_key];
      for (const auto& [v, count] : e->counts) values[v] += w * count;
    }
  };
  from_placed(required, +1, true);
  from_placed(preferred, +1, false);
  from_placed(preferred_anti, -1, false);
  if (by_domain.empty()) return false;
  std::vector<int64_t> raw(nodes.size(), 0);
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (const auto& [key, values] : by_domain) {
      const std::string* v = nodes[i]->Label(key);
      if (!v) continue;
      if (auto it = values.find(*v); it != values.end()) raw[i] += it->second;
    }
    lo = std::min(lo, raw[i]);
    hi = std::max(hi, raw[i]);
  }
  scores->assign(nodes.size(), 0);
  const int64_t diff = hi - lo;
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (diff > 0) (*scores)[i] = static_cast<int64_t>(100.0 * static_cast<double>(raw[i] - lo) / static_cast<double>(diff));
  }
  return true;
}

}  // namespace kite::scheduler
