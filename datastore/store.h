// Store: the revisioned, watchable key-value store with etcd v3 semantics that the etcd gRPC
// service and (in-process) the Kubernetes API server are built on.
//
// Contract
// - Revisions: the store starts at revision 1. Every write transaction that changes at least one
//   key gets the next revision; all of its changes share it. Reads see a consistent revision.
// - Durability: a write's callback runs only after the change is durable (fsync'd) unless the
//   store was opened with Durability::kRelaxed. A read never returns data that is not durable —
//   except heartbeats (StoreOptions::heartbeat_prefixes), whose store on disk is deferred.
// - Threading: every method is thread-safe. Reads (Range, Watcher::Next, lease queries) never
//   wait for a disk write. Write callbacks run on the store's writer thread: keep them short.
// - Errors: etcd's statuses from errors.h, byte-exact. A write that cannot be stored for lack of
//   space (the quota, a full disk) gets NoSpace() and changes nothing; see NoSpaceAlarm.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "base/status.h"
#include "datastore/types.h"

namespace kite::datastore {

enum class Durability {
  kStrict,   // default: fsync before acknowledging, like etcd
  kRelaxed,  // opt-in: SQLite synchronous=NORMAL in WAL; a power loss may drop the newest commits
};

struct StoreOptions {
  std::string data_dir;  // the database lives at <data_dir>/state.db
  Durability durability = Durability::kStrict;
  // Automatic compaction: every `compaction_interval_ms` compact away revisions older than the
  // newest `compaction_retain_revisions` (0 interval disables). The Compact call works always.
  int64_t compaction_interval_ms = 60'000;
  int64_t compaction_retain_revisions = 10'000;
  // Heartbeats: a write transaction whose changes all fall under these key prefixes (node
  // heartbeats and leader election: Leases) is visible and answered at once but reaches the disk
  // with the next other write, or `heartbeat_flush_ms` after the oldest one waiting, or at a
  // clean stop. A heartbeat says "I was alive at T" and is rewritten every few seconds; storing
  // each with an fsync was most of what an idle cluster wrote to its SD card. What a power loss
  // costs: the heartbeats of the last flush interval (holders renew within seconds of the
  // restart; a node whose lease looks old is only marked NotReady if it stays silent), never a
  // user's write. Revisions never go backwards: after an unclean stop the revision jumps past
  // any that a lost heartbeat may have had (kMaxHeartbeatRows).
  std::vector<std::string> heartbeat_prefixes;
  int64_t heartbeat_flush_ms = 300'000;
  // Group commit: at most this many write requests share one transaction.
  int max_batch = 1024;
  // etcd's --quota-backend-bytes: a write that would add data (a put, a lease grant) while the
  // database files (state.db + WAL) are past this size is refused with NoSpace() and raises the
  // NOSPACE alarm; deletes and compactions still pass, so space can be won back. 0 means
  // kDefaultQuotaBytes, a negative value disables the quota.
  int64_t quota_bytes = 0;
  // Lease deadlines and the compaction interval are read on this clock (tests pass a FakeClock);
  // never null.
  const Clock* clock = Clock::Real();
};

inline constexpr int64_t kDefaultQuotaBytes = int64_t{2} << 30;  // etcd's default, 2 GiB

struct StoreStatus {
  int64_t revision = 0;
  int64_t compact_revision = 0;
  int64_t db_size = 0;         // bytes on disk: database file + WAL
  int64_t db_size_in_use = 0;  // bytes of pages holding data
  uint64_t cluster_id = 0;
  uint64_t member_id = 0;
  int64_t keys = 0;            // live keys
  bool nospace_alarm = false;  // see Store::NoSpaceAlarm
};

// A watcher pulls its events; nothing is buffered per watcher, so a slow consumer costs no
// memory. Events come in revision order, a revision never split across two Next() calls.
class Watcher {
 public:
  virtual ~Watcher() = default;

