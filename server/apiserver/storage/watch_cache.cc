#include "server/apiserver/storage/watch_cache.h"

#include <boost/json.hpp>

#include <algorithm>
#include <chrono>

#include "base/log.h"
#include "base/thread_name.h"

namespace kite::apiserver {
namespace json = boost::json;

namespace {

std::shared_ptr<const json::object> LabelsOf(const json::object& o) {
  if (auto m = o.find("metadata"); m != o.end() && m->value().is_object()) {
    if (auto l = m->value().as_object().find("labels"); l != m->value().as_object().end() && l->value().is_object()) {
      return std::make_shared<const json::object>(l->value().as_object());
    }
  }
  static const auto kEmpty = std::make_shared<const json::object>();
  return kEmpty;
}

// metadata.labels of scanned text: decodes only the labels' own span.
std::shared_ptr<const json::object> LabelsOfScan(std::string_view text, const StoredObjectScan& scan) {
  std::string_view labels = LabelsText(text, scan);
  if (labels.empty()) return LabelsOf(json::object());
  boost::system::error_code ec;
  json::value v = json::parse(labels, ec);
  if (ec || !v.is_object()) return LabelsOf(json::object());
  return std::make_shared<const json::object>(std::move(v.as_object()));
}

// metadata.labels of a stored object's text (empty when it has none or is not an object).
std::shared_ptr<const json::object> LabelsOfText(std::string_view text) {
  if (auto scan = ScanStoredObject(text)) return LabelsOfScan(text, *scan);
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  return !ec && v.is_object() ? LabelsOf(v.as_object()) : LabelsOf(json::object());
}

// Fills ev->object_json (the object with metadata.resourceVersion = ev->revision) and
// ev->labels from the stored text; false when the text is not a JSON object (the event cannot be shown).
bool Show(std::string_view text, CachedEvent* ev) {
  auto shown = ShowStored(text, ev->revision, &ev->labels);
  if (!shown) return false;
  ev->object_json = shown->Text(text);
  return true;
}

}  // namespace

std::string ShownObject::Text(std::string_view stored) const {
  if (!splice) return reencoded;
  std::string out;
  out.reserve(stored.size() - (splice->end - splice->begin) + splice->insert.size());
  out.append(stored.substr(0, splice->begin)).append(splice->insert).append(stored.substr(splice->end));
  return out;
}

// The text is spliced where stored_json.h vouches for it, decoded and re-encoded otherwise.
std::optional<ShownObject> ShowStored(std::string_view text, int64_t revision,
                                      std::shared_ptr<const json::object>* labels) {
  if (auto scan = ScanStoredObject(text)) {
    if (auto splice = ResourceVersionSplice(*scan, revision)) {
      if (labels) *labels = LabelsOfScan(text, *scan);
      return ShownObject{std::move(splice), {}};
    }
  }
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto& obj = v.as_object();
  json::value& meta = obj["metadata"];
  if (!meta.is_object()) meta = json::object();
  meta.as_object()["resourceVersion"] = std::to_string(revision);
  if (labels) *labels = LabelsOf(obj);
  return ShownObject{std::nullopt, json::serialize(obj)};
}

std::shared_ptr<const json::object> LabelsOfStored(std::string_view stored) { return LabelsOfText(stored); }

WatchCache::WatchCache(datastore::Store* store, size_t capacity) : store_(store), capacity_(capacity) {
  revision_ = store_->CurrentRevision();
  min_revision_ = revision_ + 1;
  watcher_ = WatchFrom(revision_);
  // The store wakes a watcher only after a Next() that returned nothing: pull once at start.
  pending_ = true;
  feeder_ = std::thread([this] {
    SetThreadName("watch-feed");
    Feed();
  });
}

WatchCache::~WatchCache() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  feeder_.join();
  watcher_.reset();
}

std::unique_ptr<datastore::Watcher> WatchCache::WatchFrom(int64_t revision) {
  datastore::WatchOptions wo;
  wo.key = "/registry/";
  wo.range_end = "/registry0";
  wo.start_revision = revision + 1;
  wo.prev_kv = true;
  return store_->Watch(wo, [this] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_ = true;
    }
    cv_.notify_one();
  });
}

void WatchCache::Restart(int64_t revision) {
  watcher_ = WatchFrom(revision);
  std::lock_guard<std::mutex> lock(mu_);
  base_seq_ += ring_.size();
  ring_.clear();
  min_revision_ = revision + 1;
  revision_ = revision;
}

void WatchCache::Feed() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return pending_ || stopping_; });
      if (stopping_) return;
      pending_ = false;
    }
    try {
      Drain();
    } catch (const std::exception& e) {
      // Out of memory, most likely. An event dropped here would be missed by every watcher
      // without a word; starting over makes them all relist instead.
      try {
        KITE_LOG(0) << "watch cache: could not take in events (" << e.what()
                    << "); restarting from the current revision, watchers get 410 Expired";
        Restart(store_->CurrentRevision());
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));  // and try again
      }
      std::lock_guard<std::mutex> lock(mu_);
      pending_ = true;
    }
  }
}

