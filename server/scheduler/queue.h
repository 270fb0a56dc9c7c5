// SchedulingQueue: upstream's PriorityQueue for pods waiting to be scheduled.
// - activeQ: pods ready for a scheduling attempt, highest spec.priority first, then the
//   earliest time they entered the queue (upstream's PrioritySort).
// - backoffQ: pods whose last attempt failed and whose back-off (1 s doubling per attempt up
//   to 10 s) has not expired; Flush moves expired ones to activeQ (upstream checks every
//   second).
// - unschedulable pods: parked until a cluster event that may help them (MoveAll with the
//   plugins the event can satisfy; each pod remembers which plugins rejected it — a coarse form
//   of upstream's queueing hints) or until they have waited 5 minutes (Flush). A pod moved
//   while still backing off goes to backoffQ.
// - gated pods (spec.schedulingGates) wait until an update removes the gates.
// - in flight: popped, being scheduled or bound; an update is kept for when it comes back.
// Pods nominated to a node by preemption are indexed here too (upstream's nominator), so the
// filters count them on that node.
//
// Time: the monotonic time of the Clock handed to the constructor (the scheduler's,
// SchedulerOptions::clock), read at each call; a test hands it a FakeClock and moves it.
//
// Threading: not thread-safe; owned by the scheduling loop's thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "base/clock.h"
#include "server/scheduler/algorithm.h"

namespace kite::scheduler {

struct QueueOptions {
  std::chrono::milliseconds initial_backoff{1000};
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds max_in_unschedulable{5 * 60 * 1000};
};

class SchedulingQueue {
 public:
  using TimePoint = kite::Clock::SteadyTime;
  using Duration = TimePoint::duration;
  enum class Where { kActive, kBackoff, kUnschedulable, kGated, kInFlight };

  struct Entry {
    PodInfoPtr pod;
    Where where = Where::kActive;
    int attempts = 0;
    TimePoint timestamp{};     // when it last entered activeQ/backoffQ (ordering)
    TimePoint last_failure{};  // start of the back-off
    TimePoint backoff_until{};  // its end (the backoffQ key while there)
    uint32_t rejected_by = 0;          // PluginBit mask of the last failure (0: unknown)
    uint64_t seq = 0;
  };

  // `clock`: never null, not owned, outlives the queue.
  explicit SchedulingQueue(QueueOptions o = {}, const kite::Clock* clock = kite::Clock::Real())
      : options_(o), clock_(clock) {}

  // A pending pod appeared or changed (informer). Unknown pods are added; a changed pod that
  // was parked as unschedulable moves on if its spec or labels changed.
  void AddOrUpdate(const PodInfoPtr& pod);
  void Delete(const std::string& key);
  // The next pod to schedule (now in flight), or null when activeQ is empty.
  const Entry* Pop();
  // The in-flight pod failed: unschedulable (rejected_by: PluginBit mask) or, with `error`, an
  // error (then it always backs off). Ignored if the pod was deleted meanwhile.
  void Requeue(const std::string& key, uint32_t rejected_by, bool error);
  // The in-flight pod was placed: it leaves the queue.
  void Done(const std::string& key);
  // A cluster event that may help pods rejected by `plugins` (PluginBit mask). Pods with an
  // unknown rejection (mask 0) always move.
  void MoveAll(uint32_t plugins);
  // Back-offs expired → activeQ (upstream: every second).
  void FlushBackoff();
  // Pods unschedulable for max_in_unschedulable → activeQ/backoffQ (upstream: every 30 s).
  void FlushUnschedulable();
  // The earliest back-off expiry (for the loop's sleep), if any.
  std::optional<TimePoint> NextBackoffExpiry() const;

  const Entry* Get(const std::string& key) const;
  size_t Size(Where w) const;
  size_t Size() const { return entries_.size(); }
  Duration Backoff(int attempts) const;

  // Nomination of a pod to a node (preemption), effective at once; "" clears it.
  void SetNomination(const std::string& key, const std::string& node);
  const NominatedPods& nominated() const { return nominated_; }

 private:
  struct ActiveKey {
    int32_t neg_priority;
    TimePoint timestamp;
    uint64_t seq;
    bool operator<(const ActiveKey& o) const {
      if (neg_priority != o.neg_priority) return neg_priority < o.neg_priority;
      if (timestamp != o.timestamp) return timestamp < o.timestamp;
      return seq < o.seq;
    }
  };
  void Unlink(const std::string& key, Entry& e);
  void ToUnschedulable(const std::string& key, Entry& e, TimePoint now);
  void ToActive(const std::string& key, Entry& e, TimePoint now);
  void ToBackoff(const std::string& key, Entry& e, TimePoint now);
  void ToActiveOrBackoff(const std::string& key, Entry& e, TimePoint now);
  void Nominate(const PodInfoPtr& pod, const std::string& node);
  void Unnominate(const std::string& key);

  QueueOptions options_;
  const kite::Clock* clock_;
  uint64_t next_seq_ = 0;
  std::unordered_map<std::string, Entry> entries_;
  std::map<ActiveKey, std::string> active_;
  std::map<std::pair<TimePoint, uint64_t>, std::string> backoff_;  // by expiry
  std::unordered_set<std::string> unschedulable_;
  std::unordered_map<std::string, std::string> nominated_node_;            // key → node
  NominatedPods nominated_;
};

}  // namespace kite::scheduler
