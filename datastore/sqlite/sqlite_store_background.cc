// SqliteStore's WAL checkpoints and background thread (lease expiry, automatic compaction with
// its history window, metrics), and its status, hash, snapshot and defragment calls. See
// sqlite_store_impl.h; the writer and start-up are in sqlite_store.cc.
#include <algorithm>
#include <future>
#include <optional>

#include "base/log.h"
#include "base/fs.h"
#include "datastore/errors.h"
#include "datastore/sqlite/sqlite_store_impl.h"
#include "datastore/store_metrics.h"

namespace kite::datastore::sqlite_internal {

int SqliteStore::OnWalCommit(void* self, sqlite3*, const char*, int pages) {
  auto* store = static_cast<SqliteStore*>(self);
  store->wal_pages_.store(pages, std::memory_order_relaxed);
  // The WAL started over: nothing in it is copied yet.
  if (pages < store->backfilled_.load(std::memory_order_relaxed)) store->backfilled_.store(0, std::memory_order_relaxed);
  if (pages - store->backfilled_.load(std::memory_order_relaxed) >= kCheckpointPages) store->ckpt_cv_.notify_one();
  return SQLITE_OK;
}

void SqliteStore::CatchUpWal() {
  const int pages = wal_pages_.load(std::memory_order_relaxed);
  const int behind = pages - backfilled_.load(std::memory_order_relaxed);
  const bool over_bound = pages >= 2 * kWalRestartPages;
  if (pages < kWalRestartPages || (behind > kRestartBehind && !over_bound)) return;
  // Copy the last frames here, between two batches: with every frame copied, SQLite starts the
  // WAL over at the next write transaction. Near the checkpointer's end, a SQLITE_BUSY (at
  // once, without waiting: the checkpointer is copying) just means try after the next batch;
  // past twice the size the writer holds the checkpointer off and waits for its current pass.
  std::optional<HoldCheckpointer> hold;
  if (over_bound) hold.emplace(*this);
  int log = 0, done = 0;
  if (Checkpoint(*db_, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK && done == log) {
    WalStartedOver();
  }
}

SqliteStore::HoldCheckpointer::HoldCheckpointer(SqliteStore& s) : s_(s) {
  std::unique_lock lock(s_.mu_);
  s_.writer_checkpointing_ = true;
  s_.ckpt_idle_cv_.wait(lock, [&] { return !s_.ckpt_running_; });
}

SqliteStore::HoldCheckpointer::~HoldCheckpointer() {
  std::lock_guard lock(s_.mu_);
  s_.writer_checkpointing_ = false;
}

int SqliteStore::Checkpoint(SqliteDb& db, int mode, int* log, int* done) {
  // On a full disk every checkpoint fails (copying the WAL grows the database file) until
  // space is freed: log when that starts and ends, not each time.
  static std::atomic<int> failing{SQLITE_OK};
  int rc = sqlite3_wal_checkpoint_v2(db.raw(), nullptr, mode, log, done);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY) {
    if (failing.exchange(rc) != rc) KITE_LOG(0) << "datastore: checkpoint: " << sqlite3_errstr(rc);
  } else if (rc == SQLITE_OK && failing.exchange(SQLITE_OK) != SQLITE_OK) {
    KITE_LOG(0) << "datastore: checkpoints succeed again";
  }
  return rc;
}

void SqliteStore::CheckpointLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    ckpt_cv_.wait_for(lock, std::chrono::seconds(1));
    if (stopping_) break;
    const int pending = wal_pages_.load(std::memory_order_relaxed) - backfilled_.load(std::memory_order_relaxed);
    if (pending < kCheckpointPages && !checkpoint_now_.exchange(false, std::memory_order_relaxed)) continue;
    if (writer_checkpointing_) continue;
    ckpt_running_ = true;
    lock.unlock();
    // PASSIVE never blocks the writer; once it has copied everything, the writer's next commit
    // starts the WAL from its beginning again, so the file stops growing.
    int log = 0, done = 0;
    if (Checkpoint(*checkpoint_db_, SQLITE_CHECKPOINT_PASSIVE, &log, &done) == SQLITE_OK && done >= 0) {
      backfilled_.store(done, std::memory_order_relaxed);
    }
    lock.lock();
    ckpt_running_ = false;
    ckpt_idle_cv_.notify_all();
  }
}

void SqliteStore::BackgroundLoop() {
  {
    std::lock_guard pass_lock(pass_mu_);
    StartPassesLocked();  // the interval runs from the store's start
  }
  std::unique_lock lock(mu_);
  while (!stopping_) {
    bg_cv_.wait_for(lock, std::chrono::milliseconds(250));
    if (stopping_) break;
    lock.unlock();
    BackgroundPass();
    lock.lock();
  }
}

void SqliteStore::StartPassesLocked() {
  if (pass_started_) return;
  pass_started_ = true;
  const auto now = opts_.clock->SteadyNow();
  next_compact_ = now + std::chrono::milliseconds(opts_.compaction_interval_ms);
  next_metrics_ = now;
}

