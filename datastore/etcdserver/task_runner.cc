#include "datastore/etcdserver/task_runner.h"

#include <utility>

#include "base/thread_name.h"

namespace kite::datastore::etcdserver {

TaskRunner::TaskRunner(size_t threads) {
  if (threads == 0) threads = 1;
  running_threads_ = threads;
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] {
    SetThreadName("etcd-pump");
    Run();
  });
}

TaskRunner::~TaskRunner() { Stop(); }

void TaskRunner::Post(std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return;
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
}

void TaskRunner::SetPeriodic(std::function<std::chrono::milliseconds()> next_interval,
                             std::function<void()> task) {
  {
    std::lock_guard lock(mu_);
    interval_ = std::move(next_interval);
    periodic_ = std::move(task);
    next_tick_ = std::chrono::steady_clock::now() + interval_();
  }
  cv_.notify_all();
}

void TaskRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  // Several callers may stop (Shutdown, then the destructor): only one joins. A task that stops
  // its own runner cannot join its own thread; that thread ends by itself.
  std::lock_guard join_lock(join_mu_);
  for (auto& t : threads_) {
    if (t.joinable() && t.get_id() != std::this_thread::get_id()) t.join();
  }
}

void TaskRunner::Run() {
  std::unique_lock lock(mu_);
  for (;;) {
    if (!tasks_.empty()) {
      auto task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task();
      task = nullptr;  // release captured state outside the lock
      lock.lock();
      continue;
    }
    if (stopping_) {
      // The last thread out closes the queue: until then a running task may still post, and
      // the threads still here run what it posts.
      if (--running_threads_ == 0) stopped_ = true;
      cv_.notify_all();
      return;
    }
    if (periodic_ && !periodic_running_) {
      auto now = std::chrono::steady_clock::now();
      if (now >= next_tick_) {
        auto task = periodic_;
        next_tick_ = now + interval_();
        periodic_running_ = true;
        lock.unlock();
        task();
        task = nullptr;
        lock.lock();
        periodic_running_ = false;
        continue;
      }
      cv_.wait_until(lock, next_tick_);
    } else {
      cv_.wait(lock);
    }
  }
}

}  // namespace kite::datastore::etcdserver
