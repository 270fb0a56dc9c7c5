#include "server/scheduler/match_index.h"

#include <algorithm>

#include "server/scheduler/cache.h"

namespace kite::scheduler {

void MatchCounts::Bump(const std::string& value, int delta) {
  int& c = by_value[value];
  c += delta;
  total += delta;
  if (c <= 0) by_value.erase(value);
}

bool MatchQuery::Selects(const PodInfo& pod) const {
  if (skip_terminating && pod.terminating) return false;
  if (std::find(namespaces.begin(), namespaces.end(), pod.ns) == namespaces.end()) return false;
  return selector.Matches(pod.labels);
}

std::shared_ptr<MatchCounts> MatchIndex::Find(const std::string& id) {
  auto it = queries_.find(id);
  if (it == queries_.end()) return nullptr;
  it->second.last_used = ++tick_;
  return it->second.counts;
}

void MatchIndex::Add(const std::string& id, MatchQuery query, std::shared_ptr<MatchCounts> counts) {
  if (queries_.size() >= kMaxQueries) {
    auto victim = queries_.begin();
    for (auto it = queries_.begin(); it != queries_.end(); ++it) {
      if (it->second.last_used < victim->second.last_used) victim = it;
    }
    queries_.erase(victim);
  }
  queries_[id] = Entry{std::move(query), std::move(counts), ++tick_};
}

void MatchIndex::Update(const PodInfo& pod, const NodeInfo& node, int delta) {
  if (queries_.empty() || !node.spec()) return;
  for (auto& [id, e] : queries_) {
    const std::string* v = node.Label(e.query.topology_key);
    if (v && e.query.Selects(pod)) e.counts->Bump(*v, delta);
  }
}

}  // namespace kite::scheduler
