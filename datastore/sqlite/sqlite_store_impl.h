// The SQLite store's internals, shared by its two source files: sqlite_store.cc (start-up,
// recovery, the writer and its batches, running out of space) and sqlite_store_background.cc
// (WAL checkpoints, the background thread: lease expiry, automatic compaction, metrics; status,
// hashes, snapshots). Not for use outside datastore/sqlite/: the public interface is store.h.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "datastore/lessor.h"
#include "datastore/mvcc.h"
#include "datastore/sqlite/sqlite_db.h"
#include "datastore/sqlite/store_metrics.h"
#include "datastore/store.h"
#include "datastore/validate.h"
#include "datastore/watch_hub.h"

namespace kite::datastore::sqlite_internal {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// Compaction's dead rows are deleted a chunk at a time inside write transactions, where they
// cost no extra fsync. A chunk makes its transaction longer, and every write that queues behind
// it waits that long: 2,000 rows per chunk put 20-28 ms into the put p99 at 16 clients
// (bench/RESULTS.md, 2026-12-04). A transaction of deletes alone runs only after writes have
// paused for kDeleteIdle, or when the backlog passes kDeleteBacklog rows; nobody is waiting
// then, so it takes a bigger chunk. A batch of one write means one client at a time: fewer,
// larger chunks then cost it less in total (each chunk rewrites its B-tree pages) and touch
// well under 1 % of its writes.
inline constexpr size_t kDeleteChunk = 50;
inline constexpr size_t kDeleteChunkSolo = 200;
inline constexpr size_t kDeleteChunkIdle = 500;
inline constexpr size_t kDeleteBacklog = 50000;
inline constexpr auto kDeleteIdle = std::chrono::milliseconds(5);
// A compaction prunes the in-memory index in steps (Mvcc::WriteBatch::Prune) after batches: the
// keys of this many log revisions per step at least (about 0.1 ms); more when writes pause.
inline constexpr size_t kPruneChunk = 128;
inline constexpr size_t kPruneChunkIdle = 4096;
// After a commit, the writer polls for the next write for up to kSpinMax before it sleeps on
// cv_, but only while writes have recently been arriving within that gap. Waking a sleeping
// thread costs 50-70 µs here (a futex wake, often an idle vCPU to bring back), which was a
// sixth of a put's latency at one client (the next put arrives ~150 µs after the previous
// ack). The poll yields the CPU on every turn, so runnable threads are not starved, and a
// sparse load (gaps over kSpinMax) never spins at all.
inline constexpr auto kSpinMax = std::chrono::microseconds(250);
inline constexpr int64_t kHistoryFactor = 10;  // see BackgroundLoop
// The WAL and its checkpoints. Copying the WAL into the database file (a checkpoint) runs on
// its own connection and thread (CheckpointLoop), PASSIVE, so writers do not wait for it. SQLite
// starts the WAL over at a write transaction only once every frame is copied, which a
// background checkpoint never achieves under a continuous load; so once the WAL passes
// kWalRestartPages and the checkpointer is within kRestartBehind frames of its end, the writer
// copies the rest itself between two batches (about a millisecond). Before this, the writer ran
// RESTART and TRUNCATE checkpoints that copied the whole WAL (the checkpointer, never having
// read the database, had copied nothing), and each stalled every write 5-15 ms, several times a
// second under a 16-client put load: kite's put p99 at 16 clients (bench/RESULTS.md, 2026-12-04
// 17:13). The WAL file itself is truncated after a compaction shrank the database, once writes
// have paused for kIdleTruncate; otherwise journal_size_limit bounds it.
inline constexpr int kCheckpointPages = 1000;  // checkpoint once the WAL holds this many pages (~4 MiB)
inline constexpr int kWalRestartPages = 2500;  // past this the writer catches the WAL up...
inline constexpr int kRestartBehind = 300;  // ...once the checkpointer is this close (or past twice the size)
inline constexpr auto kIdleTruncate = std::chrono::milliseconds(500);
// With the NOSPACE alarm raised, compaction's deletes alone (no write waiting) retry this often.
inline constexpr auto kNoSpaceRetry = std::chrono::seconds(1);
// The quota's estimate of what a request adds (etcd's figures): a key's metadata on top of its
// key and value bytes, and a lease.
inline constexpr int64_t kKeyCost = 256;
inline constexpr int64_t kLeaseCost = 64;

struct Work {
  enum class Kind { kTxn, kCompact, kLeaseGrant, kLeaseRevoke, kDefrag } kind = Kind::kTxn;
  TxnRequest txn;
  Store::TxnCallback txn_done;
  int64_t a = 0, b = 0;
  bool physical = false;
  Store::RevisionCallback rev_done;
  Store::LeaseCallback lease_done;
  std::function<void(Status)> status_done;
};

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(StoreOptions opts)
      : opts_(std::move(opts)),
        quota_(opts_.quota_bytes == 0 ? kDefaultQuotaBytes : opts_.quota_bytes),
        lessor_(opts_.clock),
        mvcc_(&lessor_),
        hub_(&mvcc_) {}
  ~SqliteStore() override { Close(); }

