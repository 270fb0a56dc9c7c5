// Resync: periodic re-examination of work queue keys without piling up timers. A controller
// that calls WorkQueue::AddAfter at the end of every Reconcile starts a new timer chain each time
// an event triggers an extra Reconcile; Resync keeps at most one pending resync per key.
//
// Thread-safety: all methods may be called from any thread.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "client/workqueue.h"

namespace kite::controllers {

class Resync {
 public:
  using Clock = client::WorkQueue::Clock;

  // Queues `key` on `q` after `period`, unless a resync of it is already pending.
  void After(client::WorkQueue& q, const std::string& key, Clock::duration period) {
    const auto now = q.clock()->SteadyNow();  // the queue's clock: its delays are on it
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto& due = due_[key];
      if (due > now) return;
      due = now + period;
    }
    q.AddAfter(key, period);
  }

  // The key is gone: drop what is remembered of it.
  void Forget(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    due_.erase(key);
  }

 private:
  std::mutex mu_;  // guards due_
  std::map<std::string, Clock::time_point> due_;
};

}  // namespace kite::controllers
