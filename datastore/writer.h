// Writer: the one writer thread of a Store, with group commit, whatever the backend that makes
// the writes durable (DESIGN.md: "many requests, one transaction and one fsync").
//
// Write requests (Txn, Compact, LeaseGrant, LeaseRevoke, Defragment) queue up from any thread.
// The writer thread takes all that are waiting (up to max_batch), applies them in order to the
// in-memory index (Mvcc, Lessor) at pending revisions, checks the quota, has the backend store
// the batch's changes in ONE transaction (WriteBackend::CommitBatch), then publishes the new
// revision to readers and watchers (WatchHub) and answers every request of the batch. Nothing
// of a batch is visible before its commit, so a read never returns data that is not durable.
//
// After a commit, the writer polls for the next request for a short while before it sleeps
// (kSpinMax in writer.cc): waking a sleeping thread costs more than the gap between the puts of
// one client. Compaction: a Compact request makes old revisions unreadable at once and prunes
// the index in steps after later batches; the pruned log rows go to the backend, which deletes
// them on disk at its own pace; a physical compaction is answered once the backend says the
// space is back (WriteBackend::AfterBatch).
//
// Errors: a commit that fails for lack of space (a full disk) is undone in memory too, every
// request of its batch gets NoSpace(), and the NOSPACE alarm is raised. While it is raised for
// a full disk, writes that add data are refused without trying until the filesystem has
// kResumeFreeBytes free again (WriteBackend::FreeBytes); the first one stored then clears it.
// Without that margin, a small write that fits in space a failed commit left behind would clear
// the alarm and the next one raise it again: clients would see it flap. A write past the quota
// gets NoSpace() alone. Any other failed write stops the process
// inside the backend (what the disk holds is then unknown). Requests after Stop() get Stopped().
//
// Threading: Enqueue-side methods are thread-safe. Callbacks and every WriteBackend call run on
// the writer thread. The Mvcc, Lessor and WatchHub are written only by the writer thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "base/status.h"
#include "datastore/lessor.h"
#include "datastore/mvcc.h"
#include "datastore/store.h"
#include "datastore/watch_hub.h"

namespace kite::datastore {

// What a backend does for the writer. Every call is made on the writer thread.
class WriteBackend {
 public:
  virtual ~WriteBackend() = default;

  // Stores one batch's changes durably in ONE transaction: `rows` appended to the log, leases
  // granted (id, ttl) and revoked, and the compact revision (mvcc.compact_revision()) when
  // `compact_changed`. `batch_size` is how many requests the batch holds (0: the writer had
  // nothing to do and runs the backend's upkeep alone). OK, or the error of a commit that
  // failed for lack of space: then nothing of it is stored and the backend has rolled its own
  // state back. Any other failure does not return: the backend stops the process.
  virtual kite::Status CommitBatch(const std::vector<LogRow>& rows,
                                   const std::vector<std::pair<int64_t, int64_t>>& lease_puts,
                                   const std::vector<int64_t>& lease_dels, bool compact_changed,
                                   size_t batch_size) = 0;
  // A Defragment request, run alone, outside any transaction.
  virtual kite::Status DefragmentFiles() = 0;
  // Bytes the store's files take now: what the quota measures (etcd's dbSize).
  virtual int64_t FileBytes() const = 0;
  // Bytes free for the store's files on their filesystem; -1 when unknown. Read only while the
  // disk was found full, to know when to try writing again.
  virtual int64_t FreeBytes() const { return -1; }
  // The log rows a step of compaction took out of the index (to delete from disk); `finished`:
  // the compaction has pruned its last step.
  virtual void RowsCompacted(std::vector<int64_t> row_ids, bool finished) = 0;
  // Compacted rows are still on disk.
  virtual bool RowsPending() const = 0;
  // After every batch, once its requests are answered: the backend's upkeep (checkpoints, giving
  // space back). `physical_waiting`: a physical compaction waits for its space. True when every
  // finished compaction's space is back (the writer then answers those waiting).
  virtual bool AfterBatch(bool physical_waiting) = 0;
  // Before taking the next batch, with `lock` (the queue's) held: waits on `cv` until
  // `has_work()` or until the backend wants a batch for its upkeep (the writer then takes what
  // is queued, possibly nothing). It may unlock `lock` for upkeep of its own while it waits,
  // and must hold it again when it returns.
  virtual void WaitForWork(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                           const std::function<bool()>& has_work, bool physical_waiting) = 0;
};

class Writer {
 public:
  struct Options {
    int max_batch = 1024;  // requests that share one transaction at most
    int64_t quota = 0;     // bytes; <= 0: no quota
  };
  // Borrows everything; they must outlive the writer. Call Start() to run the thread.
  Writer(Options opts, Mvcc* mvcc, Lessor* lessor, WatchHub* hub, WriteBackend* backend);
  ~Writer() { Stop(); }
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  void Start();
  // Takes what is queued, answers it, and stops the thread. Later requests get Stopped().
  void Stop();

  // Store's write calls (see store.h); `done` runs on the writer thread.
  void Txn(TxnRequest req, Store::TxnCallback done);
  void Compact(int64_t revision, bool physical, Store::RevisionCallback done);
  void LeaseGrant(int64_t id, int64_t ttl, Store::LeaseCallback done);
  void LeaseRevoke(int64_t id, Store::RevisionCallback done);
  kite::Status Defragment();  // blocks until done

  bool NoSpaceAlarm() const { return nospace_alarm_.load(); }
  void SetNoSpaceAlarm(bool raised);

 private:
  struct Request {
    enum class Kind { kTxn, kCompact, kLeaseGrant, kLeaseRevoke, kDefrag } kind = Kind::kTxn;
    TxnRequest txn;
    Store::TxnCallback txn_done;
    int64_t a = 0, b = 0;
    bool physical = false;
    Store::RevisionCallback rev_done;
    Store::LeaseCallback lease_done;
    std::function<void(kite::Status)> status_done;
  };
  using Clock = std::chrono::steady_clock;
  struct LeaseUndo {
    int64_t id = 0, ttl = 0;
    bool granted = false;  // else revoked
  };

  void Enqueue(Request r);
  void Loop();
  void ApplyBatch(std::vector<Request>& batch);
  // After a failed commit: puts memory back to what the disk holds.
  void UndoBatch(const std::vector<LeaseUndo>& lease_undo, int64_t compact_before, int64_t prune_before);
  // No compaction has versions left to prune or rows left to delete.
  bool CompactionDone() const { return !backend_->RowsPending() && !mvcc_->prune_pending(); }
  // `disk`: the disk was found full (not the quota): see kResumeFreeBytes.
  void RaiseNoSpace(const std::string& why, bool disk = false);
  void ClearNoSpace();
  static void Answer(Request& r, const kite::Status& s);

  const Options opts_;
  Mvcc* const mvcc_;
  Lessor* const lessor_;
  WatchHub* const hub_;
  WriteBackend* const backend_;
  std::atomic<bool> nospace_alarm_{false};
  std::atomic<bool> disk_full_{false};  // the alarm was raised by a failed commit (disarm clears it from any thread)

  std::mutex mu_;
  std::condition_variable cv_;       // wakes the writer
  std::vector<Request> queue_;       // guarded by mu_
  std::atomic<size_t> queued_{0};    // queue_.size(), read without mu_ by the writer's poll
  bool stopping_ = false;            // guarded by mu_
  std::vector<Request> physical_waiters_;  // writer only: physical compactions awaiting their space
  std::thread thread_;
};

}  // namespace kite::datastore
