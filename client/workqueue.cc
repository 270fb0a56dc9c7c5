#include "client/workqueue.h"

#include <algorithm>

#include "base/metrics.h"

namespace kite::client {
namespace {

struct QueueMetrics {
  prometheus::Family<prometheus::Gauge>& depth;
  prometheus::Family<prometheus::Counter>& adds;
  prometheus::Family<prometheus::Counter>& retries;
  prometheus::Family<prometheus::Histogram>& queue_duration;
  static QueueMetrics& Get() {
    auto& r = metrics::Default();
    static QueueMetrics m{
        prometheus::BuildGauge().Name("workqueue_depth").Help("Current depth of workqueue").Register(r),
        prometheus::BuildCounter().Name("workqueue_adds_total").Help("Total number of adds handled by workqueue").Register(r),
        prometheus::BuildCounter().Name("workqueue_retries_total").Help("Total number of retries handled by workqueue").Register(r),
        prometheus::BuildHistogram()
            .Name("workqueue_queue_duration_seconds")
            .Help("How long in seconds an item stays in workqueue before being requested.")
            .Register(r),
    };
    return m;
  }
};

}  // namespace

WorkQueue::WorkQueue(std::string name, std::chrono::milliseconds base_delay, std::chrono::milliseconds max_delay,
                     const kite::Clock* clock)
    : name_(std::move(name)), base_delay_(base_delay), max_delay_(max_delay), clock_(clock) {}

bool WorkQueue::AddLocked(const std::string& key) {
  if (shutting_down_ || dirty_.count(key)) return false;
  dirty_.insert(key);
  QueueMetrics::Get().adds.Add({{"name", name_}}).Increment();
  if (processing_.count(key)) return false;  // queued again by Done
  queue_.push_back(key);
  added_at_.emplace(key, clock_->SteadyNow());
  QueueMetrics::Get().depth.Add({{"name", name_}}).Set(static_cast<double>(queue_.size()));
  return true;
}

void WorkQueue::Add(const std::string& key) {
  bool ready;
  std::function<void()> notify;
  {
    std::lock_guard<std::mutex> lock(mu_);
    ready = AddLocked(key);
    notify = notify_;
  }
  if (ready && notify) notify();
}

void WorkQueue::AddAfter(const std::string& key, Clock::duration delay) {
  if (delay <= Clock::duration::zero()) return Add(key);
  std::function<void()> notify;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return;
    // One pending delay per key: keep the earlier.
    auto when = clock_->SteadyNow() + delay;
    if (auto pending = delayed_index_.find(key); pending != delayed_index_.end()) {
      if (pending->second->first <= when) return;
      delayed_.erase(pending->second);
      delayed_index_.erase(pending);
    }
    delayed_index_.emplace(key, delayed_.emplace(when, key));
    notify = notify_;
  }
  // The runner recomputes its wake-up time.
  if (notify) notify();
}

void WorkQueue::AddRateLimited(const std::string& key) {
  Clock::duration delay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    int n = failures_[key]++;
    auto d = base_delay_ * (n < 30 ? (int64_t{1} << n) : (int64_t{1} << 30));
    delay = std::min<Clock::duration>(d, max_delay_);
  }
  QueueMetrics::Get().retries.Add({{"name", name_}}).Increment();
  AddAfter(key, delay);
}

void WorkQueue::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  failures_.erase(key);
}

int WorkQueue::NumRequeues(const std::string& key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

void WorkQueue::PromoteDueLocked(Clock::time_point now) {
  while (!delayed_.empty() && delayed_.begin()->first <= now) {
    std::string key = delayed_.begin()->second;
    delayed_index_.erase(key);
    delayed_.erase(delayed_.begin());
    AddLocked(key);
  }
}

std::optional<std::string> WorkQueue::TryGet() {
  std::lock_guard<std::mutex> lock(mu_);
  PromoteDueLocked(clock_->SteadyNow());
  if (queue_.empty()) return std::nullopt;
  std::string key = std::move(queue_.front());
  queue_.pop_front();
  processing_.insert(key);
  dirty_.erase(key);
  auto& m = QueueMetrics::Get();
  if (auto it = added_at_.find(key); it != added_at_.end()) {
    m.queue_duration.Add({{"name", name_}}, metrics::ExponentialBuckets(1e-8, 10, 10))
        .Observe(std::chrono::duration<double>(clock_->SteadyNow() - it->second).count());
    added_at_.erase(it);
  }
  m.depth.Add({{"name", name_}}).Set(static_cast<double>(queue_.size()));
  return key;
}

void WorkQueue::Done(const std::string& key) {
  bool ready = false;
  std::function<void()> notify;
  {
    std::lock_guard<std::mutex> lock(mu_);
    processing_.erase(key);
    if (dirty_.count(key) && !shutting_down_) {
      queue_.push_back(key);
      added_at_.emplace(key, clock_->SteadyNow());
      ready = true;
    }
    notify = notify_;
  }
  if (ready && notify) notify();
}

std::optional<WorkQueue::Clock::time_point> WorkQueue::NextDelayed() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (delayed_.empty()) return std::nullopt;
  return delayed_.begin()->first;
}

size_t WorkQueue::Len() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void WorkQueue::SetNotify(std::function<void()> notify) {
  std::lock_guard<std::mutex> lock(mu_);
  notify_ = std::move(notify);
}

void WorkQueue::ShutDown() {
  std::lock_guard<std::mutex> lock(mu_);
  shutting_down_ = true;
  queue_.clear();
  delayed_.clear();
  delayed_index_.clear();
}

bool WorkQueue::shutting_down() const {
  std::lock_guard<std::mutex> lock(mu_);
  return shutting_down_;
}

}  // namespace kite::client
