#include "datastore/sqlite/sqlite_store.h"

#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <optional>
#include <random>
#include <thread>

#include "base/log.h"
#include "base/thread_name.h"
#include "datastore/errors.h"
#include "datastore/lessor.h"
#include "datastore/mvcc.h"
#include "datastore/private_dir.h"
#include "datastore/sqlite/sqlite_db.h"
#include "datastore/sqlite/sqlite_store_impl.h"
#include "datastore/store_metrics.h"
#include "datastore/validate.h"
#include "datastore/watch_hub.h"

namespace kite::datastore {
namespace sqlite_internal {
void SqliteStore::Fatal(const kite::Status& s) {
  KITE_LOG(0) << "FATAL datastore write failed, stopping to protect the data: " << s.message();
  std::abort();
}

kite::Status SqliteStore::Init() {
  if (auto s = MakePrivateDir(opts_.data_dir); !s.ok()) return s;
  path_ = (fs::path(opts_.data_dir) / "state.db").string();
  // Created 0600 whatever the umask: SQLite gives the -wal and -shm files it creates the
  // database file's mode.
  if (int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); fd >= 0) ::close(fd);
  auto db = SqliteDb::Open(path_);
  if (!db.ok()) return db.status();
  db_ = std::move(db.value());
  const char* sync = opts_.durability == Durability::kStrict ? "FULL" : "NORMAL";
  // auto_vacuum only takes effect on a new file, and setting it writes the header page even
  // when it is unchanged: a restart on a full disk failed right there.
  auto pages = db_->QueryInt("PRAGMA page_count");
  if (!pages.ok()) return pages.status();
  if (*pages == 0) {
    if (auto s = db_->Exec("PRAGMA auto_vacuum=INCREMENTAL"); !s.ok()) return s;
  }
  for (const std::string& sql : {
           std::string("PRAGMA journal_mode=WAL"),
           std::string("PRAGMA synchronous=") + sync,
           std::string("PRAGMA journal_size_limit=16777216"),  // WAL truncated back to 16 MiB
           std::string("PRAGMA cache_size=-4096"),             // 4 MiB: we never read back
           // Checkpoints run on their own connection and thread (CheckpointLoop), so a commit
           // never pays for copying the WAL into the database file.
           std::string("PRAGMA wal_autocheckpoint=0"),
           std::string("CREATE TABLE IF NOT EXISTS kv_log(id INTEGER PRIMARY KEY, rev INTEGER NOT NULL, "
                       "sub INTEGER NOT NULL, key BLOB NOT NULL, value BLOB, create_rev INTEGER NOT NULL, "
                       "version INTEGER NOT NULL, lease INTEGER NOT NULL)"),
           std::string("CREATE TABLE IF NOT EXISTS lease(id INTEGER PRIMARY KEY, ttl INTEGER NOT NULL)"),
           std::string("CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL)"),
       }) {
    if (auto s = db_->Exec(sql); !s.ok()) return s;
  }
  if (auto s = Recover(); !s.ok()) return s;
  if (auto s = RecoverHeartbeatState(); !s.ok()) return s;
  insert_row_ = std::make_unique<Statement>(*db_,
      "INSERT INTO kv_log(id, rev, sub, key, value, create_rev, version, lease) VALUES(?,?,?,?,?,?,?,?)");
  delete_row_ = std::make_unique<Statement>(*db_, "DELETE FROM kv_log WHERE id=?");
  insert_lease_ = std::make_unique<Statement>(*db_, "INSERT OR REPLACE INTO lease(id, ttl) VALUES(?,?)");
  delete_lease_ = std::make_unique<Statement>(*db_, "DELETE FROM lease WHERE id=?");
  set_meta_ = std::make_unique<Statement>(*db_, "INSERT OR REPLACE INTO meta(name, value) VALUES(?,?)");
  for (auto* st : {insert_row_.get(), delete_row_.get(), insert_lease_.get(), delete_lease_.get(), set_meta_.get()}) {
    if (!st->ok()) return db_->Error("prepare");
  }
  auto sdb = SqliteDb::Open(path_, /*read_only=*/true);
  if (!sdb.ok()) return sdb.status();
  status_db_ = std::move(sdb.value());
  auto cdb = SqliteDb::Open(path_);
  if (!cdb.ok()) return cdb.status();
  checkpoint_db_ = std::move(cdb.value());
  // A connection opens the WAL only with its first read; until then SQLite 3.40's
  // sqlite3_wal_checkpoint_v2 on it returns SQLITE_OK and copies nothing (log = -1). So the
  // checkpointer reads once here, or every checkpoint would fall to the writer.
  if (auto s = checkpoint_db_->Exec("SELECT count(*) FROM meta"); !s.ok()) return s;
  sqlite3_wal_hook(db_->raw(), &SqliteStore::OnWalCommit, this);
  checkpointer_ = std::thread([this] {
    SetThreadName("db-checkpoint");
    CheckpointLoop();
  });
  writer_.Start();
  background_ = std::thread([this] {
    SetThreadName("db-background");
    BackgroundLoop();
  });
  return kite::Status::Ok();
}

kite::Status SqliteStore::Recover() {
  auto meta = [this](const char* name) -> Result<int64_t> {
    return db_->QueryInt(std::string("SELECT value FROM meta WHERE name='") + name + "'");
  };
  auto rev = meta("revision");
  auto compact = meta("compact_revision");
  auto cid = meta("cluster_id");
  auto mid = meta("member_id");
  for (auto* r : {&rev, &compact, &cid, &mid}) if (!r->ok()) return r->status();
  if (*cid == 0 || *mid == 0) {
    std::mt19937_64 rng{std::random_device{}()};
    cluster_id_ = rng() >> 1;
    member_id_ = rng() >> 1;
    if (auto s = db_->Exec("INSERT OR REPLACE INTO meta VALUES('cluster_id'," + std::to_string(cluster_id_) +
                           "),('member_id'," + std::to_string(member_id_) + ")");
        !s.ok()) {
      return s;
    }
  } else {
    cluster_id_ = static_cast<uint64_t>(*cid);
    member_id_ = static_cast<uint64_t>(*mid);
  }
  {
    Statement st(*db_, "SELECT id, ttl FROM lease");
    while (st.Step() == SQLITE_ROW) lessor_.Add(st.Int(0), st.Int(1));
  }
  int64_t rows = 0;
  {
    Mvcc::WriteBatch wb(mvcc_);
    Statement st(*db_, "SELECT id, rev, sub, key, value, create_rev, version, lease FROM kv_log ORDER BY rev, sub");
    if (!st.ok()) return db_->Error("recover");
    int rc;
    while ((rc = st.Step()) == SQLITE_ROW) {
      LogRow row;
      row.id = st.Int(0);
      row.rev = st.Int(1);
      row.sub = st.Int(2);
      row.key = st.Blob(3);
      row.version = st.Int(6);
      if (row.version != 0) row.value = std::make_shared<const std::string>(st.Blob(4));
      row.create_rev = st.Int(5);
      row.lease = st.Int(7);
      wb.Replay(row);
      ++rows;
    }
    if (rc != SQLITE_DONE) return db_->Error("recover");
    if (*compact > 0) {
      // Finish a compaction that a crash interrupted: its dead rows are removed by the writer.
      std::vector<int64_t> dead;
      wb.Compact(*compact, &dead);
      dead_rows_.assign(dead.begin(), dead.end());
    }
  }
  mvcc_.SetRevisions(std::max<int64_t>(*rev, 1), *compact);
  // Re-attach live keys to their leases.
  RangeRequest all;
  all.key = std::string(1, '\0');
  all.range_end = std::string(1, '\0');
  all.keys_only = true;
  if (auto live = mvcc_.Range(all); live.ok()) {
    for (const auto& kv : live->kvs) if (kv.lease != 0) lessor_.Attach(kv.lease, kv.key);
  }
  KITE_LOG(0) << "datastore: recovered " << rows << " rows, revision " << mvcc_.visible_revision()
              << ", compacted at " << mvcc_.compact_revision() << ", " << mvcc_.live_keys() << " keys";
  return kite::Status::Ok();
}

kite::Status SqliteStore::RecoverHeartbeatState() {
  auto state = db_->QueryInt("SELECT value FROM meta WHERE name='heartbeat_state'");
  if (!state.ok()) return state.status();
  if (*state != 1) return kite::Status::Ok();
  // The last run had answered heartbeats that were not on disk when it stopped: their revisions
  // may have been seen. Start past every one it could have handed out, so none is handed out
  // twice (a client resuming a watch from one of them would miss the writes that reused it).
  mvcc_.SetRevisions(mvcc_.head() + static_cast<int64_t>(kMaxHeartbeatRows), mvcc_.compact_revision());
  KITE_LOG(0) << "datastore: the last run stopped before storing its latest heartbeats; revision moved on to "
              << mvcc_.head();
  heartbeats_marked_ = true;
  // Best effort: on a full disk this fails, the mark stays, and the next start moves on again.
  if (auto s = db_->Exec("INSERT OR REPLACE INTO meta VALUES('revision'," + std::to_string(mvcc_.head()) +
                         "),('heartbeat_state',2)");
      s.ok()) {
    heartbeats_marked_ = false;
  } else {
    KITE_LOG(0) << "datastore: recording the new revision failed: " << s.message();
  }
  return kite::Status::Ok();
}

bool SqliteStore::HeartbeatsOnly(const std::vector<LogRow>& rows) const {
  for (const LogRow& r : rows) {
    bool hb = false;
    for (const std::string& p : opts_.heartbeat_prefixes) hb = hb || r.key.starts_with(p);
    if (!hb) return false;
  }
  return true;
}

void SqliteStore::Close() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  bg_cv_.notify_all();
  ckpt_cv_.notify_all();
  writer_.Stop();
  if (checkpointer_.joinable()) checkpointer_.join();
  if (background_.joinable()) background_.join();
  if (db_) {
    // The writer has stopped: store the heartbeats still waiting, and clear the mark.
    if (!heartbeat_rows_.empty() || heartbeats_marked_) {
      std::vector<int64_t> none;
      auto s = WriteBatchRows(heartbeat_rows_, {}, {}, false, 0, /*heartbeat_state=*/2, &none);
      if (!s.ok()) KITE_LOG(0) << "datastore: storing the last heartbeats at stop failed: " << s.message();
    }
    (void)db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
}

void SqliteStore::WaitForWork(std::unique_lock<std::mutex>& lock, std::condition_variable& cv,
                              const std::function<bool()>& has_work, bool physical_waiting) {
  while (CompactionDone() && truncate_due_ && !has_work()) {
    // Writes paused: once they have stayed paused for kIdleTruncate, give the WAL file back
    // (SQLITE_BUSY while the checkpointer runs: wait and try again).
    if (!cv.wait_for(lock, kIdleTruncate, has_work)) {
      lock.unlock();
      int log = 0, done = 0;
      if (Checkpoint(*db_, SQLITE_CHECKPOINT_TRUNCATE, &log, &done) == SQLITE_OK) {
        truncate_due_ = false;
        WalStartedOver();
      }
      lock.lock();
    }
  }
  if (CompactionDone()) {
    // Waiting heartbeats bound the sleep: they are stored by their deadline (an empty batch).
    if (heartbeat_rows_.empty()) cv.wait(lock, has_work);
    else cv.wait_until(lock, heartbeat_since_ + std::chrono::milliseconds(opts_.heartbeat_flush_ms), has_work);
  } else if (writer_.NoSpaceAlarm()) {
    // Out of space: the deletes alone retry now and then, not in a busy loop.
    cv.wait_for(lock, kNoSpaceRetry, has_work);
  } else if (dead_rows_.size() < kDeleteBacklog && !physical_waiting) {
    // Dead rows ride along with the next writes; deletes alone once writes pause.
    cv.wait_for(lock, kDeleteIdle, has_work);
  }
}

kite::Status SqliteStore::DefragmentFiles() {
  auto s = db_->Exec("VACUUM");
  if (s.ok()) s = db_->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return s;
}

kite::Status SqliteStore::CommitBatch(const std::vector<LogRow>& rows,
                                      const std::vector<std::pair<int64_t, int64_t>>& lease_puts,
                                      const std::vector<int64_t>& lease_dels, bool compact_changed, size_t batch_size) {
  // Heartbeats alone wait in memory (StoreOptions::heartbeat_prefixes), once the disk says that
  // some may be waiting (meta.heartbeat_state 1, stored with the first of them, see
  // RecoverHeartbeatState). Any transaction written anyway takes them along, older rows first,
  // and clears the mark. Only a key's newest heartbeat is stored: the ones it superseded would be
  // compacted away anyway (after a restart, a watch from between them starts at the newest).
  // With the NOSPACE alarm raised everything is written through, so a full disk shows.
  const bool others = !lease_puts.empty() || !lease_dels.empty() || compact_changed;
  const bool heartbeats_only = batch_size > 0 && !rows.empty() && !others && HeartbeatsOnly(rows) &&
                               !writer_.NoSpaceAlarm() && heartbeat_writes_ + rows.size() <= kMaxHeartbeatRows;
  if (heartbeats_only && heartbeats_marked_) {
    if (heartbeat_rows_.empty()) heartbeat_since_ = Clock::now();
    for (const LogRow& r : rows) {
      std::erase_if(heartbeat_rows_, [&](const LogRow& old) { return old.key == r.key; });
      heartbeat_rows_.push_back(r);
    }
    heartbeat_writes_ += rows.size();
    return kite::Status::Ok();
  }
  const bool heartbeats_due =
      !heartbeat_rows_.empty() &&
      (Clock::now() - heartbeat_since_ >= std::chrono::milliseconds(opts_.heartbeat_flush_ms) || !rows.empty() ||
       others || (!dead_rows_.empty() && !mvcc_.prune_pending()));
  if (rows.empty() && !others && !heartbeats_due && !heartbeat_rows_.empty()) return kite::Status::Ok();
  std::vector<LogRow> with_heartbeats;
  if (heartbeats_due) {
    with_heartbeats.reserve(heartbeat_rows_.size() + rows.size());
    with_heartbeats = heartbeat_rows_;
    with_heartbeats.insert(with_heartbeats.end(), rows.begin(), rows.end());
  }
  const std::vector<LogRow>& all = heartbeats_due ? with_heartbeats : rows;
  // 1: this heartbeat is stored now and the next ones may wait; 2: nothing waits any more.
  const int64_t heartbeat_state = heartbeats_only ? 1 : heartbeats_due || heartbeats_marked_ ? 2 : 0;
  // Fold a chunk of compaction deletes into this transaction: no extra fsync for them.
  const size_t chunk = batch_size == 0 ? kDeleteChunkIdle : batch_size == 1 ? kDeleteChunkSolo : kDeleteChunk;
  std::vector<int64_t> deleted;
  if (auto s = WriteBatchRows(all, lease_puts, lease_dels, compact_changed, chunk, heartbeat_state, &deleted);
      !s.ok()) {
    const int rc = sqlite3_extended_errcode(db_->raw());
    const int sys = sqlite3_system_errno(db_->raw());
    if (!sqlite3_get_autocommit(db_->raw())) (void)db_->Exec("ROLLBACK");
    if (!IsNoSpace(rc, sys)) Fatal(s);
    dead_rows_.insert(dead_rows_.begin(), deleted.begin(), deleted.end());
    return s;
  }
  if (!deleted.empty()) shrink_pending_ = true;
  if (heartbeats_due) {
    heartbeat_rows_.clear();
    heartbeat_writes_ = 0;
  }
  if (heartbeat_state != 0) heartbeats_marked_ = heartbeat_state == 1;
  return kite::Status::Ok();
}

void SqliteStore::RowsCompacted(std::vector<int64_t> row_ids, bool finished) {
  dead_rows_.insert(dead_rows_.end(), row_ids.begin(), row_ids.end());
  // The deletes wait for the whole compaction, then go in row order: each chunk of them then
  // touches few B-tree pages. (Rows sorted per step made every delete commit heavier, and
  // the put p99 worse than pruning all at once: bench/RESULTS.md, 2026-12-04 21:40.)
  if (finished) std::sort(dead_rows_.begin(), dead_rows_.end());
}

bool SqliteStore::AfterBatch(bool physical_waiting) {
  CatchUpWal();
  if (!CompactionDone()) return false;
  if (shrink_pending_ && FreePages()) {
    // All compacted rows are gone and their pages are free. The checkpoint that follows
    // (now, in the background) copies the shorter database, and the file shrinks; the WAL
    // file is truncated once writes pause.
    if (physical_waiting) {
      // An explicit physical compaction (etcdctl compact --physical) answers once the disk
      // space is back: copy and truncate now, while its caller waits.
      HoldCheckpointer hold(*this);
      int log = 0, done = 0;
      if (Checkpoint(*db_, SQLITE_CHECKPOINT_TRUNCATE, &log, &done) == SQLITE_OK) {
        WalStartedOver();
      }
    } else {
      truncate_due_ = true;
      checkpoint_now_.store(true, std::memory_order_relaxed);
      ckpt_cv_.notify_one();
    }
  }
  return !shrink_pending_;
}

kite::Status SqliteStore::WriteBatchRows(const std::vector<LogRow>& rows,
                                         const std::vector<std::pair<int64_t, int64_t>>& lease_puts,
                                         const std::vector<int64_t>& lease_dels, bool compact_changed, size_t chunk,
                                         int64_t heartbeat_state, std::vector<int64_t>* deleted) {
  if (auto s = db_->Exec("BEGIN IMMEDIATE"); !s.ok()) return s;
  for (const LogRow& r : rows) {
    auto& st = *insert_row_;
    st.Bind(1, r.id);
    st.Bind(2, r.rev);
    st.Bind(3, r.sub);
    st.Bind(4, std::string_view(r.key));
    if (r.version != 0 && r.value) st.Bind(5, std::string_view(*r.value));
    else st.BindNull(5);
    st.Bind(6, r.create_rev);
    st.Bind(7, r.version);
    st.Bind(8, r.lease);
    if (auto s = st.Run(); !s.ok()) return s;
  }
  for (auto [id, ttl] : lease_puts) {
    insert_lease_->Bind(1, id);
    insert_lease_->Bind(2, ttl);
    if (auto s = insert_lease_->Run(); !s.ok()) return s;
  }
  for (int64_t id : lease_dels) {
    delete_lease_->Bind(1, id);
    if (auto s = delete_lease_->Run(); !s.ok()) return s;
  }
  auto set_meta = [&](const char* name, int64_t v) {
    set_meta_->BindText(1, name);
    set_meta_->Bind(2, v);
    return set_meta_->Run();
  };
  if (compact_changed) {
    if (auto s = set_meta("compact_revision", mvcc_.compact_revision()); !s.ok()) return s;
  }
  if (heartbeat_state != 0) {
    if (auto s = set_meta("heartbeat_state", heartbeat_state); !s.ok()) return s;
  }
  while (!dead_rows_.empty() && !mvcc_.prune_pending() && deleted->size() < chunk) {
    delete_row_->Bind(1, dead_rows_.front());
    if (auto s = delete_row_->Run(); !s.ok()) return s;
    deleted->push_back(dead_rows_.front());
    dead_rows_.pop_front();
  }
  // Recovery takes the revision as max(meta.revision, newest row). Only deleting rows can take
  // away the newest row (a compacted deletion), so the revision is recorded exactly then —
  // ordinary commits skip rewriting the meta page.
  if (!deleted->empty()) {
    if (auto s = set_meta("revision", mvcc_.head()); !s.ok()) return s;
  }
  return db_->Exec("COMMIT");
}

bool SqliteStore::FreePages() {
  // Freeing pages is a write too: on a full disk it waits for a later batch.
  auto s = db_->Exec("PRAGMA incremental_vacuum");
  if (s.ok()) {
    shrink_pending_ = false;
    return true;
  }
  const int rc = sqlite3_extended_errcode(db_->raw());
  const int sys = sqlite3_system_errno(db_->raw());
  if (!sqlite3_get_autocommit(db_->raw())) (void)db_->Exec("ROLLBACK");
  if (!IsNoSpace(rc, sys)) Fatal(s);
  return false;
}

bool SqliteStore::IsNoSpace(int rc, int sys_errno) {
  // A failed fsync is never retried (the kernel may have dropped the dirty pages: the data on
  // disk is unknown), whatever errno it gave.
  if (rc == SQLITE_IOERR_FSYNC || rc == SQLITE_IOERR_DIR_FSYNC) return false;
  if ((rc & 0xff) == SQLITE_FULL || rc == SQLITE_IOERR_SHMSIZE) return true;
  return (rc & 0xff) == SQLITE_IOERR && (sys_errno == ENOSPC || sys_errno == EDQUOT);
}

}  // namespace sqlite_internal


Result<std::unique_ptr<Store>> OpenSqliteStore(const StoreOptions& options) {
  auto store = std::make_unique<sqlite_internal::SqliteStore>(options);
  if (auto s = store->Init(); !s.ok()) return s;
  return std::unique_ptr<Store>(std::move(store));
}

int64_t RunBackgroundPass(Store& store) { return static_cast<sqlite_internal::SqliteStore&>(store).BackgroundPass(); }

}  // namespace kite::datastore
