#include "server/scheduler/cache.h"

#include <algorithm>

namespace kite::scheduler {

bool NodeInfo::HostPortInUse(const HostPort& p) const {
  for (const auto& u : ports_) {
    if (u.port != p.port || u.protocol != p.protocol) continue;
    if (p.ip == "0.0.0.0" || u.ip == "0.0.0.0" || u.ip == p.ip) return true;
  }
  return false;
}

const std::string* NodeInfo::Label(const std::string& key) const {
  if (!spec_) return nullptr;
  auto it = spec_->labels.find(key);
  return it == spec_->labels.end() ? nullptr : &it->second;
}

void NodeInfo::AddPod(const PodInfoPtr& pod) {
  pods_.push_back(pod);
  requested_.Add(pod->requests);
  non_zero_cpu_ += pod->non_zero_milli_cpu;
  non_zero_mem_ += pod->non_zero_memory;
  for (const auto& p : pod->host_ports) ports_.push_back(p);
}

bool NodeInfo::RemovePod(const std::string& key) {
  for (size_t i = 0; i < pods_.size(); ++i) {
    if (pods_[i]->key != key) continue;
    const PodInfo& pod = *pods_[i];
    requested_.Sub(pod.requests);
    non_zero_cpu_ -= pod.non_zero_milli_cpu;
    non_zero_mem_ -= pod.non_zero_memory;
    for (const auto& p : pod.host_ports) {
      auto it = std::find(ports_.begin(), ports_.end(), p);
      if (it != ports_.end()) ports_.erase(it);
    }
    pods_[i] = std::move(pods_.back());
    pods_.pop_back();
    return true;
  }
  return false;
}

const Labels* Cache::NamespaceLabels(const std::string& ns) const {
  auto it = ns_labels_.find(ns);
  return it == ns_labels_.end() ? nullptr : &it->second;
}

NodeInfo* Cache::NodeFor(const std::string& name) {
  auto& slot = nodes_[name];
  if (!slot) slot = std::make_unique<NodeInfo>(name);
  return slot.get();
}

const NodeInfo* Cache::Node(const std::string& name) const {
  auto it = nodes_.find(name);
  return it == nodes_.end() ? nullptr : it->second.get();
}

void Cache::MaybeDropNode(NodeInfo* n) {
  if (n->spec() || !n->pods().empty()) return;
  nodes_.erase(n->name());
}

uint32_t Cache::SetNode(NodeSpecPtr spec) {
  NodeInfo* n = NodeFor(spec->name);
  const NodeSpec* old = n->spec();
  uint32_t changes = 0;
  if (!old) {
    changes = kNodeAdded | kNodeLabels | kNodeTaints | kNodeUnschedulable | kNodeAllocatable;
  } else {
    if (old->labels != spec->labels) changes |= kNodeLabels;
    if (old->taints != spec->taints) changes |= kNodeTaints;
    if (old->unschedulable != spec->unschedulable) changes |= kNodeUnschedulable;
    if (!(old->allocatable == spec->allocatable)) changes |= kNodeAllocatable;
  }
  const bool relabel = changes & kNodeLabels;
  if (relabel) {
    for (const auto& p : n->pods()) {
      IndexTerms(*p, *n, -1);
      matches_.Update(*p, *n, -1);
    }
    if (old) IndexLabels(*old, -1);
    IndexLabels(*spec, +1);
  }
  n->SetSpec(std::move(spec));
  if (relabel) {
    for (const auto& p : n->pods()) {
      IndexTerms(*p, *n, +1);
      matches_.Update(*p, *n, +1);
    }
  }
  if (n->list_pos == SIZE_MAX) {
    n->list_pos = node_list_.size();
    node_list_.push_back(n);
  }
  return changes;
}

void Cache::RemoveNode(const std::string& name) {
  auto it = nodes_.find(name);
  if (it == nodes_.end()) return;
  NodeInfo* n = it->second.get();
  if (n->list_pos != SIZE_MAX) {
    NodeInfo* last = node_list_.back();
    node_list_[n->list_pos] = last;
    last->list_pos = n->list_pos;
    node_list_.pop_back();
    n->list_pos = SIZE_MAX;
  }
  for (const auto& p : n->pods()) {
    IndexTerms(*p, *n, -1);
    matches_.Update(*p, *n, -1);
  }
  if (n->spec()) IndexLabels(*n->spec(), -1);
  n->SetSpec(nullptr);
  MaybeDropNode(n);
}

void Cache::IndexLabels(const NodeSpec& spec, int delta) {
  for (const auto& [k, v] : spec.labels) {
    auto& values = label_values_[k];
    int& c = values[v];
    c += delta;
    if (c <= 0) values.erase(v);
    if (values.empty()) label_values_.erase(k);
  }
}

const std::unordered_map<std::string, int>* Cache::LabelValues(const std::string& key) const {
  auto it = label_values_.find(key);
  return it == label_values_.end() ? nullptr : &it->second;
}

template <typename F>
void Cache::ForEachTerm(const PodInfo& pod, F&& f) {
  for (const auto& t : pod.required_anti_affinity) f(TermKind::kRequiredAntiAffinity, t, t.signature);
  for (const auto& t : pod.required_affinity) f(TermKind::kRequiredAffinity, t, t.signature);
  // Preferred terms of different weights score differently: the weight is part of the key.
  for (const auto& t : pod.preferred_affinity) {
    f(TermKind::kPreferredAffinity, t, t.signature + "#" + std::to_string(t.weight));
  }
  for (const auto& t : pod.preferred_anti_affinity) {
    f(TermKind::kPreferredAntiAffinity, t, t.signature + "#" + std::to_string(t.weight));
  }
}

void Cache::RefTerms(const PodInfo& pod, int delta) {
  ForEachTerm(pod, [&](TermKind kind, const AffinityTerm& t, const std::string& key) {
    auto& index = terms_[static_cast<size_t>(kind)];
    auto& slot = index[key];
    if (!slot) {
      slot = std::make_unique<TermEntry>();
      slot->term = t;
    }
    slot->refs += delta;
    if (slot->refs <= 0) index.erase(key);
  });
}

void Cache::IndexTerms(const PodInfo& pod, const NodeInfo& node, int delta) {
  if (!node.spec()) return;
  ForEachTerm(pod, [&](TermKind kind, const AffinityTerm& t, const std::string& key) {
    const std::string* v = node.Label(t.topology_key);
    if (!v) return;
    auto& index = terms_[static_cast<size_t>(kind)];
    auto it = index.find(key);
    if (it == index.end()) return;  // referenced in Place before any counting
    int& c = it->second->counts[*v];
    c += delta;
    if (c <= 0) it->second->counts.erase(*v);
  });
}

void Cache::Place(const PodInfoPtr& pod, const std::string& node_name, bool assumed) {
  uint32_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
  }
  Entry& e = entries_[id];
  e.pod = pod;
  e.node = NodeFor(node_name);
  e.assumed = assumed;
  auto& ns_list = by_ns_[pod->ns];
  e.ns_pos = static_cast<uint32_t>(ns_list.size());
  ns_list.push_back(id);
  by_key_[pod->key] = id;
  RefTerms(*pod, +1);
  e.node->AddPod(pod);
  IndexTerms(*pod, *e.node, +1);
  matches_.Update(*pod, *e.node, +1);
}

