// Mvcc: the in-memory multi-version index of every key and the revision-ordered change log.
//
// This is the read side of the store and the place where write semantics live. Every version of
// every key since the compaction revision is held in memory (values are shared immutable
// strings), so reads and watches never touch SQLite: SQLite is the durable log that rebuilds this
// index at start (see sqlite/sqlite_store.h).
//
// Visibility: the single writer applies a batch of writes at revisions above `visible` (pending),
// persists them, and only then calls Publish(). Readers read at the visible revision, so nothing
// that is not durable is ever returned, and readers never wait for a disk write — only for the
// short in-memory apply, under the exclusive side of `mu_`.
//
// Cost: a range read visits the keys in the range (live, or deleted but not yet compacted) —
// O(keys in range × log(history per key)), never O(history of the whole store).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>
#include <vector>

#include "base/status.h"
#include "datastore/lessor.h"
#include "datastore/types.h"

namespace kite::datastore {

// One row of the durable log: a key's state at (rev, sub). version == 0 marks a deletion.
struct LogRow {
  int64_t id = 0;  // row id in the database, assigned by the writer
  int64_t rev = 0;
  int64_t sub = 0;
  std::string key;
  Value value;
  int64_t create_rev = 0;
  int64_t version = 0;
  int64_t lease = 0;
};

// Events of one revision, in the order they happened.
struct LogEntry {
  int64_t rev = 0;
  std::vector<Event> events;
};

class Mvcc {
 public:
  explicit Mvcc(Lessor* lessor) : lessor_(lessor) {}

  // ---- Readers: any thread. ----
  Result<RangeResponse> Range(const RangeRequest& req) const;
  int64_t visible_revision() const { return visible_.load(std::memory_order_acquire); }
  int64_t compact_revision() const { return compact_.load(std::memory_order_acquire); }
  int64_t live_keys() const { return live_keys_.load(std::memory_order_relaxed); }

  // Events of revisions in [from, visible] matching the filter, up to about `max_events` (whole
  // revisions). Sets *next to the first revision not yet examined. Returns false if `from` is
  // below the compaction revision (the events are gone). Caller must hold a ReadLock.
  struct EventFilter {
    std::string key, range_end;
    bool prev_kv = false, no_put = false, no_delete = false;
  };
  bool CollectEvents(const EventFilter& f, int64_t from, size_t max_events, std::vector<Event>* out,
                     int64_t* next) const;
  // The revisions published by the last Publish() are (from, to]; entries in that span. Caller
  // holds a ReadLock.
  std::pair<std::deque<LogEntry>::const_iterator, std::deque<LogEntry>::const_iterator> Entries(
      int64_t from_exclusive, int64_t to_inclusive) const;

  class ReadLock {
   public:
    explicit ReadLock(const Mvcc& m) : lock_(m.mu_) {}
   private:
    std::shared_lock<std::shared_mutex> lock_;
  };

  // Hash of all versions in (compact, rev].
  uint32_t Hash(int64_t rev) const;

