#include "datastore/etcd/task_runner.h"

#include <utility>

namespace kite::datastore::etcd {

TaskRunner::TaskRunner() : thread_([this] { Run(); }) {}

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
  cv_.notify_one();
}

void TaskRunner::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  // Several callers may stop (Shutdown, then the destructor): only one joins.
  std::lock_guard join_lock(join_mu_);
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
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
      stopped_ = true;
      return;
    }
    if (periodic_) {
      auto now = std::chrono::steady_clock::now();
      if (now >= next_tick_) {
        auto task = periodic_;
        next_tick_ = now + interval_();
        lock.unlock();
        task();
        lock.lock();
        continue;
      }
      cv_.wait_until(lock, next_tick_);
    } else {
      cv_.wait(lock);
    }
  }
}

}  // namespace kite::datastore::etcd