  kite::Status Init();

  Result<RangeResponse> Range(const RangeRequest& req) override {
    StoreMetrics::Get().ranges.Increment();
    return mvcc_.Range(req);
  }

  void Txn(TxnRequest req, TxnCallback done) override {
    if (auto s = ValidateTxn(req); !s.ok()) return done(s);
    Work w;
    w.kind = Work::Kind::kTxn;
    w.txn = std::move(req);
    w.txn_done = std::move(done);
    Enqueue(std::move(w));
  }

  void Compact(int64_t revision, bool physical, RevisionCallback done) override {
    Work w;
    w.kind = Work::Kind::kCompact;
    w.a = revision;
    w.physical = physical;
    w.rev_done = std::move(done);
    Enqueue(std::move(w));
  }

  void LeaseGrant(int64_t id, int64_t ttl, LeaseCallback done) override {
    Work w;
    w.kind = Work::Kind::kLeaseGrant;
    w.a = id;
    w.b = ttl;
    w.lease_done = std::move(done);
    Enqueue(std::move(w));
  }

  void LeaseRevoke(int64_t id, RevisionCallback done) override {
    Work w;
    w.kind = Work::Kind::kLeaseRevoke;
    w.a = id;
    w.rev_done = std::move(done);
    Enqueue(std::move(w));
  }

  Result<LeaseInfo> LeaseKeepAlive(int64_t id) override { return lessor_.KeepAlive(id); }
  Result<LeaseInfo> LeaseTimeToLive(int64_t id, bool keys) override { return lessor_.TimeToLive(id, keys); }
  std::vector<int64_t> Leases() override { return lessor_.List(); }

  std::unique_ptr<Watcher> Watch(const WatchOptions& opts, std::function<void()> wake) override {
    return hub_.Watch(opts, std::move(wake));
  }

  int64_t CurrentRevision() const override { return mvcc_.visible_revision(); }
  StoreStatus Status() override;
  Result<uint32_t> HashKV(int64_t revision, int64_t* hash_revision) override;
  kite::Status Snapshot(const std::string& path) override;
  kite::Status Defragment() override;
  bool NoSpaceAlarm() const override { return nospace_alarm_.load(); }
  void SetNoSpaceAlarm(bool raised) override;

 private:
  void Enqueue(Work w);
  void Close();
  void WriterLoop();
  void BackgroundLoop();
  void CheckpointLoop();
  static int OnWalCommit(void* self, sqlite3*, const char*, int pages);
  void CatchUpWal();  // writer only: see kWalRestartPages
  // After a checkpoint that copied every frame: the next write starts the WAL over.
  void WalStartedOver() {
    wal_pages_.store(0, std::memory_order_relaxed);
    backfilled_.store(0, std::memory_order_relaxed);
  }
  // Writer only: while one lives, the checkpointer starts no pass (and the current one is over),
  // so the writer's own checkpoint cannot get SQLITE_BUSY from it.
  class HoldCheckpointer {
   public:
    explicit HoldCheckpointer(SqliteStore& s);
    ~HoldCheckpointer();
    HoldCheckpointer(const HoldCheckpointer&) = delete;
    HoldCheckpointer& operator=(const HoldCheckpointer&) = delete;

