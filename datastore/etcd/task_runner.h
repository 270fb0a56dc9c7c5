// TaskRunner: one worker thread that runs posted tasks in order, plus one optional periodic task.
//
// Why a thread of our own: the Store's watch `wake` callback may run on the store's writer thread,
// where calling back into the store is forbidden, and gRPC's callback API offers no executor to
// post to. Every watch stream of a server shares this one thread (no thread per stream); the
// store's write completions that need a store read (headers of LeaseGrant/Compact) run here too.
//
// Threading: Post and SetPeriodic are safe from any thread, including from inside a task. Tasks
// must not block for long: they delay every stream. Stop runs the tasks already queued (and any
// they post), then joins; Post after Stop drops the task.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace kite::datastore::etcd {

class TaskRunner {
 public:
  TaskRunner();
  ~TaskRunner();
  TaskRunner(const TaskRunner&) = delete;
  TaskRunner& operator=(const TaskRunner&) = delete;

  void Post(std::function<void()> task);
  // Runs `task` about every `interval` (next_interval() is asked after each run, so the caller
  // can add jitter). Replaces a previous periodic task.
  void SetPeriodic(std::function<std::chrono::milliseconds()> next_interval, std::function<void()> task);
  void Stop();

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;              // guarded by mu_
  std::function<void()> periodic_;                       // guarded by mu_
  std::function<std::chrono::milliseconds()> interval_;  // guarded by mu_
  std::chrono::steady_clock::time_point next_tick_;      // guarded by mu_
  bool stopping_ = false;                                // guarded by mu_
  bool stopped_ = false;                                 // guarded by mu_
  std::mutex join_mu_;  // serialises joining thread_
  std::thread thread_;
};

}  // namespace kite::datastore::etcd