  // ---- Writer: one thread only. ----
  // Holds the exclusive lock for a batch of applies.
  class WriteBatch {
   public:
    explicit WriteBatch(Mvcc& m) : m_(m), lock_(m.mu_) {}
    // Applies a validated transaction at the next revision (if it changes anything). Rows to
    // persist are appended to *rows. Request-level errors (lease not found, ...) change nothing.
    Result<TxnResponse> Txn(const TxnRequest& req, std::vector<LogRow>* rows);
    // Deletes every key in `keys` at one new revision (lease revocation). Returns the revision.
    int64_t DeleteKeys(const std::vector<std::string>& keys, std::vector<LogRow>* rows);
    // Replays a durable row at start-up (rows come in (rev, sub) order).
    void Replay(const LogRow& row);
    // Compacts: drops versions no read at or after `rev` can see. Row ids to delete from disk
    // are appended to *dead_rows. All at once: StartCompact + Prune to the end.
    void Compact(int64_t rev, std::vector<int64_t>* dead_rows);
    // Compacts in steps, for the writer under load. StartCompact makes `rev` the compaction
    // revision at once (reads and watches below it fail from now on) and leaves the versions it
    // makes unreadable in memory; each Prune then drops those of the keys of at most
    // `max_entries` log revisions, appends their row ids (unsorted) to *dead_rows, and returns
    // whether some are left. Done all at once, a compaction of the ~10k revisions a 16-client
    // put load writes in a second held the writer 6-9 ms, and every write behind it waited
    // (bench/RESULTS.md, run of 2026-12-04 21:52 UTC). Versions not pruned yet are invisible:
    // nothing reads below the compaction revision, and Hash skips them.
    void StartCompact(int64_t rev);
    bool Prune(size_t max_entries, std::vector<int64_t>* dead_rows);
    // Undoes every change applied since the last Publish() (revisions above the visible one),
    // after their commit failed: the index, the change log, live-key count and lease
    // attachments return to what the disk holds. A compaction started in the batch is undone
    // by the caller (RestoreCompaction). Nothing was visible, so no reader saw the changes.
    void Rollback();
    // Puts back the compaction state saved before the batch (compact_revision(), and the
    // pending prune revision from prune_to()).
    void RestoreCompaction(int64_t compact, int64_t prune_to);
    int64_t head() const { return m_.head_; }

   private:
    struct Applied;
    Result<RangeResponse> RangeAtHead(const RangeRequest& req);
    bool Evaluate(const Compare& c);
    Status Check(const std::vector<RequestOp>& ops);
    void Apply(const std::vector<RequestOp>& ops, std::vector<ResponseOp>* out, Applied* a);
    PutResponse Put(const PutRequest& req, Applied* a);
    DeleteRangeResponse Delete(const DeleteRangeRequest& req, Applied* a);

    Mvcc& m_;
    std::unique_lock<std::shared_mutex> lock_;
  };

  // Makes every applied revision visible to readers; returns the previous visible revision.
  int64_t Publish();
  void SetRevisions(int64_t head, int64_t compact);  // start-up only
  int64_t head() const { return head_; }             // writer only
  bool prune_pending() const { return prune_to_ != 0; }  // writer only
  int64_t prune_to() const { return prune_to_; }          // writer only
  int64_t next_row_id() const { return next_row_id_; }
  void set_next_row_id(int64_t id) { next_row_id_ = id; }

 private:
  struct Version {
    int64_t rev = 0;
    int64_t create_rev = 0;
    int64_t version = 0;  // 0 = tombstone
    int64_t lease = 0;
    Value value;
    int64_t row_id = 0;
  };
  using History = std::vector<Version>;  // ascending rev
  using Index = std::map<std::string, History, std::less<>>;

  // Latest version of `h` at or below `rev`, or null. Tombstones are returned too.
  static const Version* At(const History& h, int64_t rev);
  // How many of the oldest versions of `h` no read at or after compaction revision `rev` sees:
  // all below the newest at or below `rev`, and that one too if it is a deletion.
  static size_t Unreadable(const History& h, int64_t rev);
  template <typename Fn>
  void ForEachInRange(const std::string& key, const std::string& end, Fn&& fn) const;
  template <typename Fn>
  void ForEachInRangeMutable(const std::string& key, const std::string& end, Fn&& fn);
  static KeyValue ToKv(const std::string& key, const Version& v, bool keys_only);
  Result<RangeResponse> RangeAt(const RangeRequest& req, int64_t rev) const;

  Lessor* lessor_;
  mutable std::shared_mutex mu_;
  Index index_;                // guarded by mu_
  std::deque<LogEntry> log_;   // guarded by mu_; revisions >= compact_, ascending
  int64_t head_ = 1;           // writer only: newest applied revision (>= visible_)
  int64_t next_row_id_ = 1;    // writer only
  std::atomic<int64_t> visible_{1};
  std::atomic<int64_t> compact_{0};
  // Writer only: the log revisions below it still have keys to prune (see Prune); 0 when none.
  int64_t prune_to_ = 0;
  std::atomic<int64_t> live_keys_{0};
};

}  // namespace kite::datastore