int64_t SqliteStore::BackgroundPass() {
  // The compaction interval and the metrics period are read on the store's clock (tests move a
  // FakeClock); the loop's wake-ups are real time. One pass at a time (the loop's, a test's).
  std::lock_guard pass_lock(pass_mu_);
  const kite::Clock* clock = opts_.clock;
  const auto interval = std::chrono::milliseconds(opts_.compaction_interval_ms);
  StartPassesLocked();
  const auto now = clock->SteadyNow();
  for (int64_t id : lessor_.TakeExpired()) {
    KITE_LOG(2) << "lease " << id << " expired";
    LeaseRevoke(id, [](Result<int64_t>) {});
  }
  // Compact on the timer, and also whenever history grows past kHistoryFactor × retain
  // revisions, so a write burst cannot grow the database without bound between two ticks;
  // either way keeping the newest `retain` revisions and the last interval's: automatic
  // compaction never goes past the revision that was current one interval ago (seen_: one
  // (time, visible revision) per pass over the last interval), so a continue token or a watch
  // resume stays good for at least that long (upstream compacts every 5 minutes to the revision
  // of the previous run). Revisions recovered at start-up count as written at the first pass.
  const int64_t visible = mvcc_.visible_revision();
  seen_.emplace_back(now, visible);
  while (seen_.size() > 1 && seen_[1].first <= now - interval) seen_.pop_front();
  const int64_t interval_floor = seen_.front().first <= now - interval ? seen_.front().second : 0;
  const int64_t target = std::min(visible - opts_.compaction_retain_revisions, interval_floor);
  const int64_t compacted = mvcc_.compact_revision();
  // Past the size trigger, compact only once the target moved by `retain` revisions: the
  // interval floor moves a little every tick.
  const bool history_large = opts_.compaction_retain_revisions > 0 &&
      visible - compacted > kHistoryFactor * opts_.compaction_retain_revisions &&
      target - compacted >= opts_.compaction_retain_revisions;
  int64_t queued = 0;
  if (opts_.compaction_interval_ms > 0 && (now >= next_compact_ || history_large) &&
      compaction_queued_.load() == 0) {
    next_compact_ = now + interval;
    // On the timer, only once there is history worth a transaction (a tenth of `retain`): an
    // idle cluster's heartbeats alone then compact rarely, instead of one disk write a minute.
    const int64_t worth = std::max<int64_t>(1, opts_.compaction_retain_revisions / 10);
    if (target > compacted && (target - compacted >= worth || history_large)) {
      compaction_queued_.store(1);
      KITE_LOG(1) << "datastore: compacting at revision " << target;
      Compact(target, false, [this](Result<int64_t>) { compaction_queued_.store(0); });
      queued = target;
    }
  }
  if (now >= next_metrics_) {
    next_metrics_ = now + std::chrono::seconds(5);
    auto st = Status();
    auto& m = StoreMetrics::Get();
    m.db_size.Set(static_cast<double>(st.db_size));
    m.db_in_use.Set(static_cast<double>(st.db_size_in_use));
    m.keys.Set(static_cast<double>(st.keys));
    m.current_rev.Set(static_cast<double>(st.revision));
    m.compact_rev.Set(static_cast<double>(st.compact_revision));
    m.watchers.Set(static_cast<double>(hub_.size()));
  }
  return queued;
}

StoreStatus SqliteStore::Status() {
  StoreStatus s;
  s.revision = mvcc_.visible_revision();
  s.compact_revision = mvcc_.compact_revision();
  s.cluster_id = cluster_id_;
  s.member_id = member_id_;
  s.keys = mvcc_.live_keys();
  s.db_size = DbBytes();
  s.nospace_alarm = writer_.NoSpaceAlarm();
  std::lock_guard lock(status_mu_);
  auto pages = status_db_->QueryInt("PRAGMA page_count");
  auto free_pages = status_db_->QueryInt("PRAGMA freelist_count");
  auto page_size = status_db_->QueryInt("PRAGMA page_size");
  if (pages.ok() && free_pages.ok() && page_size.ok()) s.db_size_in_use = (*pages - *free_pages) * *page_size;
  return s;
}

Result<uint32_t> SqliteStore::HashKV(int64_t revision, int64_t* hash_revision) {
  int64_t rev = revision <= 0 ? mvcc_.visible_revision() : revision;
  if (rev > mvcc_.visible_revision()) return errors::FutureRev();
  if (rev < mvcc_.compact_revision()) return errors::Compacted();
  if (hash_revision) *hash_revision = rev;
  return mvcc_.Hash(rev);
}

kite::Status SqliteStore::Snapshot(const std::string& path) {
  // A separate connection reads a consistent WAL snapshot while writes go on.
  auto db = SqliteDb::Open(path_, /*read_only=*/true);
  if (!db.ok()) return db.status();
  std::error_code ec;
  fs::remove(path, ec);
  Statement st(**db, "VACUUM INTO ?");
  if (!st.ok()) return (*db)->Error("snapshot");
  st.BindText(1, path);
  return st.Run();
}

int64_t SqliteStore::DbBytes() const {
  int64_t n = 0;
  std::error_code ec;
  for (const char* suffix : {"", "-wal"}) {
    auto size = files::FileSize(path_ + suffix, ec);
    if (!ec) n += static_cast<int64_t>(size);
  }
  return n;
}

int64_t SqliteStore::FreeBytes() const {
  std::error_code ec;
  auto space = fs::space(fs::path(path_).parent_path(), ec);
  return ec ? -1 : static_cast<int64_t>(space.available);
}

}  // namespace kite::datastore::sqlite_internal
