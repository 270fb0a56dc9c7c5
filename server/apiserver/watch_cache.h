// The API server's watch cache: one datastore watch on /registry/ feeds a bounded ring of recent
// events, each decoded and serialised once (with its resourceVersion) no matter how many API
// watchers read it. Watch requests read the ring from their resourceVersion on; a watcher that
// asks for a revision older than the ring holds, or falls so far behind that its next event has
// been evicted, gets 410 Expired (informers relist then), so a slow watcher costs the server
// nothing beyond the ring. Labels are extracted once per event for label selectors.
//
// Threading: one feeder thread pulls from the datastore and appends; Read and Subscribe may be
// called from any thread. Subscribers are woken (their callback posted by the caller) after
// each append.
#pragma once

#include <boost/json/object.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "datastore/store.h"

namespace kite::apiserver {

struct CachedEvent {
  int64_t revision = 0;
  std::string key;
  bool deleted = false;
  bool created = false;  // first version of the key
  // The object after the event (for deletes: its last state), with metadata.resourceVersion set
  // to `revision`, serialised once.
  std::string object_json;
  std::shared_ptr<const boost::json::object> labels;       // metadata.labels (empty object if none)
  datastore::Value prev_value;                              // stored JSON before the event (may be null)
  std::shared_ptr<const boost::json::object> prev_labels;   // labels before, when prev_value is set
};

class WatchCache {
 public:
  explicit WatchCache(datastore::Store* store, size_t capacity = 4096);
  ~WatchCache();

  // Events with revision >= start_revision whose sequence number is >= *cursor (0 = find the
  // first one), up to `max`; advances *cursor. Returns false when those events are no longer
  // (or were never) in the cache: the caller answers 410 Expired. `oldest` gets the oldest
  // revision the cache can serve from (for the message).
  bool Read(int64_t start_revision, uint64_t* cursor, size_t max,
            std::vector<std::shared_ptr<const CachedEvent>>* out, int64_t* oldest) const;

  // `wake` runs (on the feeder thread) after new events are appended; keep it short (post).
  // The subscription ends when the returned handle is destroyed.
  std::shared_ptr<void> Subscribe(std::function<void()> wake);

  // The newest revision appended so far.
  int64_t revision() const;

 private:
  void Feed();

  datastore::Store* store_;
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false, stopping_ = false;
  std::deque<std::shared_ptr<const CachedEvent>> ring_;
  uint64_t base_seq_ = 1;   // sequence number of ring_.front()
  int64_t min_revision_ = 0;  // every event with revision >= this is in the ring (or not yet written)
  int64_t revision_ = 0;
  std::vector<std::weak_ptr<std::function<void()>>> subscribers_;
  std::unique_ptr<datastore::Watcher> watcher_;
  std::thread feeder_;
};

}  // namespace kite::apiserver
