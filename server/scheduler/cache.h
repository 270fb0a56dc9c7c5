// The scheduler's cache: every Node and the pods counted on it (bound pods from the informer
// and "assumed" pods the scheduler has just placed and is binding), with per-node aggregates
// (requested resources, host ports) kept current on every change, so a scheduling cycle reads
// them in O(1) instead of summing pods. Assumed pods count at once, so consecutive pods see
// the capacity their predecessors took before any binding has reached the API.
//
// Indexes for inter-pod affinity and topology spread, kept incrementally:
// - pods per namespace (label selectors of affinity terms and spread constraints are matched
//   against the pods of the namespaces they name);
// - the affinity terms of placed pods, by kind, de-duplicated by signature, each with a count
//   of its pods per topology value, so "does an existing pod's anti-affinity forbid this
//   node?" or "what do placed pods' preferences add to this domain?" cost one lookup per
//   distinct term instead of a walk over all pods (pods of one workload share their terms);
// - per node label key, how many nodes carry each value (the topology domains);
// - standing label queries (match_index.h): pods selected by an affinity term or a spread
//   constraint, counted per topology value, built on first use and kept current.
// Counts per topology value use the node's labels at the time; a label change on a node
// re-indexes its pods. Pods on a node whose Node object is unknown (or deleted) are held but
// take part in nothing, as in upstream's snapshot.
//
// Threading: not thread-safe; owned by the scheduling loop's thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "server/scheduler/match_index.h"
#include "server/scheduler/pod_info.h"

namespace kite::scheduler {

class NodeInfo {
 public:
  explicit NodeInfo(std::string name) : name_(std::move(name)) {}

  const std::string& name() const { return name_; }
  // Null when pods are known on this node but not its Node object.
  const NodeSpec* spec() const { return spec_.get(); }
  const NodeSpecPtr& spec_ptr() const { return spec_; }
  const std::vector<PodInfoPtr>& pods() const { return pods_; }
  // Sum of the pods' requests; `pods` is their count.
  const Resources& requested() const { return requested_; }
  int64_t non_zero_milli_cpu() const { return non_zero_cpu_; }
  int64_t non_zero_memory() const { return non_zero_mem_; }
  // Upstream's HostPortInfo.CheckConflict: 0.0.0.0 on either side conflicts with any address.
  bool HostPortInUse(const HostPort& p) const;
  // The node's label value, or null (also when the Node object is unknown).
  const std::string* Label(const std::string& key) const;

  void SetSpec(NodeSpecPtr spec) { spec_ = std::move(spec); }
  void AddPod(const PodInfoPtr& pod);
  // Removes the pod with this key; false if absent.
  bool RemovePod(const std::string& key);

  size_t list_pos = SIZE_MAX;  // position in Cache::Nodes(), SIZE_MAX when not listed

 private:
  std::string name_;
  NodeSpecPtr spec_;
  std::vector<PodInfoPtr> pods_;
  Resources requested_;
  int64_t non_zero_cpu_ = 0, non_zero_mem_ = 0;
  std::vector<HostPort> ports_;  // a multiset: one entry per pod port
};

// The kinds of pod affinity terms placed pods carry.
enum class TermKind { kRequiredAntiAffinity, kRequiredAffinity, kPreferredAffinity, kPreferredAntiAffinity, kCount };

// A distinct term of placed pods (same signature, and weight for preferred terms) and its pods
// per topology value.
struct TermEntry {
  AffinityTerm term;
  std::unordered_map<std::string, int> counts;  // topology value → pods having the term there
  int refs = 0;                                 // pods having the term (counted or not)
};
using TermIndex = std::unordered_map<std::string, std::unique_ptr<TermEntry>>;

class Cache {
 public:
  // What a Node update changed (bits), so the queue moves only the pods it may help.
  enum NodeChange : uint32_t {
    kNodeAdded = 1,
    kNodeLabels = 2,
    kNodeTaints = 4,
    kNodeUnschedulable = 8,
    kNodeAllocatable = 16,
  };

  Cache() = default;
  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;

  uint32_t SetNode(NodeSpecPtr spec);
  void RemoveNode(const std::string& name);

  void SetNamespaceLabels(const std::string& ns, Labels labels) { ns_labels_[ns] = std::move(labels); }
  void RemoveNamespace(const std::string& ns) { ns_labels_.erase(ns); }
  const Labels* NamespaceLabels(const std::string& ns) const;

  // A pod bound to pod->node_name (replacing the entry of the same key: this confirms an
  // assumed pod, or moves a pod whose node changed).
  void AddPod(const PodInfoPtr& pod);
  void RemovePod(const std::string& key);
  // Counts `pod` on `node` before the binding is known; ForgetPod undoes it if still assumed.
  void AssumePod(const PodInfoPtr& pod, const std::string& node);
  void ForgetPod(const std::string& key);
  bool IsAssumed(const std::string& key) const;
  bool HasPod(const std::string& key) const { return by_key_.count(key) != 0; }
  // The placed pod with this key, or null.
  PodInfoPtr FindPod(const std::string& key) const;
  // The node a placed pod counts on, or null.
  const NodeInfo* NodeOfPod(const std::string& key) const;