  struct Batch {
    std::vector<Event> events;
    // Non-zero when the watcher's next revision was compacted away before it read it: the
    // watch is over and must be cancelled with this compact revision (etcd semantics).
    int64_t compact_revision = 0;
    // True when this batch reached the newest revision: the watcher is caught up and armed, as
    // after an empty batch, so asking again before the wake callback fires returns nothing.
    bool caught_up = false;
  };
  // Up to about `max_events` events (a whole revision may exceed it). Empty when caught up; the
  // wake callback given to Store::Watch then fires (once) when new matching events exist. A
  // non-empty batch that reaches the newest revision arms the callback too (caught_up).
  virtual Batch Next(size_t max_events) = 0;
  // Every event with a revision below this has been returned by Next().
  virtual int64_t next_revision() const = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  using TxnCallback = std::function<void(Result<TxnResponse>)>;
  using RevisionCallback = std::function<void(Result<int64_t>)>;
  using LeaseCallback = std::function<void(Result<LeaseInfo>)>;

  virtual Result<RangeResponse> Range(const RangeRequest& req) = 0;
  // Put, DeleteRange and Txn all go through Txn: a Put is a Txn with one success op.
  virtual void Txn(TxnRequest req, TxnCallback done) = 0;
  // Compacts history below `revision`. `done` runs when the compaction is recorded (durably);
  // with `physical` only once the rows are also removed from disk.
  virtual void Compact(int64_t revision, bool physical, RevisionCallback done) = 0;

  // id 0: the store picks one. TTL is raised to kMinLeaseTtl.
  virtual void LeaseGrant(int64_t id, int64_t ttl, LeaseCallback done) = 0;
  // Deletes the lease and every key attached to it (one revision). Result: the revision.
  virtual void LeaseRevoke(int64_t id, RevisionCallback done) = 0;
  // Refreshes the lease's expiry; result carries the granted TTL.
  virtual Result<LeaseInfo> LeaseKeepAlive(int64_t id) = 0;
  virtual Result<LeaseInfo> LeaseTimeToLive(int64_t id, bool keys) = 0;
  virtual std::vector<int64_t> Leases() = 0;

  // Starts a watch. Errors: Compacted() is not returned here; a compacted start is reported by
  // the first Next() (compact_revision set), FutureRev is not an error (etcd waits for it).
  // `wake` is called (from any thread, possibly the writer's) when Next() would return events
  // after it returned none; it must not call back into the store synchronously.
  virtual std::unique_ptr<Watcher> Watch(const WatchOptions& opts, std::function<void()> wake) = 0;

  // The newest visible revision; cheap (an atomic read), unlike Status().
  virtual int64_t CurrentRevision() const = 0;
  virtual StoreStatus Status() = 0;
  // Hash of the MVCC state up to `revision` (0 = latest): equal stores give equal hashes.
  virtual Result<uint32_t> HashKV(int64_t revision, int64_t* hash_revision) = 0;
  // Writes a consistent copy of the database to `path`.
  virtual kite::Status Snapshot(const std::string& path) = 0;
  virtual kite::Status Defragment() = 0;

  // etcd's NOSPACE alarm: raised when a write was refused for lack of space — past the quota,
  // or the disk is full (then every request of the failed commit got NoSpace() and none of
  // them changed anything). Reads and watches go on meanwhile. Unlike etcd, the alarm also
  // clears itself when a write is stored again (space came back: compaction shrank the file,
  // or the disk was freed), so writes resume without `etcdctl alarm disarm`.
  virtual bool NoSpaceAlarm() const = 0;
  virtual void SetNoSpaceAlarm(bool raised) = 0;  // etcd's Alarm ACTIVATE / DEACTIVATE

  // Synchronous conveniences for tests and tools (block the calling thread; never call them
  // from a write callback).
  Result<TxnResponse> TxnSync(TxnRequest req);
  Result<PutResponse> Put(const std::string& key, const std::string& value, int64_t lease = 0);
  Result<DeleteRangeResponse> Delete(const std::string& key, const std::string& range_end = "");
  Result<int64_t> CompactSync(int64_t revision, bool physical = false);
  Result<LeaseInfo> LeaseGrantSync(int64_t id, int64_t ttl);
  Result<int64_t> LeaseRevokeSync(int64_t id);
};

// Opens (creating if needed) the SQLite-backed store under options.data_dir and recovers its
// state. Starts the writer, compaction and lease-expiry threads; they stop on destruction.
Result<std::unique_ptr<Store>> OpenSqliteStore(const StoreOptions& options);

}  // namespace kite::datastore
