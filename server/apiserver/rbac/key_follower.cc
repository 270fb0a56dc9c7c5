#include "server/apiserver/rbac/key_follower.h"

#include <algorithm>
#include <chrono>

#include "base/log.h"

namespace kite::apiserver {

namespace {
std::string PrefixEnd(std::string p) {
  p.back()++;
  return p;
}
}  // namespace

KeyFollower::KeyFollower(datastore::Store* store, std::vector<std::string> prefixes, Apply apply,
                         std::function<void()> settled)
    : store_(store), prefixes_(std::move(prefixes)), apply_(std::move(apply)), settled_(std::move(settled)) {
  const int64_t rev = store_->CurrentRevision();
  Load(rev);
  for (const auto& p : prefixes_) {
    datastore::WatchOptions wo;
    wo.key = p;
    wo.range_end = PrefixEnd(p);
    wo.start_revision = rev + 1;
    watchers_.push_back(store_->Watch(wo, [this] {
      {
        std::lock_guard<std::mutex> lock(mu_);
        pending_ = true;
      }
      cv_.notify_one();
    }));
  }
  applied_ = rev;
  if (settled_) settled_();
  thread_ = std::thread([this] { Run(); });
}

KeyFollower::~KeyFollower() { Stop(); }

void KeyFollower::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  watchers_.clear();
}

void KeyFollower::Load(int64_t revision) {
  for (const auto& p : prefixes_) {
    datastore::RangeRequest q;
    q.key = p;
    q.range_end = PrefixEnd(p);
    q.revision = revision;
    auto r = store_->Range(q);
    if (!r.ok()) {
      KITE_LOG(0) << "authorization cache: cannot read " << p << ": " << r.status().ToString();
      continue;
    }
    for (const auto& kv : r->kvs) apply_(kv.key, kv.value);
  }
}

void KeyFollower::Run() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return pending_ || stopping_; });
      if (stopping_) return;
      pending_ = false;
    }
    // The revision every watcher has reached once each returned an empty (or caught-up) batch.
    const int64_t target = store_->CurrentRevision();
    bool changed = false;
    for (auto& w : watchers_) {
      for (;;) {
        auto batch = w->Next(1024);
        if (batch.compact_revision != 0) {
          // Fell behind compaction (only when this thread starved for minutes): the watchers
          // cannot resume, and the process keeps serving; a restart reloads.
          KITE_LOG(0) << "authorization cache: watch compacted at " << batch.compact_revision;
          break;
        }
        for (const auto& ev : batch.events) {
          apply_(ev.kv.key, ev.type == datastore::Event::Type::kDelete ? nullptr : ev.kv.value);
          changed = true;
        }
        if (batch.events.empty() || batch.caught_up) break;
      }
    }
    if (changed && settled_) settled_();
    {
      std::lock_guard<std::mutex> lock(mu_);
      applied_ = std::max(applied_, target);
    }
    applied_cv_.notify_all();
  }
}

void KeyFollower::WaitForCurrent(int timeout_ms) {
  // Read before taking mu_: the store's wake callbacks take mu_.
  const int64_t want = store_->CurrentRevision();
  std::unique_lock<std::mutex> lock(mu_);
  if (stopping_) return;
  if (applied_ >= want) return;
  pending_ = true;  // a no-op pass records the revision even when no watched key changed
  cv_.notify_one();
  applied_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return applied_ >= want; });
}

std::optional<boost::json::object> KeyFollower::DecodeObject(const datastore::Value& value) {
  if (!value) return std::nullopt;
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(*value, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  return std::move(parsed.as_object());
}

}  // namespace kite::apiserver
