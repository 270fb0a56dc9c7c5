#include "datastore/writer.h"

#include <sched.h>

#include <algorithm>
#include <future>

#include "base/log.h"
#include "base/thread_name.h"
#include "datastore/errors.h"
#include "datastore/store_metrics.h"

namespace kite::datastore {
namespace {

// A compaction prunes the in-memory index in steps (Mvcc::WriteBatch::Prune) after batches: the
// keys of this many log revisions per step at least (about 0.1 ms); more when writes pause.
constexpr size_t kPruneChunk = 128;
constexpr size_t kPruneChunkIdle = 4096;
// After a commit, the writer polls for the next write for up to kSpinMax before it sleeps on
// cv_, but only while writes have recently been arriving within that gap. Waking a sleeping
// thread costs 50-70 µs here (a futex wake, often an idle vCPU to bring back), which was a
// sixth of a put's latency at one client (the next put arrives ~150 µs after the previous
// ack). The poll yields the CPU on every turn, so runnable threads are not starved, and a
// sparse load (gaps over kSpinMax) never spins at all.
constexpr auto kSpinMax = std::chrono::microseconds(250);
// The quota's estimate of what a request adds (etcd's figures): a key's metadata on top of its
// key and value bytes, and a lease.
constexpr int64_t kKeyCost = 256;
constexpr int64_t kLeaseCost = 64;
// After the disk was found full, writes are tried again once this much is free: room for a
// full-size object (1.5 MiB) in both the database and its WAL, with some to spare.
constexpr int64_t kResumeFreeBytes = 4 << 20;

// Bytes a transaction may add, for the quota: its costlier branch's puts (nested ones too).
int64_t PutBytes(const TxnRequest& t) {
  auto branch = [](const std::vector<RequestOp>& ops) {
    int64_t n = 0;
    for (const RequestOp& op : ops) {
      if (auto* p = std::get_if<PutRequest>(&op.op)) {
        n += kKeyCost + static_cast<int64_t>(p->key.size() + (p->value ? p->value->size() : 0));
      } else if (auto* sub = std::get_if<std::shared_ptr<TxnRequest>>(&op.op)) {
        n += PutBytes(**sub);
      }
    }
    return n;
  };
  return std::max(branch(t.success), branch(t.failure));
}

}  // namespace

Writer::Writer(Options opts, Mvcc* mvcc, Lessor* lessor, WatchHub* hub, WriteBackend* backend)
    : opts_(opts), mvcc_(mvcc), lessor_(lessor), hub_(hub), backend_(backend) {}

void Writer::Start() {
  thread_ = std::thread([this] {
    SetThreadName("db-writer");
    Loop();
  });
}

void Writer::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Writer::Txn(TxnRequest req, Store::TxnCallback done) {
  Request r;
  r.kind = Request::Kind::kTxn;
  r.txn = std::move(req);
  r.txn_done = std::move(done);
  Enqueue(std::move(r));
}

void Writer::Compact(int64_t revision, bool physical, Store::RevisionCallback done) {
  Request r;
  r.kind = Request::Kind::kCompact;
  r.a = revision;
  r.physical = physical;
  r.rev_done = std::move(done);
  Enqueue(std::move(r));
}

void Writer::LeaseGrant(int64_t id, int64_t ttl, Store::LeaseCallback done) {
  Request r;
  r.kind = Request::Kind::kLeaseGrant;
  r.a = id;
  r.b = ttl;
  r.lease_done = std::move(done);
  Enqueue(std::move(r));
}

void Writer::LeaseRevoke(int64_t id, Store::RevisionCallback done) {
  Request r;
  r.kind = Request::Kind::kLeaseRevoke;
  r.a = id;
  r.rev_done = std::move(done);
  Enqueue(std::move(r));
}

kite::Status Writer::Defragment() {
  std::promise<kite::Status> p;
  auto f = p.get_future();
  Request r;
  r.kind = Request::Kind::kDefrag;
  r.status_done = [&p](kite::Status s) { p.set_value(std::move(s)); };
  Enqueue(std::move(r));
  return f.get();
}

void Writer::Enqueue(Request r) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      queue_.push_back(std::move(r));
      queued_.store(queue_.size(), std::memory_order_release);
      cv_.notify_one();
      return;
    }
  }
  Answer(r, errors::Stopped());
}