void WatchCache::Drain() {
  for (;;) {
    auto batch = watcher_->Next(1024);
    if (batch.compact_revision != 0) {
      // The feed itself fell behind compaction (only if this thread starved for minutes):
      // everything older than now is unservable; restart from the current revision.
      Restart(store_->CurrentRevision());
      continue;  // the next Next() (empty or not) arms the new watcher
    }
    if (batch.events.empty()) return;
    // Decode and serialise outside the lock: readers are never blocked by this work.
    std::vector<std::shared_ptr<const CachedEvent>> fresh;
    fresh.reserve(batch.events.size());
    for (const auto& ev : batch.events) {
      auto ce = std::make_shared<CachedEvent>();
      ce->revision = ev.kv.mod_revision;
      ce->key = ev.kv.key;
      ce->deleted = ev.type == datastore::Event::Type::kDelete;
      ce->created = !ce->deleted && ev.kv.version == 1;
      const datastore::KeyValue* src = ce->deleted ? (ev.prev_kv ? &*ev.prev_kv : nullptr) : &ev.kv;
      if (!src) continue;  // a delete without its previous value cannot be shown
      if (!Show(src->value_or_empty(), ce.get())) continue;
      if (!ce->deleted && ev.prev_kv) {
        ce->prev_value = ev.prev_kv->value;
        ce->prev_labels = LabelsOfText(ev.prev_kv->value_or_empty());
      }
      fresh.push_back(std::move(ce));
    }
    std::vector<std::shared_ptr<std::function<void()>>> wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (auto& e : fresh) {
        ring_.push_back(std::move(e));
        if (ring_.size() > capacity_) {
          min_revision_ = std::max(min_revision_, ring_.front()->revision + 1);
          ring_.pop_front();
          ++base_seq_;
        }
      }
      revision_ = std::max(revision_, batch.events.back().kv.mod_revision);
      wake.reserve(subscribers_.size());
      for (auto it = subscribers_.begin(); it != subscribers_.end();) {
        if (auto s = it->lock()) {
          wake.push_back(std::move(s));
          ++it;
        } else {
          it = subscribers_.erase(it);
        }
      }
    }
    for (auto& w : wake) {
      // One watcher's failed wake-up (it posts: an allocation) must not cost the others theirs;
      // that watcher reads the events at its next wake-up or timer.
      try {
        (*w)();
      } catch (const std::exception&) {
      }
    }
  }
}

bool WatchCache::Read(int64_t start_revision, uint64_t* cursor, size_t max,
                      std::vector<std::shared_ptr<const CachedEvent>>* out, int64_t* oldest) const {
  std::lock_guard<std::mutex> lock(mu_);
  *oldest = min_revision_ - 1;
  if (*cursor == 0) {
    if (start_revision < min_revision_) return false;
    // First event at or after start_revision (or the end: none yet).
    uint64_t seq = base_seq_;
    size_t lo = 0, hi = ring_.size();
    while (lo < hi) {
      size_t mid = (lo + hi) / 2;
      if (ring_[mid]->revision < start_revision) lo = mid + 1;
      else hi = mid;
    }
    *cursor = seq + lo;
  }
  if (*cursor < base_seq_) return false;  // evicted before this watcher read it: too slow
  for (uint64_t i = *cursor - base_seq_; i < ring_.size() && out->size() < max; ++i) {
    out->push_back(ring_[i]);
    ++*cursor;
  }
  return true;
}

size_t WatchCache::CountUnread(uint64_t cursor, uint64_t* scan, std::string_view prefix, int64_t min_revision,
                               bool* evicted) const {
  std::lock_guard<std::mutex> lock(mu_);
  *evicted = cursor < base_seq_;
  const uint64_t end = base_seq_ + ring_.size();
  size_t n = 0;
  for (uint64_t seq = std::max({*scan, cursor, base_seq_}); seq < end; ++seq) {
    const CachedEvent& e = *ring_[seq - base_seq_];
    if (e.revision >= min_revision && e.key.compare(0, prefix.size(), prefix) == 0) ++n;
  }
  *scan = std::max(*scan, end);
  return n;
}

std::shared_ptr<void> WatchCache::Subscribe(std::function<void()> wake) {
  auto s = std::make_shared<std::function<void()>>(std::move(wake));
  std::lock_guard<std::mutex> lock(mu_);
  subscribers_.push_back(s);
  return s;
}

int64_t WatchCache::revision() const {
  std::lock_guard<std::mutex> lock(mu_);
  return revision_;
}

}  // namespace kite::apiserver
