#include "datastore/watch_hub.h"

#include <algorithm>
#include <atomic>

namespace kite::datastore {

class WatchHub::Impl final : public Watcher {
 public:
  Impl(WatchHub* hub, const WatchOptions& o, std::function<void()> wake) : wake_(std::move(wake)), hub_(hub) {
    filter_.key = o.key;
    filter_.range_end = o.range_end;
    filter_.prev_kv = o.prev_kv;
    filter_.no_put = o.no_put;
    filter_.no_delete = o.no_delete;
    next_.store(o.start_revision > 0 ? o.start_revision : hub->mvcc_->visible_revision() + 1);
  }
  ~Impl() override { hub_->Unregister(this); }

  Batch Next(size_t max_events) override {
    Batch b;
    Mvcc::ReadLock lock(*hub_->mvcc_);
    int64_t next = next_.load();
    if (!hub_->mvcc_->CollectEvents(filter_, next, max_events, &b.events, &next)) {
      b.compact_revision = hub_->mvcc_->compact_revision();
      return b;
    }
    next_.store(next);
    // Caught up (with or without events): ask to be woken. Done under the read lock, so no
    // publish can slip between the scan above and arming (Publish needs the exclusive lock).
    b.caught_up = next > hub_->mvcc_->visible_revision();
    if (b.caught_up) hub_->Arm(this);
    return b;
  }

  int64_t next_revision() const override { return next_.load(); }

  bool single_key() const { return filter_.range_end.empty(); }
  const Mvcc::EventFilter& filter() const { return filter_; }
  bool Wants(const Event& ev) const {
    if (ev.kv.mod_revision < next_.load()) return false;
    if (ev.type == Event::Type::kPut ? filter_.no_put : filter_.no_delete) return false;
    return InRange(ev.kv.key, filter_.key, filter_.range_end);
  }

  // Set by Arm (under the Mvcc read lock, not the hub mutex: a pull never waits for a Notify in
  // progress); cleared by the Notify that fires it or by Unregister (both under the hub mutex).
  std::atomic<bool> armed{false};
  std::function<void()> wake_;

 private:
  WatchHub* hub_;
  Mvcc::EventFilter filter_;
  std::atomic<int64_t> next_{0};
};

WatchHub::~WatchHub() = default;

std::unique_ptr<Watcher> WatchHub::Watch(const WatchOptions& opts, std::function<void()> wake) {
  auto w = std::make_unique<Impl>(this, opts, std::move(wake));
  Register(w.get());
  return w;
}

void WatchHub::Register(Impl* w) {
  std::lock_guard lock(mu_);
  if (w->single_key()) by_key_.emplace(w->filter().key, w);
  else ranges_.push_back(w);
}

void WatchHub::Unregister(Impl* w) {
  std::lock_guard lock(mu_);
  if (w->armed.exchange(false)) armed_.fetch_sub(1);
  if (w->single_key()) {
    auto [b, e] = by_key_.equal_range(w->filter().key);
    for (auto it = b; it != e; ++it) {
      if (it->second == w) {
        by_key_.erase(it);
        break;
      }
    }
  } else {
    ranges_.erase(std::remove(ranges_.begin(), ranges_.end(), w), ranges_.end());
  }
}

// Lock-free, so pulls on other threads arm without waiting for a Notify that holds the hub mutex
// while it wakes thousands of watchers. No wake is lost: Arm runs under the Mvcc read lock, after
// the pull's scan, and the next Publish needs the exclusive lock, so the Notify that follows that
// Publish sees the flag. (An Arm racing with a Notify for revisions the pull already returned is
// harmless: Wants() refuses events below the watcher's next revision.)
void WatchHub::Arm(Impl* w) {
  if (!w->armed.exchange(true)) armed_.fetch_add(1);
}

void WatchHub::Notify(int64_t from_exclusive, int64_t to_inclusive) {
  Mvcc::ReadLock read(*mvcc_);
  std::lock_guard lock(mu_);
  if (armed_.load() == 0) return;
  auto [begin, end] = mvcc_->Entries(from_exclusive, to_inclusive);
  auto fire = [this](Impl* w) {
    if (!w->armed.exchange(false)) return;  // only Notify and Unregister clear it, both under mu_
    armed_.fetch_sub(1);
    w->wake_();
  };
  for (auto it = begin; it != end && armed_.load() > 0; ++it) {
    for (const Event& ev : it->events) {
      auto [b, e] = by_key_.equal_range(ev.kv.key);
      for (auto k = b; k != e; ++k) {
        if (k->second->armed.load() && k->second->Wants(ev)) fire(k->second);
      }
    }
  }
  for (Impl* w : ranges_) {
    if (!w->armed.load()) continue;
    for (auto it = begin; it != end && w->armed.load(); ++it) {
      for (const Event& ev : it->events) {
        if (w->Wants(ev)) {
          fire(w);
          break;
        }
      }
    }
  }
}

size_t WatchHub::size() const {
  std::lock_guard lock(mu_);
  return by_key_.size() + ranges_.size();
}

}  // namespace kite::datastore