void Writer::Loop() {
  std::vector<Request> batch;
  auto idle_since = Clock::now();           // when the last batch finished
  auto last_gap = Clock::duration::max();   // how long the writer then waited for work
  for (;;) {
    const bool waited = queued_.load(std::memory_order_acquire) == 0;
    if (waited && last_gap < kSpinMax) {
      while (queued_.load(std::memory_order_acquire) == 0 && Clock::now() - idle_since < kSpinMax) {
        sched_yield();
      }
    }
    {
      std::unique_lock lock(mu_);
      const std::function<bool()> has_work = [&] { return stopping_ || !queue_.empty(); };
      backend_->WaitForWork(lock, cv_, has_work, !physical_waiters_.empty());
      if (queue_.empty() && stopping_) break;
      // Take everything waiting (up to max_batch): these share one transaction and one fsync.
      size_t n = std::min(queue_.size(), static_cast<size_t>(std::max(1, opts_.max_batch)));
      batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.begin() + n));
      queue_.erase(queue_.begin(), queue_.begin() + n);
      queued_.store(queue_.size(), std::memory_order_release);
      last_gap = waited ? Clock::now() - idle_since : Clock::duration::zero();
    }
    ApplyBatch(batch);
    batch.clear();
    idle_since = Clock::now();
  }
}

void Writer::ApplyBatch(std::vector<Request>& batch) {
  using Kind = Request::Kind;
  // Defragment runs alone: a backend may not compact its files inside a transaction.
  if (batch.size() == 1 && batch[0].kind == Kind::kDefrag) {
    batch[0].status_done(backend_->DefragmentFiles());
    return;
  }
  std::vector<Request> later;  // defrag requests that arrived inside a batch
  std::vector<LogRow> rows;
  std::vector<std::pair<int64_t, int64_t>> lease_puts;
  std::vector<int64_t> lease_dels;
  std::vector<LeaseUndo> lease_undo;  // grants and revokes in order, for UndoBatch
  std::vector<Result<TxnResponse>> txn_results;
  std::vector<Result<int64_t>> rev_results;
  std::vector<Result<LeaseInfo>> lease_results;
  const int64_t compact_before = mvcc_->compact_revision();
  const int64_t prune_before = mvcc_->prune_to();
  // The quota (etcd's check: current size + what the request adds). The size is read once per
  // batch; the batch's own additions are summed as they are accepted.
  int64_t quota_used = opts_.quota > 0 ? backend_->FileBytes() : 0;
  bool refused = false;  // some request was refused for the quota
  bool added = false;    // some request that adds data was accepted
  // The disk was full: writes that add data wait until it has room again (writer.h).
  const bool disk_still_full = disk_full_ && [&] {
    const int64_t free_bytes = backend_->FreeBytes();
    return free_bytes >= 0 && free_bytes < kResumeFreeBytes;
  }();
  auto over_quota = [&](int64_t cost) {
    if (disk_still_full && cost > 0) return true;
    if (opts_.quota <= 0 || cost == 0 || quota_used + cost <= opts_.quota) {
      quota_used += cost;
      added = added || cost > 0;
      return false;
    }
    refused = true;
    return true;
  };
  {
    Mvcc::WriteBatch wb(*mvcc_);
    for (Request& w : batch) {
      switch (w.kind) {
        case Kind::kTxn:
          if (over_quota(PutBytes(w.txn))) txn_results.push_back(errors::NoSpace());
          else txn_results.push_back(wb.Txn(w.txn, &rows));
          break;
        case Kind::kCompact:
          if (w.a <= mvcc_->compact_revision()) rev_results.push_back(errors::Compacted());
          else if (w.a > wb.head()) rev_results.push_back(errors::FutureRev());
          else {
            wb.StartCompact(w.a);  // pruned in steps after the batch
            rev_results.push_back(wb.head());
          }
          break;
        case Kind::kLeaseGrant: {
          int64_t id = w.a != 0 ? w.a : lessor_->NewId();
          if (lessor_->Exists(id)) lease_results.push_back(errors::LeaseExist());
          else if (w.b > kMaxLeaseTtl) lease_results.push_back(errors::LeaseTtlTooLarge());
          else if (over_quota(kLeaseCost)) lease_results.push_back(errors::NoSpace());
          else {
            int64_t ttl = std::max(w.b, kMinLeaseTtl);
            lessor_->Add(id, ttl);
            lease_puts.emplace_back(id, ttl);
            lease_undo.push_back({id, ttl, true});
            lease_results.push_back(LeaseInfo{id, ttl, ttl, {}});
          }
          break;
        }
        case Kind::kLeaseRevoke:
          if (!lessor_->Exists(w.a)) rev_results.push_back(errors::LeaseNotFound());
          else {
            // The TTL, to restore the lease if the commit fails.
            auto info = lessor_->TimeToLive(w.a, false);
            lease_undo.push_back({w.a, info.ok() ? info->granted_ttl : kMinLeaseTtl, false});
            auto keys = lessor_->Remove(w.a);
            std::sort(keys.begin(), keys.end());
            lease_dels.push_back(w.a);
            rev_results.push_back(wb.DeleteKeys(keys, &rows));
          }
          break;
        case Kind::kDefrag:
          later.push_back(std::move(w));
          break;
      }
    }
  }

  const auto t0 = Clock::now();
  if (auto s = backend_->CommitBatch(rows, lease_puts, lease_dels, mvcc_->compact_revision() != compact_before,
                                     batch.size());
      !s.ok()) {
    // Nothing of the batch is on disk: undo it in memory too, and answer every request of it
    // with the error (a request's answer may show an earlier request's write of the batch).
    UndoBatch(lease_undo, compact_before, prune_before);
    RaiseNoSpace("the disk is full: " + s.message(), true);
    for (Request& w : batch) Answer(w, errors::NoSpace());
    for (Request& w : later) Answer(w, errors::NoSpace());
    return;
  }
  if (disk_still_full) {
    // Refused above without trying; the alarm stays as it was raised.
  } else if (refused) {
    RaiseNoSpace("the database is past --quota-backend-bytes (" + std::to_string(opts_.quota) + ")");
  } else if (added && (!rows.empty() || !lease_puts.empty())) {
    ClearNoSpace();  // a put or grant was stored
  }
  auto& m = StoreMetrics::Get();
  m.commit_seconds.Observe(std::chrono::duration<double>(Clock::now() - t0).count());
  m.batch_size.Observe(static_cast<double>(batch.size()));

  const int64_t before = mvcc_->Publish();
  if (mvcc_->visible_revision() != before) hub_->Notify(before, mvcc_->visible_revision());

  size_t ti = 0, ri = 0, li = 0;
  for (Request& w : batch) {
    switch (w.kind) {
      case Kind::kTxn:
        m.txns.Increment();
        w.txn_done(std::move(txn_results[ti++]));
        break;
      case Kind::kCompact: {
        auto& r = rev_results[ri++];
        if (w.physical && r.ok() && !CompactionDone()) physical_waiters_.push_back(std::move(w));
        else w.rev_done(std::move(r));
        break;
      }
      case Kind::kLeaseRevoke:
        w.rev_done(std::move(rev_results[ri++]));
        break;
      case Kind::kLeaseGrant:
        w.lease_done(std::move(lease_results[li++]));
        break;
      case Kind::kDefrag:
        break;
    }
  }
  if (mvcc_->prune_pending()) {
    // After the answers, so no write of this batch waits for it.
    std::vector<int64_t> pruned;
    bool more;
    {
      Mvcc::WriteBatch wb(*mvcc_);
      // Twice the revisions this batch wrote, at least: pruning outpaces any write load. (A fixed
      // kPruneChunk let batches of 256 writes outrun it: one 256-client run had an 85 ms p99.)
      more = wb.Prune(batch.empty() ? kPruneChunkIdle : std::max(kPruneChunk, 2 * batch.size()), &pruned);
    }
    backend_->RowsCompacted(std::move(pruned), !more);
  }
  if (backend_->AfterBatch(!physical_waiters_.empty())) {
    for (Request& w : physical_waiters_) w.rev_done(mvcc_->visible_revision());
    physical_waiters_.clear();
  }
  for (Request& w : later) {
    std::vector<Request> one;
    one.push_back(std::move(w));
    ApplyBatch(one);
  }
}

