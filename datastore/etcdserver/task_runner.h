// TaskRunner: worker threads that run posted tasks, plus one optional periodic task.
//
// Why threads of our own: the Store's watch `wake` callback may run on the store's writer thread,
// where calling back into the store is forbidden, and gRPC's callback API offers no executor to
// post to. The server has two: a one-thread runner for the store's write completions that need a
// store read (headers of LeaseGrant/Compact) and the progress tick, where posted tasks run one at
// a time in order; and a small pool that pumps watch streams (no thread per stream), where tasks
// start in order but run in parallel, so independent streams progress at the same time.
//
// Threading: Post and SetPeriodic are safe from any thread, including from inside a task. Tasks
// must not block for long: they delay every other task. With several threads, tasks (and the
// periodic task) may run concurrently with each other; the periodic task never runs twice at
// once. Stop runs the tasks already queued (and any they post), then joins; Post after Stop
// drops the task.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kite::datastore::etcdserver {

class TaskRunner {
 public:
  explicit TaskRunner(size_t threads = 1);
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
  bool periodic_running_ = false;                        // guarded by mu_
  bool stopping_ = false;                                // guarded by mu_
  size_t running_threads_ = 0;                           // guarded by mu_
  bool stopped_ = false;                                 // guarded by mu_
  std::mutex join_mu_;  // serialises joining threads_
  std::vector<std::thread> threads_;
};

}  // namespace kite::datastore::etcdserver
