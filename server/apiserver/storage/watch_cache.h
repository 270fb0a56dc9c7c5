// The API server's watch cache: one datastore watch on /registry/ feeds a bounded ring of recent
// events, each decoded and serialised once (with its resourceVersion) no matter how many API
// watchers read it. Watch requests read the ring from their resourceVersion on; a watcher that
// asks for a revision older than the ring holds, or falls so far behind that its next event has
// been evicted, gets 410 Expired (informers relist then), so a slow watcher costs the server
// nothing beyond the ring. Labels are extracted once per event for label selectors.
//
// Threading: one feeder thread pulls from the datastore and appends; Read and Subscribe may be
// called from any thread. Subscribers are woken (their callback posted by the caller) after
// each append. Should the feeder fail to take in a batch (std::bad_alloc), it logs, empties the
// ring and follows the store from its current revision: every watcher then gets 410 and relists,
// rather than silently miss an event.
#pragma once

#include <boost/json/object.hpp>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "datastore/store.h"
#include "server/apiserver/storage/stored_json.h"

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

// A stored object shown at a revision (metadata.resourceVersion set), as the cache shows every
// event: where stored_json.h vouches for the stored text, an edit of it (`splice`), so a caller
// can write it out without copying the text; otherwise the object decoded and re-encoded.
struct ShownObject {
  std::optional<TextSplice> splice;  // set: stored[0, begin) + insert + stored[end, size)
  std::string reencoded;             // otherwise: the whole text
  std::string Text(std::string_view stored) const;
};

// nullopt when `stored` is not a JSON object. `labels`, when given, receives metadata.labels
// (an empty object when there are none).
std::optional<ShownObject> ShowStored(std::string_view stored, int64_t revision,
                                      std::shared_ptr<const boost::json::object>* labels = nullptr);

// metadata.labels of a stored object's text (an empty object when it has none or is no object).
std::shared_ptr<const boost::json::object> LabelsOfStored(std::string_view stored);

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

  // How far behind a reader at sequence number `cursor` (as Read advanced it) is: the events at
  // or after *scan (moved up to `cursor` first) whose key starts with `prefix` and whose revision
  // is >= min_revision are counted and *scan moves to the end. `evicted` is set when the event
  // at `cursor` has left the ring (that reader can only get 410 Expired now). Readers keep the
  // running total, so each event is looked at once per reader.
  size_t CountUnread(uint64_t cursor, uint64_t* scan, std::string_view prefix, int64_t min_revision,
                     bool* evicted) const;

  // `wake` runs (on the feeder thread) after new events are appended; keep it short (post).
  // The subscription ends when the returned handle is destroyed.
  std::shared_ptr<void> Subscribe(std::function<void()> wake);

  // The newest revision appended so far.
  int64_t revision() const;

 private:
  void Feed();
  void Drain();                        // appends what the store has, waking subscribers
  void Restart(int64_t revision);     // empties the ring and follows the store from revision + 1
  std::unique_ptr<datastore::Watcher> WatchFrom(int64_t revision);

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
