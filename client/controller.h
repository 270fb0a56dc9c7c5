// Controllers and the runner that drives them, following client-go's controller contract:
// informer handlers only enqueue keys; Reconcile(key) is level-triggered and idempotent (read
// the cache, compare with what should be, act through the client); a failed Reconcile is
// retried with the key's back-off; workers start only after every informer has synced.
//
// The runner owns a small pool of worker threads shared by all controllers (not a thread per
// controller): each idle worker takes a ready key from any controller's queue, round-robin,
// while keeping each controller within its own `workers` limit. The pool may grow for a burst
// of work and shrink back when it is done (ControllerRunner's `max_threads`).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "client/expectations.h"
#include "client/informer.h"
#include "client/workqueue.h"

namespace kite::client {

class Controller {
 public:
  // `clock`: the controller's time (its queue's delays, timestamps it writes); tests pass a
  // FakeClock. The runner sleeps until queue delays on the real clock, so a controller with a
  // fake clock is driven by calling Reconcile, not by a ControllerRunner.
  explicit Controller(std::string name, int workers = 1, const kite::Clock* clock = kite::Clock::Real())
      : queue_(name, std::chrono::milliseconds(5), std::chrono::seconds(1000), clock),
        name_(std::move(name)),
        workers_(workers),
        clock_(clock) {}
  virtual ~Controller() = default;

  // Before informers start: get informers from the factory and add handlers that enqueue.
  virtual void Init(InformerFactory& informers) = 0;
  // Makes the world match the desired state for `key`. A non-OK status retries with back-off;
  // to look again later on success, AddAfter on queue().
  virtual Status Reconcile(const std::string& key) = 0;

  WorkQueue& queue() { return queue_; }
  const std::string& name() const { return name_; }
  int workers() const { return workers_; }
  const kite::Clock* clock() const { return clock_; }

 protected:
  WorkQueue queue_;

 private:
  friend class ControllerRunner;
  std::string name_;
  int workers_;
  const kite::Clock* clock_;
  int busy_ = 0;  // guarded by the runner's mutex
};

// The namespace and name of a work queue key ("ns/name", or "name" for a cluster-scoped
// object), the inverse of client::Key.
std::pair<std::string, std::string> SplitKey(const std::string& key);

// Informer handlers for a controller's own kind: every add, update and delete enqueues the
// object's key; a delete also forgets the key's expectations (when given), as the object that
// had them is gone.
EventHandler EnqueueSelf(WorkQueue* queue, Expectations* expectations = nullptr);

class ControllerRunner {
 public:
  // `threads` workers run from Start to Stop. With `max_threads` above `threads`, a worker that
  // takes a key while no other is idle starts one more, up to `max_threads` (keys may be
  // waiting), and those beyond `threads` end after `idle` without work: a burst of slow
  // reconciles (the kubelet's pod starts; upstream runs a goroutine per pod) runs in parallel
  // while the quiet process keeps `threads`.
  ControllerRunner(InformerFactory* informers, int threads, int max_threads = 0,
                   std::chrono::milliseconds idle = std::chrono::seconds(10));
  ~ControllerRunner();  // Stop()

  // Before Start.
  void Add(std::unique_ptr<Controller> c);
  // Init every controller, start the informers, wait for their sync, start the workers.
  // Returns at once; false if the caches did not sync within `sync_timeout`.
  bool Start(std::chrono::milliseconds sync_timeout = std::chrono::seconds(60));
  void Stop();

 private:
  void Work();
  void SpawnLocked();  // one more worker; mu_ held
  InformerFactory* informers_;
  const int threads_, max_threads_;
  const std::chrono::milliseconds idle_timeout_;
  std::vector<std::unique_ptr<Controller>> controllers_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  uint64_t wakeups_ = 0;
  size_t next_ = 0;  // round-robin start
  int live_ = 0;     // workers running Work
  int idle_ = 0;     // of them, waiting for a key
  std::vector<std::thread> pool_;
  std::vector<std::thread::id> finished_;  // extra workers that ended, to join
};

}  // namespace kite::client
