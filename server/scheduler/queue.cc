#include "server/scheduler/queue.h"

#include <boost/json.hpp>

#include <algorithm>
#include <vector>

namespace kite::scheduler {

namespace {

// What upstream's isPodUpdated looks at: anything but status and bookkeeping metadata. Our own
// status patches (conditions, nominatedNodeName) must not count as changes.
bool SchedulingRelevantChange(const PodInfo& a, const PodInfo& b) {
  if (a.labels != b.labels) return true;
  const auto* sa = a.object->if_contains("spec");
  const auto* sb = b.object->if_contains("spec");
  if ((sa == nullptr) != (sb == nullptr)) return true;
  if (sa && *sa != *sb) return true;
  auto annotations = [](const PodInfo& p) -> const boost::json::value* {
    const auto* m = p.object->if_contains("metadata");
    return m && m->is_object() ? m->as_object().if_contains("annotations") : nullptr;
  };
  const auto* aa = annotations(a);
  const auto* ab = annotations(b);
  if ((aa == nullptr) != (ab == nullptr)) return true;
  return aa && *aa != *ab;
}

}  // namespace

SchedulingQueue::Duration SchedulingQueue::Backoff(int attempts) const {
  Duration d = options_.initial_backoff;
  for (int i = 1; i < attempts; ++i) {
    d *= 2;
    if (d >= options_.max_backoff) return options_.max_backoff;
  }
  return std::min<Duration>(d, options_.max_backoff);
}

void SchedulingQueue::Unlink(const std::string& key, Entry& e) {
  if (e.where == Where::kActive) {
    active_.erase(ActiveKey{-e.pod->priority, e.timestamp, e.seq});
  } else if (e.where == Where::kBackoff) {
    backoff_.erase({e.backoff_until, e.seq});
  } else if (e.where == Where::kUnschedulable) {
    unschedulable_.erase(key);
  }
}

void SchedulingQueue::ToUnschedulable(const std::string& key, Entry& e, TimePoint now) {
  Unlink(key, e);
  e.where = Where::kUnschedulable;
  e.timestamp = now;
  unschedulable_.insert(key);
}

void SchedulingQueue::ToActive(const std::string& key, Entry& e, TimePoint now) {
  Unlink(key, e);
  e.where = Where::kActive;
  e.timestamp = now;
  e.seq = next_seq_++;
  active_.emplace(ActiveKey{-e.pod->priority, e.timestamp, e.seq}, key);
}

void SchedulingQueue::ToBackoff(const std::string& key, Entry& e, TimePoint now) {
  Unlink(key, e);
  e.where = Where::kBackoff;
  e.timestamp = now;
  e.seq = next_seq_++;
  e.backoff_until = e.last_failure + Backoff(e.attempts);
  backoff_.emplace(std::make_pair(e.backoff_until, e.seq), key);
}

void SchedulingQueue::ToActiveOrBackoff(const std::string& key, Entry& e, TimePoint now) {
  if (e.attempts > 0 && now < e.last_failure + Backoff(e.attempts)) ToBackoff(key, e, now);
  else ToActive(key, e, now);
}

void SchedulingQueue::AddOrUpdate(const PodInfoPtr& pod) {
  const TimePoint now = clock_->SteadyNow();
  auto it = entries_.find(pod->key);
  if (!pod->nominated_node_name.empty()) Nominate(pod, pod->nominated_node_name);
  else Unnominate(pod->key);
  if (it == entries_.end()) {
    Entry& e = entries_[pod->key];
    e.pod = pod;
    if (pod->gated) {
      e.where = Where::kGated;
      return;
    }
    e.where = Where::kInFlight;  // not linked anywhere yet
    ToActive(pod->key, e, now);
    return;
  }
  Entry& e = it->second;
  PodInfoPtr old = std::move(e.pod);
  switch (e.where) {
    case Where::kInFlight:
      e.pod = pod;
      return;
    case Where::kGated:
      e.pod = pod;
      if (!pod->gated) ToActive(pod->key, e, now);
      return;
    case Where::kUnschedulable:
      e.pod = pod;
      if (pod->gated) {
        Unlink(pod->key, e);
        e.where = Where::kGated;
      } else if (SchedulingRelevantChange(*old, *pod)) {
        ToActiveOrBackoff(pod->key, e, now);
      }
      return;
    case Where::kActive: {
      // Re-link under the (possibly new) priority, keeping its place in time.
      active_.erase(ActiveKey{-old->priority, e.timestamp, e.seq});
      e.pod = pod;
      if (pod->gated) {
        e.where = Where::kGated;
        return;
      }
      active_.emplace(ActiveKey{-pod->priority, e.timestamp, e.seq}, pod->key);
      return;
    }
    case Where::kBackoff:
      e.pod = pod;
      if (pod->gated) {
        backoff_.erase({e.backoff_until, e.seq});
        e.where = Where::kGated;
      }
      return;
  }
}

void SchedulingQueue::Delete(const std::string& key) {
  auto it = entries_.find(key);
  if (it != entries_.end()) {
    Unlink(key, it->second);
    entries_.erase(it);
  }
  Unnominate(key);
}

const SchedulingQueue::Entry* SchedulingQueue::Pop() {
  if (active_.empty()) return nullptr;
  auto first = active_.begin();
  std::string key = std::move(first->second);
  active_.erase(first);
  Entry& e = entries_.at(key);
  e.where = Where::kInFlight;
  ++e.attempts;
  return &e;
}

void SchedulingQueue::Requeue(const std::string& key, uint32_t rejected_by, bool error) {
  const TimePoint now = clock_->SteadyNow();
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.where != Where::kInFlight) return;
  Entry& e = it->second;
  e.last_failure = now;
  e.rejected_by = rejected_by;
  if (error) {
    ToBackoff(key, e, now);
  } else {
    ToUnschedulable(key, e, now);
  }
}

