// WorkQueue: client-go's rate-limited work queue of string keys ("ns/name").
// - A key is in the queue at most once; a key being processed is never handed to a second
//   worker: Add while it is processed marks it dirty and it is queued again on Done.
// - AddRateLimited waits the key's exponential back-off (5 ms doubling to 1000 s, upstream's
//   defaults) before queueing it; Forget resets that back-off. AddAfter delays explicitly.
// - Metrics under upstream's names with label name=<queue>: workqueue_depth,
//   workqueue_adds_total, workqueue_retries_total, workqueue_queue_duration_seconds,
//   workqueue_work_duration_seconds.
// - Delays are measured on the Clock given at construction (base/clock.h, its monotonic side):
//   NextDelayed is a time on that clock, and a key is ready once that clock passed it, so a
//   test moves a FakeClock instead of sleeping.
// Workers do not block inside the queue: the ControllerRunner (controller.h) polls TryGet from
// its shared pool and sleeps until the notify hook fires or NextDelayed is due.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>

#include "base/clock.h"

namespace kite::client {

class WorkQueue {
 public:
  using Clock = std::chrono::steady_clock;
  explicit WorkQueue(std::string name, std::chrono::milliseconds base_delay = std::chrono::milliseconds(5),
                     std::chrono::milliseconds max_delay = std::chrono::seconds(1000),
                     const kite::Clock* clock = kite::Clock::Real());

  void Add(const std::string& key);
  void AddAfter(const std::string& key, Clock::duration delay);
  void AddRateLimited(const std::string& key);
  void Forget(const std::string& key);
  int NumRequeues(const std::string& key) const;

  // A ready key (moved to processing), or nullopt. Every key returned must be passed to Done.
  std::optional<std::string> TryGet();
  void Done(const std::string& key);

  // When the earliest delayed key becomes ready (nullopt: none).
  std::optional<Clock::time_point> NextDelayed() const;
  size_t Len() const;
  const std::string& name() const { return name_; }
  const kite::Clock* clock() const { return clock_; }
  // Called (outside the queue's lock) whenever a key becomes ready to hand out.
  void SetNotify(std::function<void()> notify);
  void ShutDown();
  bool shutting_down() const;

 private:
  void PromoteDueLocked(Clock::time_point now);
  bool AddLocked(const std::string& key);

  const std::string name_;
  const std::chrono::milliseconds base_delay_, max_delay_;
  const kite::Clock* const clock_;
  mutable std::mutex mu_;  // guards everything below
  std::deque<std::string> queue_;
  std::unordered_set<std::string> dirty_, processing_;
  std::unordered_map<std::string, Clock::time_point> added_at_;
  using Delayed = std::multimap<Clock::time_point, std::string>;
  Delayed delayed_;
  // Each delayed key's entry in delayed_: AddAfter finds a key's pending delay without a scan
  // (a queue of thousands of periodic keys, e.g. kite-hollow's node leases, calls it constantly).
  std::unordered_map<std::string, Delayed::iterator> delayed_index_;
  std::unordered_map<std::string, int> failures_;
  std::function<void()> notify_;
  bool shutting_down_ = false;
};

}  // namespace kite::client