void Cache::Unplace(uint32_t id) {
  Entry& e = entries_[id];
  const PodInfoPtr pod = std::move(e.pod);
  IndexTerms(*pod, *e.node, -1);
  matches_.Update(*pod, *e.node, -1);
  RefTerms(*pod, -1);
  e.node->RemovePod(pod->key);
  MaybeDropNode(e.node);
  auto ns_it = by_ns_.find(pod->ns);
  auto& ns_list = ns_it->second;
  uint32_t moved = ns_list.back();
  ns_list[e.ns_pos] = moved;
  entries_[moved].ns_pos = e.ns_pos;
  ns_list.pop_back();
  if (ns_list.empty()) by_ns_.erase(ns_it);
  by_key_.erase(pod->key);
  e = Entry{};
  free_.push_back(id);
}

void Cache::AddPod(const PodInfoPtr& pod) {
  if (auto it = by_key_.find(pod->key); it != by_key_.end()) Unplace(it->second);
  Place(pod, pod->node_name, false);
}

void Cache::RemovePod(const std::string& key) {
  if (auto it = by_key_.find(key); it != by_key_.end()) Unplace(it->second);
}

void Cache::AssumePod(const PodInfoPtr& pod, const std::string& node) {
  if (auto it = by_key_.find(pod->key); it != by_key_.end()) Unplace(it->second);
  Place(pod, node, true);
}

void Cache::ForgetPod(const std::string& key) {
  auto it = by_key_.find(key);
  if (it != by_key_.end() && entries_[it->second].assumed) Unplace(it->second);
}

bool Cache::IsAssumed(const std::string& key) const {
  auto it = by_key_.find(key);
  return it != by_key_.end() && entries_[it->second].assumed;
}

namespace {
// The answer for selectors that select nothing: shared, never changed.
const MatchCountsPtr& NoMatches() {
  static const MatchCountsPtr none = std::make_shared<MatchCounts>();
  return none;
}
}  // namespace

MatchCountsPtr Cache::Query(const std::string& id, MatchQuery query) const {
  if (auto found = matches_.Find(id)) return found;
  auto counts = std::make_shared<MatchCounts>();
  for (const auto& ns : query.namespaces) {
    ForEachPodIn(ns, [&](const PodInfo& p, const NodeInfo& n) {
      const std::string* v = n.Label(query.topology_key);
      if (v && query.Selects(p)) counts->Bump(*v, +1);
    });
  }
  matches_.Add(id, std::move(query), counts);
  return counts;
}

MatchCountsPtr Cache::CountMatching(const AffinityTerm& term) const {
  if (term.selector.IsNothing()) return NoMatches();
  if (term.ns_selector) {
    auto counts = std::make_shared<MatchCounts>();
    ForEachPodMatching(term, [&](const PodInfo&, const NodeInfo& n) {
      if (const std::string* v = n.Label(term.topology_key)) counts->Bump(*v, +1);
    });
    return counts;
  }
  // The signature names namespaces, selector and topology key (pod_info.cc).
  return Query("term|" + term.signature, MatchQuery{term.namespaces, term.selector, term.topology_key, false});
}

MatchCountsPtr Cache::CountSpread(const std::string& ns, const api::LabelSelector& selector,
                                  const std::string& topology_key) const {
  if (selector.Empty() || selector.IsNothing()) return NoMatches();
  return Query("spread|" + ns + "|" + selector.String() + "|" + topology_key,
               MatchQuery{{ns}, selector, topology_key, true});
}

PodInfoPtr Cache::FindPod(const std::string& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : entries_[it->second].pod;
}

const NodeInfo* Cache::NodeOfPod(const std::string& key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : entries_[it->second].node;
}

}  // namespace kite::scheduler