   private:
    SqliteStore& s_;
  };
  static int Checkpoint(SqliteDb& db, int mode, int* log, int* done);
  void ApplyBatch(std::vector<Work>& batch);
  // Writer only: one SQLite transaction with the batch's rows, lease changes, compaction meta
  // and a chunk of compaction deletes (the row ids taken from dead_rows_ go to *deleted).
  // On failure the caller rolls back and puts *deleted back.
  kite::Status WriteBatchRows(const std::vector<LogRow>& rows, const std::vector<std::pair<int64_t, int64_t>>& lease_puts,
                              const std::vector<int64_t>& lease_dels, bool compact_changed, size_t chunk,
                              std::vector<int64_t>* deleted);
  struct LeaseUndo {
    int64_t id = 0, ttl = 0;
    bool granted = false;  // else revoked
  };
  // Writer only: after a failed commit, puts memory back to what the disk holds.
  void UndoBatch(const std::vector<LeaseUndo>& lease_undo, int64_t compact_before, int64_t prune_before);
  // Writer only: PRAGMA incremental_vacuum; false (shrink_pending_ stays) when the disk is full.
  bool FreePages();
  // A failed write that a later one can redo once space is back (disk full, quota of the
  // filesystem), unlike any other I/O error, which stops the process (Fatal).
  static bool IsNoSpace(int sqlite_extended_rc, int sys_errno);
  void RaiseNoSpace(const std::string& why);
  void ClearNoSpace();
  static void Answer(Work& w, const kite::Status& s);
  int64_t DbBytes() const;  // state.db + WAL, as etcd's dbSize
  void Fatal(const kite::Status& s);
  kite::Status Recover();

  StoreOptions opts_;
  const int64_t quota_;  // bytes; <= 0: no quota
  std::atomic<bool> nospace_alarm_{false};
  std::string path_;
  Lessor lessor_;
  Mvcc mvcc_;
  WatchHub hub_;

  // Writer-thread state.
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<Statement> insert_row_, delete_row_, insert_lease_, delete_lease_, set_meta_;
  std::deque<int64_t> dead_rows_;                   // compacted rows still on disk
  std::vector<Work> physical_waiters_;              // physical compactions awaiting CompactionDone()
  // Writer only: no compaction has versions left to prune or rows left to delete.
  bool CompactionDone() const { return dead_rows_.empty() && !mvcc_.prune_pending(); }
  bool shrink_pending_ = false;

  std::mutex mu_;
  std::condition_variable cv_;     // wakes the writer
  std::condition_variable bg_cv_;  // wakes the background thread (stop only)
  std::vector<Work> queue_;  // guarded by mu_
  std::atomic<size_t> queued_{0};  // queue_.size(), read without mu_ by the writer's poll
  bool stopping_ = false;    // guarded by mu_

  std::mutex status_mu_;
  std::unique_ptr<SqliteDb> status_db_;  // guarded by status_mu_; read-only page counts

  std::unique_ptr<SqliteDb> checkpoint_db_;  // checkpointer thread only
  std::atomic<int> wal_pages_{0};            // WAL size after the last commit
  std::atomic<int> backfilled_{0};           // WAL frames the last PASSIVE checkpoint copied
  std::atomic<bool> checkpoint_now_{false};  // the writer asks for a checkpoint below kCheckpointPages
  bool ckpt_running_ = false;                // guarded by mu_: the checkpointer is copying
  bool writer_checkpointing_ = false;        // guarded by mu_: the writer must copy; hold off
  std::condition_variable ckpt_idle_cv_;     // ckpt_running_ went false
  bool truncate_due_ = false;                // writer only: truncate the WAL once writes pause
  std::condition_variable ckpt_cv_;          // wakes the checkpointer

  std::thread writer_, background_, checkpointer_;
  uint64_t cluster_id_ = 0, member_id_ = 0;
  std::atomic<int> compaction_queued_{0};  // an automatic compaction is in the queue
};

}  // namespace kite::datastore::sqlite_internal
