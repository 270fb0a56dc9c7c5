// The SQLite store's internals, shared by its two source files: sqlite_store.cc (start-up,
// recovery, committing the writer's batches, running out of space) and sqlite_store_background.cc
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
#include "datastore/store_metrics.h"
#include "datastore/store.h"
#include "datastore/validate.h"
#include "datastore/watch_hub.h"
#include "datastore/writer.h"

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
// Heartbeat writes (StoreOptions::heartbeat_prefixes) waiting for the disk: at most this many
// (then they are stored), and after an unclean stop the revision jumps by as much, past any a
// lost heartbeat had.
inline constexpr size_t kMaxHeartbeatRows = 10000;
// With the NOSPACE alarm raised, compaction's deletes alone (no write waiting) retry this often.
inline constexpr auto kNoSpaceRetry = std::chrono::seconds(1);
// The Store on SQLite. Its writes go through the backend-neutral Writer (writer.h: queue, group
// commit, answers); as the Writer's backend it stores each batch in one SQLite transaction and
// keeps the files small (compaction's row deletes, WAL checkpoints, freeing pages).
class SqliteStore final : public Store, private WriteBackend {
 public:
  explicit SqliteStore(StoreOptions opts)
      : opts_(std::move(opts)),
        lessor_(opts_.clock),
        mvcc_(&lessor_),
        hub_(&mvcc_),
        writer_(Writer::Options{opts_.max_batch, opts_.quota_bytes == 0 ? kDefaultQuotaBytes : opts_.quota_bytes},
                &mvcc_, &lessor_, &hub_, this) {}
  ~SqliteStore() override { Close(); }

  kite::Status Init();

  Result<RangeResponse> Range(const RangeRequest& req) override {
    StoreMetrics::Get().ranges.Increment();
    return mvcc_.Range(req);
  }

  void Txn(TxnRequest req, TxnCallback done) override {
    if (auto s = ValidateTxn(req); !s.ok()) return done(s);
    writer_.Txn(std::move(req), std::move(done));
  }
  void Compact(int64_t revision, bool physical, RevisionCallback done) override {
    writer_.Compact(revision, physical, std::move(done));
  }
  void LeaseGrant(int64_t id, int64_t ttl, LeaseCallback done) override { writer_.LeaseGrant(id, ttl, std::move(done)); }
  void LeaseRevoke(int64_t id, RevisionCallback done) override { writer_.LeaseRevoke(id, std::move(done)); }

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
  kite::Status Defragment() override { return writer_.Defragment(); }
  bool NoSpaceAlarm() const override { return writer_.NoSpaceAlarm(); }
  void SetNoSpaceAlarm(bool raised) override { writer_.SetNoSpaceAlarm(raised); }

  // One pass of the background thread's work (sqlite_store.h: RunBackgroundPass).
  int64_t BackgroundPass();

 private:
  // WriteBackend (writer thread only).
  kite::Status CommitBatch(const std::vector<LogRow>& rows, const std::vector<std::pair<int64_t, int64_t>>& lease_puts,
                           const std::vector<int64_t>& lease_dels, bool compact_changed, size_t batch_size) override;
  kite::Status DefragmentFiles() override;
  int64_t FileBytes() const override { return DbBytes(); }
  int64_t FreeBytes() const override;
  void RowsCompacted(std::vector<int64_t> row_ids, bool finished) override;
  bool RowsPending() const override { return !dead_rows_.empty(); }
  bool AfterBatch(bool physical_waiting) override;
  void WaitForWork(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                   const std::function<bool()>& has_work, bool physical_waiting) override;

  void Close();
  void BackgroundLoop();
  void StartPassesLocked();  // pass_mu_ held: the interval and metrics timers start now
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
  // Writer only: one SQLite transaction with the batch's rows, lease changes, compaction meta
  // and a chunk of compaction deletes (the row ids taken from dead_rows_ go to *deleted), and
  // meta.heartbeat_state when `heartbeat_state` is not 0.
  // On failure the caller rolls back and puts *deleted back.
  kite::Status WriteBatchRows(const std::vector<LogRow>& rows, const std::vector<std::pair<int64_t, int64_t>>& lease_puts,
                              const std::vector<int64_t>& lease_dels, bool compact_changed, size_t chunk,
                              int64_t heartbeat_state, std::vector<int64_t>* deleted);
  // Writer only: every row falls under a heartbeat prefix.
  bool HeartbeatsOnly(const std::vector<LogRow>& rows) const;
  // meta.heartbeat_state 1 means answered heartbeats may be missing from the disk (absent or 2:
  // none are). At start-up after 1, the revision moves on past any they could have had.
  kite::Status RecoverHeartbeatState();
  // Writer only: no compaction has versions left to prune or rows left to delete.
  bool CompactionDone() const { return dead_rows_.empty() && !mvcc_.prune_pending(); }
  // Writer only: PRAGMA incremental_vacuum; false (shrink_pending_ stays) when the disk is full.
  bool FreePages();
  // A failed write that a later one can redo once space is back (disk full, quota of the
  // filesystem), unlike any other I/O error, which stops the process (Fatal).
  static bool IsNoSpace(int sqlite_extended_rc, int sys_errno);
  int64_t DbBytes() const;  // state.db + WAL, as etcd's dbSize
  void Fatal(const kite::Status& s);
  kite::Status Recover();

  StoreOptions opts_;
  std::string path_;
  Lessor lessor_;
  Mvcc mvcc_;
  WatchHub hub_;

  // Writer-thread state.
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<Statement> insert_row_, delete_row_, insert_lease_, delete_lease_, set_meta_;
  std::deque<int64_t> dead_rows_;                   // compacted rows still on disk
  std::vector<LogRow> heartbeat_rows_;              // answered heartbeats not yet on disk, newest per key
  size_t heartbeat_writes_ = 0;                     // heartbeat rows answered since the last store
  Clock::time_point heartbeat_since_{};             // when the oldest of them was answered
  bool heartbeats_marked_ = false;                  // meta.heartbeat_state is 1 on disk
  bool shrink_pending_ = false;

  // BackgroundPass's state, guarded by pass_mu_.
  std::mutex pass_mu_;
  bool pass_started_ = false;
  std::chrono::steady_clock::time_point next_compact_{}, next_metrics_{};
  std::deque<std::pair<std::chrono::steady_clock::time_point, int64_t>> seen_;  // (time, visible revision)

  std::mutex mu_;                  // guards stopping_ and the checkpointer's flags below
  std::condition_variable bg_cv_;  // wakes the background thread (stop only)
  bool stopping_ = false;          // guarded by mu_

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

  std::thread background_, checkpointer_;
  uint64_t cluster_id_ = 0, member_id_ = 0;
  std::atomic<int> compaction_queued_{0};  // an automatic compaction is in the queue

  // Last: constructed after, and stopped (Close) before, everything it borrows.
  Writer writer_;
};

}  // namespace kite::datastore::sqlite_internal