void SchedulingQueue::Done(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end() || it->second.where != Where::kInFlight) return;
  entries_.erase(it);
  Unnominate(key);
}

void SchedulingQueue::MoveAll(uint32_t plugins) {
  const TimePoint now = clock_->SteadyNow();
  std::vector<std::string> moving;
  for (const auto& key : unschedulable_) {
    const Entry& e = entries_.at(key);
    if (e.rejected_by == 0 || (e.rejected_by & plugins) != 0) moving.push_back(key);
  }
  for (const auto& key : moving) ToActiveOrBackoff(key, entries_.at(key), now);
}

void SchedulingQueue::FlushBackoff() {
  const TimePoint now = clock_->SteadyNow();
  while (!backoff_.empty() && backoff_.begin()->first.first <= now) {
    std::string key = backoff_.begin()->second;
    ToActive(key, entries_.at(key), now);  // unlinks it from backoff_
  }
}

void SchedulingQueue::FlushUnschedulable() {
  const TimePoint now = clock_->SteadyNow();
  std::vector<std::string> moving;
  for (const auto& key : unschedulable_) {
    if (now - entries_.at(key).timestamp >= options_.max_in_unschedulable) moving.push_back(key);
  }
  for (const auto& key : moving) ToActiveOrBackoff(key, entries_.at(key), now);
}

std::optional<SchedulingQueue::TimePoint> SchedulingQueue::NextBackoffExpiry() const {
  if (backoff_.empty()) return std::nullopt;
  return backoff_.begin()->first.first;
}

const SchedulingQueue::Entry* SchedulingQueue::Get(const std::string& key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

size_t SchedulingQueue::Size(Where w) const {
  switch (w) {
    case Where::kActive: return active_.size();
    case Where::kBackoff: return backoff_.size();
    case Where::kUnschedulable: return unschedulable_.size();
    default: break;
  }
  size_t n = 0;
  for (const auto& [k, e] : entries_) n += e.where == w;
  return n;
}

void SchedulingQueue::Nominate(const PodInfoPtr& pod, const std::string& node) {
  Unnominate(pod->key);
  nominated_node_[pod->key] = node;
  nominated_[node].push_back(pod);
}

void SchedulingQueue::Unnominate(const std::string& key) {
  auto it = nominated_node_.find(key);
  if (it == nominated_node_.end()) return;
  auto& list = nominated_[it->second];
  list.erase(std::remove_if(list.begin(), list.end(), [&](const PodInfoPtr& p) { return p->key == key; }), list.end());
  if (list.empty()) nominated_.erase(it->second);
  nominated_node_.erase(it);
}

void SchedulingQueue::SetNomination(const std::string& key, const std::string& node) {
  auto it = entries_.find(key);
  if (node.empty() || it == entries_.end()) {
    Unnominate(key);
    return;
  }
  Nominate(it->second.pod, node);
}

}  // namespace kite::scheduler
