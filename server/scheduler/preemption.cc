#include "server/scheduler/preemption.h"

#include <boost/json.hpp>

#include <algorithm>
#include <climits>
#include <functional>

namespace kite::scheduler {
namespace json = boost::json;

namespace {

constexpr int kMinCandidateNodesPercentage = 10;
constexpr size_t kMinCandidateNodesAbsolute = 100;

struct Candidate {
  const NodeInfo* node;
  std::vector<PodInfoPtr> victims;  // most important first
  int pdb_violations = 0;
};

// Splits `pods` (order kept) into those whose eviction would exceed a PDB's allowance and the
// rest, counting each match against the budget as upstream's filterPodsWithPDBViolation.
void SplitByPdb(const std::vector<PodInfoPtr>& pods, const std::vector<DisruptionBudget>& pdbs,
                std::vector<PodInfoPtr>* violating, std::vector<PodInfoPtr>* non_violating) {
  std::vector<int64_t> allowed;
  for (const auto& p : pdbs) allowed.push_back(p.disruptions_allowed);
  for (const auto& pod : pods) {
    bool violated = false;
    if (!pod->labels.empty()) {
      for (size_t i = 0; i < pdbs.size(); ++i) {
        const auto& pdb = pdbs[i];
        if (pdb.ns != pod->ns || pdb.selector.Empty() || !pdb.selector.Matches(pod->labels)) continue;
        if (pdb.disrupted_pods.count(pod->name)) continue;
        if (--allowed[i] < 0) violated = true;
      }
    }
    (violated ? violating : non_violating)->push_back(pod);
  }
}

// Upstream's SelectVictimsOnNode on a copy of `node`; `state` is restored before returning.
FilterStatus SelectVictims(const PodInfo& pod, const NodeInfo& node, CycleState& state,
                           const std::vector<DisruptionBudget>& pdbs, Candidate* out) {
  NodeInfo copy = node;
  std::vector<PodInfoPtr> potential;
  for (const auto& p : node.pods()) {
    if (p->priority < pod.priority) potential.push_back(p);
  }
  if (potential.empty()) return Fail(FilterCode::kUnresolvable, Plugin::kDefaultPreemption, Reason::kNoVictims);
  for (const auto& p : potential) {
    copy.RemovePod(p->key);
    state.UpdateWithPod(*p, copy, -1);
  }
  auto restore = [&](const std::vector<PodInfoPtr>& still_removed) {
    for (const auto& p : still_removed) state.UpdateWithPod(*p, copy, +1);
  };
  if (FilterStatus s = state.Filter(copy); !s.ok()) {
    restore(potential);
    return s;
  }
  std::sort(potential.begin(), potential.end(),
            [](const PodInfoPtr& a, const PodInfoPtr& b) { return MoreImportantPod(*a, *b); });
  std::vector<PodInfoPtr> violating, non_violating;
  SplitByPdb(potential, pdbs, &violating, &non_violating);
  std::vector<PodInfoPtr> victims;
  int violations = 0;
  auto reprieve = [&](const PodInfoPtr& p) {
    copy.AddPod(p);
    state.UpdateWithPod(*p, copy, +1);
    if (state.Filter(copy).ok()) return true;
    copy.RemovePod(p->key);
    state.UpdateWithPod(*p, copy, -1);
    victims.push_back(p);
    return false;
  };
  for (const auto& p : violating) {
    if (!reprieve(p)) ++violations;
  }
  for (const auto& p : non_violating) reprieve(p);
  restore(victims);
  if (!violating.empty() && !non_violating.empty()) {
    std::sort(victims.begin(), victims.end(),
              [](const PodInfoPtr& a, const PodInfoPtr& b) { return MoreImportantPod(*a, *b); });
  }
  out->node = &node;
  out->victims = std::move(victims);
  out->pdb_violations = violations;
  return {};
}

const Candidate* PickOne(const std::vector<Candidate>& candidates) {
  std::vector<const Candidate*> pool;
  for (const auto& c : candidates) pool.push_back(&c);
  std::vector<std::function<int64_t(const Candidate&)>> scores = {
      [](const Candidate& c) { return -static_cast<int64_t>(c.pdb_violations); },
      [](const Candidate& c) { return -static_cast<int64_t>(c.victims.front()->priority); },
      [](const Candidate& c) {
        int64_t sum = 0;
        // Shifted to be non-negative, so a few negative priorities do not look "smaller".
        for (const auto& v : c.victims) sum += static_cast<int64_t>(v->priority) + static_cast<int64_t>(INT32_MAX) + 1;
        return -sum;
      },
      [](const Candidate& c) { return -static_cast<int64_t>(c.victims.size()); },
      [](const Candidate& c) {
        // The earliest start among the highest-priority victims; later is better.
        double earliest = 0;
        bool first = true;
        const int32_t top = c.victims.front()->priority;
        for (const auto& v : c.victims) {
          if (v->priority != top) continue;
          if (first || v->start_time < earliest) earliest = v->start_time;
          first = false;
        }
        return static_cast<int64_t>(earliest * 1e9);
      },
  };
  for (const auto& f : scores) {
    int64_t best = INT64_MIN;
    std::vector<const Candidate*> kept;
    for (const Candidate* c : pool) {
      int64_t s = f(*c);
      if (s > best) {
        best = s;
        kept.clear();
      }
      if (s == best) kept.push_back(c);
    }
    pool = std::move(kept);
    if (pool.size() == 1) break;
  }
  return pool.front();
}

}  // namespace

bool MoreImportantPod(const PodInfo& a, const PodInfo& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  return a.start_time < b.start_time;
}

DisruptionBudget ParseDisruptionBudget(const json::object& pdb) {
  DisruptionBudget b;
  if (const auto* m = pdb.if_contains("metadata"); m && m->is_object()) {
    if (const auto* ns = m->as_object().if_contains("namespace"); ns && ns->is_string()) b.ns = std::string(ns->get_string());
  }
  if (const auto* spec = pdb.if_contains("spec"); spec && spec->is_object()) {
    if (const auto* sel = spec->as_object().if_contains("selector")) {
      auto s = api::LabelSelector::FromLabelSelectorJson(*sel);
      if (s.ok()) b.selector = std::move(s).value();
    }
  }
  if (const auto* st = pdb.if_contains("status"); st && st->is_object()) {
    if (const auto* a = st->as_object().if_contains("disruptionsAllowed"); a && a->is_int64()) b.disruptions_allowed = a->get_int64();
    if (const auto* d = st->as_object().if_contains("disruptedPods"); d && d->is_object()) {
      for (const auto& [name, t] : d->get_object()) b.disrupted_pods.insert(std::string(name));
    }
  }
  return b;
}

PreemptionResult Preempt(const Cache& cache, const PodInfo& pod, CycleState& state, const Diagnosis& diag,
                         const std::vector<DisruptionBudget>& pdbs, const NominatedPods& nominated,
                         std::mt19937_64& rng) {
  PreemptionResult r;
  if (pod.preempt_never) {
    r.message = "preemption: not eligible due to preemptionPolicy=Never.";
    return r;
  }
  if (!pod.nominated_node_name.empty()) {
    bool nominated_unresolvable = false;
    for (const auto& [n, s] : diag.statuses) {
      if (n->name() == pod.nominated_node_name) nominated_unresolvable = s.code == FilterCode::kUnresolvable;
    }
    const NodeInfo* n = cache.Node(pod.nominated_node_name);
    if (!nominated_unresolvable && n) {
      for (const auto& p : n->pods()) {
        if (p->priority < pod.priority && p->terminating) {
          r.message = "preemption: not eligible due to a terminating pod on the nominated node.";
          return r;
        }
      }
    }
  }
  r.eligible = true;
  r.clear_nomination = true;

  std::vector<const NodeInfo*> potential;
  for (const auto& [n, s] : diag.statuses) {
    if (s.code == FilterCode::kUnschedulable) potential.push_back(n);
  }
  Diagnosis dry;
  dry.num_all_nodes = diag.num_all_nodes;
  std::vector<Candidate> candidates;
  if (!potential.empty()) {
    size_t want = potential.size() * kMinCandidateNodesPercentage / 100;
    want = std::min(std::max(want, kMinCandidateNodesAbsolute), potential.size());
    const size_t offset = rng() % potential.size();
    size_t non_violating = 0;
    for (size_t i = 0; i < potential.size(); ++i) {
      const NodeInfo* n = potential[(offset + i) % potential.size()];
      Candidate c;
      FilterStatus s = SelectVictims(pod, *n, state, pdbs, &c);
      if (s.ok() && !c.victims.empty()) {
        if (c.pdb_violations == 0) ++non_violating;
        candidates.push_back(std::move(c));
        if (non_violating > 0 && candidates.size() >= want) break;
        continue;
      }
      if (s.ok()) s = Fail(FilterCode::kUnresolvable, Plugin::kDefaultPreemption, Reason::kNoVictims);
      dry.statuses.emplace_back(n, s);
    }
  }
  if (candidates.empty()) {
    r.message = "preemption: " + FitErrorMessage(dry, pod, "", "Preemption is not helpful for scheduling");
    return r;
  }
  const Candidate* best = PickOne(candidates);
  r.node = best->node->name();
  r.victims = best->victims;
  r.clear_nomination = false;
  if (auto it = nominated.find(r.node); it != nominated.end()) {
    for (const auto& p : it->second) {
      if (p->key != pod.key && p->priority < pod.priority) r.lower_nominated.push_back(p);
    }
  }
  return r;
}

}  // namespace kite::scheduler
