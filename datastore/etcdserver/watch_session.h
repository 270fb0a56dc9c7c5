// WatchSession: the state and rules of one etcd Watch stream, without the transport. The gRPC
// reactor (watch_service.cc) feeds it requests and sends what it produces; the fuzz target drives
// it the same way.
//
// Behaviour (etcd 3.5, server/etcdserver/api/v3rpc/watch.go and mvcc/watcher.go):
// - Create: watch_id 0 picks the smallest free id counting 0,1,2,... per stream; a client-chosen
//   id that is in use is refused with created+canceled, watch_id -1 and cancel_reason
//   "mvcc: duplicate watch ID provided on the WatchStream". key >= range_end (a real end, not "\0")
//   is refused the same way with "mvcc: watcher range is empty"; a negative start_revision with
//   the compacted error text. `created` carries the store's current revision.
// - Events come in revision order per watcher; header.revision = the store's revision when the
//   response is made (never below the last event's). A watcher whose next revision was compacted
//   gets canceled=true with compact_revision (after its created response) and is dropped.
// - Cancel of a known id: canceled=true; of an unknown id: nothing (as etcd).
// - fragment=true: a response larger than kMaxRequestBytes with 2+ events is split; every part
//   but the last has fragment=true.
// - progress_notify: ProgressTick() sends a header-only response to each such watcher that got
//   no events since the previous tick and is caught up (has returned every event up to the
//   current revision), etcd's rule.
// - progress_request: one header-only response with watch_id -1 once every watcher of the stream
//   is caught up; deferred until then (etcd 3.5.8+), nothing when the stream has no watchers.
//
// Bounded memory: responses are pulled from the store's watchers only when the outgoing queue is
// empty (and by Next's one-batch look-ahead), one batch (<= kMaxEventsPerPull events, whole
// revisions) from one watcher at a time, round-robin over the watchers the store has woken (idle
// watchers are never scanned). Control responses are bounded by the reader: the transport stops
// reading while queued() >= kMaxQueuedResponses.
//
// Threading: not thread-safe; the owner serialises every call. Only `kick` is called from other
// threads (see the constructor).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "datastore/etcdserver/dispatch.h"
#include "datastore/store.h"

namespace kite::datastore::etcdserver {

inline constexpr size_t kMaxEventsPerPull = 256;
inline constexpr size_t kMaxQueuedResponses = 64;

class WatchSession {
 public:
  // `kick` is called when a watcher has new events (from the store's wake callback, so possibly
  // on the store's writer thread), once per batch of wakes: not again until the owner has looked
  // for work (Next). It must only schedule a later call of Next(), never call the session or the
  // store synchronously. It may be called after the session is gone.
  WatchSession(const Dispatcher* dispatcher, std::function<void()> kick);
  ~WatchSession();
  WatchSession(const WatchSession&) = delete;
  WatchSession& operator=(const WatchSession&) = delete;

  void Handle(const pb::WatchRequest& req);
  // Moves the next response to send into *out; false when there is nothing to send now.
  // With `more`: also pulls the following response into the queue (one batch ahead) and sets
  // *more to whether one is ready now. *more == true is a promise: the next call returns true
  // unless Close() runs in between; the transport relies on it to hold back a flush.
  bool Next(pb::WatchResponse* out, bool* more = nullptr);
  void ProgressTick();
  // Drops every watcher (the store stops waking us) and every queued response.
  void Close();

  size_t queued() const { return queue_.size(); }
  size_t watchers() const { return watchers_.size(); }

 private:
  // Watchers that may have events, in the order they became ready. The store's wake callbacks
  // append to `woken` (any thread); the owner moves them to `ready_` when it looks for work.
  struct WakeList {
    std::mutex mu;
    std::vector<uint64_t> woken;  // guarded by mu: serials of watchers
  };

  struct WatchState {
    int64_t id = 0;
    uint64_t serial = 0;  // unique per session, never reused (ids are)
    std::unique_ptr<Watcher> watcher;
    // When true, the watcher's serial is in ready_ or the wake list; cleared before each pull,
    // so a wake during the pull lists it again and none is lost. Shared with the wake callback.
    std::shared_ptr<std::atomic<bool>> listed;
    bool progress_notify = false;
    bool fragment = false;
    bool events_since_tick = false;  // etcd elides the next progress notification after events
    bool dead = false;               // cancelled by compaction; erased by Sweep()
  };

  void Create(const pb::WatchCreateRequest& req);
  void Cancel(int64_t id);
  void RefuseCreate(const std::string& reason);
  // Pulls one batch from `w` into the queue. Returns true if it produced a response.
  bool Pull(WatchState& w);
  void EnqueueEvents(WatchState& w, std::vector<Event>&& events);
  // True when `w` has returned every event up to `rev` (pulling if the store has not told it).
  bool CaughtUp(WatchState& w, int64_t rev);
  void TryProgressAll();
  void FillFromWatchers();
  // Lists `w` as ready unless it already is.
  void MarkReady(WatchState& w);
  // When the queue is empty: pulls the next batch (or a due progress response) into it.
  void Refill();
  void Sweep();
  void Push(pb::WatchResponse&& resp) { queue_.push_back(std::move(resp)); }
  pb::WatchResponse Header(int64_t watch_id, int64_t rev) const;

  const Dispatcher* d_;
  std::function<void()> kick_;
  std::map<int64_t, WatchState> watchers_;
  std::unordered_map<uint64_t, WatchState*> by_serial_;  // the same watchers (map nodes are stable)
  std::shared_ptr<WakeList> wake_list_ = std::make_shared<WakeList>();
  // Serials of watchers to pull, oldest first (round-robin: a watcher that returned a full batch
  // goes to the back). Entries of watchers gone since are skipped.
  std::deque<uint64_t> ready_;
  std::deque<pb::WatchResponse> queue_;
  int64_t next_id_ = 0;
  uint64_t next_serial_ = 1;
  size_t dead_ = 0;  // watchers with dead set, not yet swept
  bool progress_all_pending_ = false;
};

}  // namespace kite::datastore::etcdserver