  // Nodes whose Node object is known, in a stable order (insertion, removals swap in the last).
  const std::vector<NodeInfo*>& Nodes() const { return node_list_; }
  const NodeInfo* Node(const std::string& name) const;

  // Every placed pod of namespace `ns` on a known node: f(const PodInfo&, const NodeInfo&).
  template <typename F>
  void ForEachPodIn(const std::string& ns, F&& f) const {
    auto it = by_ns_.find(ns);
    if (it == by_ns_.end()) return;
    for (uint32_t id : it->second) {
      const Entry& e = entries_[id];
      if (e.node->spec()) f(*e.pod, *e.node);
    }
  }
  // Every placed pod on a known node, namespace by namespace.
  template <typename F>
  void ForEachPod(F&& f) const {
    for (const auto& [ns, ids] : by_ns_) ForEachPodIn(ns, f);
  }
  // Pods matched by `term` (namespaces listed or selected), on known nodes.
  template <typename F>
  void ForEachPodMatching(const AffinityTerm& term, F&& f) const {
    auto visit = [&](const std::string& ns) {
      ForEachPodIn(ns, [&](const PodInfo& p, const NodeInfo& n) {
        if (term.selector.Matches(p.labels)) f(p, n);
      });
    };
    if (term.ns_selector) {
      static const Labels kNone;
      for (const auto& [ns, ids] : by_ns_) {
        bool listed = false;
        for (const auto& n : term.namespaces) listed |= n == ns;
        const Labels* l = NamespaceLabels(ns);
        if (listed || term.ns_selector->Matches(l ? *l : kNone)) visit(ns);
      }
      return;
    }
    for (const auto& ns : term.namespaces) visit(ns);
  }
  // Pods matched by `term`, counted per value of its topology key (the same as counting what
  // ForEachPodMatching visits by n.Label(term.topology_key)), from the standing queries; terms
  // with a namespace selector are counted afresh each time (namespace labels can change).
  MatchCountsPtr CountMatching(const AffinityTerm& term) const;
  // Pods of namespace `ns` that are not terminating and match `selector`, per value of
  // `topology_key` (topology spread's count; an empty or nothing selector counts none).
  MatchCountsPtr CountSpread(const std::string& ns, const api::LabelSelector& selector,
                             const std::string& topology_key) const;
  size_t NumMatchQueries() const { return matches_.size(); }

  // Distinct terms of placed pods, by kind.
  const TermIndex& Terms(TermKind kind) const { return terms_[static_cast<size_t>(kind)]; }
  const TermIndex& AntiAffinityTerms() const { return Terms(TermKind::kRequiredAntiAffinity); }
  // Label key → value → number of known nodes with it; null if no node has the key.
  const std::unordered_map<std::string, int>* LabelValues(const std::string& key) const;

  size_t NumPods() const { return by_key_.size(); }

 private:
  struct Entry {
    PodInfoPtr pod;
    NodeInfo* node = nullptr;
    bool assumed = false;
    uint32_t ns_pos = 0;
  };
  NodeInfo* NodeFor(const std::string& name);  // creates a pods-only NodeInfo if needed
  void MaybeDropNode(NodeInfo* n);
  void Place(const PodInfoPtr& pod, const std::string& node, bool assumed);
  void Unplace(uint32_t id);
  // The pod's terms, by kind, with their index keys.
  template <typename F>
  static void ForEachTerm(const PodInfo& pod, F&& f);
  // References to the pod's terms (entries exist while some placed pod has them).
  void RefTerms(const PodInfo& pod, int delta);
  // Term counts of the pod's terms, given its node's labels.
  void IndexTerms(const PodInfo& pod, const NodeInfo& node, int delta);
  void IndexLabels(const NodeSpec& spec, int delta);
  MatchCountsPtr Query(const std::string& id, MatchQuery query) const;

  std::unordered_map<std::string, std::unique_ptr<NodeInfo>> nodes_;
  std::vector<NodeInfo*> node_list_;
  std::unordered_map<std::string, Labels> ns_labels_;
  std::vector<Entry> entries_;
  std::vector<uint32_t> free_;
  std::unordered_map<std::string, uint32_t> by_key_;
  std::unordered_map<std::string, std::vector<uint32_t>> by_ns_;
  TermIndex terms_[static_cast<size_t>(TermKind::kCount)];
  std::unordered_map<std::string, std::unordered_map<std::string, int>> label_values_;
  // A memo of answers, not state the cache's users see: filled by the const queries above.
  mutable MatchIndex matches_;
};

}  // namespace kite::scheduler