void Writer::UndoBatch(const std::vector<LeaseUndo>& lease_undo, int64_t compact_before, int64_t prune_before) {
  // Leases first, newest change first; then the index, whose rollback re-attaches keys to the
  // leases they had (a revoked lease must exist again by then).
  for (auto it = lease_undo.rbegin(); it != lease_undo.rend(); ++it) {
    if (it->granted) (void)lessor_->Remove(it->id);
    else lessor_->Add(it->id, it->ttl);
  }
  Mvcc::WriteBatch wb(*mvcc_);
  wb.Rollback();
  wb.RestoreCompaction(compact_before, prune_before);
}

void Writer::SetNoSpaceAlarm(bool raised) {
  if (raised) RaiseNoSpace("activated by request");
  else ClearNoSpace();
}

void Writer::RaiseNoSpace(const std::string& why, bool disk) {
  if (disk) disk_full_ = true;
  if (!nospace_alarm_.exchange(true)) {
    KITE_LOG(0) << "datastore: NOSPACE alarm raised, writes are refused until space is back"
                << (disk ? " (" + std::to_string(kResumeFreeBytes >> 20) + " MiB free)" : std::string()) << ": " << why;
  }
}

void Writer::ClearNoSpace() {
  disk_full_ = false;
  if (nospace_alarm_.exchange(false)) KITE_LOG(0) << "datastore: NOSPACE alarm cleared, writes are stored again";
}

void Writer::Answer(Request& r, const kite::Status& s) {
  if (r.txn_done) r.txn_done(s);
  if (r.rev_done) r.rev_done(s);
  if (r.lease_done) r.lease_done(s);
  if (r.status_done) r.status_done(s);
}

}  // namespace kite::datastore
