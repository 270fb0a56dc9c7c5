// SqliteStore: the default Store — the Mvcc index in memory, SQLite (WAL) as its durable log.
//
// Schema (state.db):
//   kv_log(id INTEGER PRIMARY KEY, rev, sub, key BLOB, value BLOB, create_rev, version, lease)
//       one row per change; version 0 marks a deletion. Rows superseded before the compaction
//       revision are deleted by compaction, so the table holds live keys + the history window.
//   lease(id INTEGER PRIMARY KEY, ttl)      granted, not yet revoked leases
//   meta(name TEXT PRIMARY KEY, value)      revision, compact_revision, cluster_id, member_id
//
// Write path (one writer thread, group commit): requests queue up; the writer takes all that are
// waiting (up to max_batch), applies them to the Mvcc at pending revisions, inserts their rows in
// ONE SQLite transaction, commits (one fsync with synchronous=FULL), then publishes the new
// revision to readers and watchers and runs the callbacks. Nobody reads SQLite after start-up
// (reads are served from memory), so WAL checkpoints always complete and the WAL stays bounded —
// the failure behind the multi-GB WAL files seen with kine. Compaction deletes dead rows in
// chunks folded into later write transactions, then frees pages (auto_vacuum=INCREMENTAL) and
// truncates the WAL, so the files shrink back.
//
// A write that fails for lack of space (disk full) is undone in memory too (Mvcc rollback of the
// unpublished batch) and every request of its batch gets etcd's NoSpace error; the NOSPACE alarm
// is raised until a later commit succeeds. Any other failed SQLite write (an I/O error, a failed
// fsync) aborts the process: what the disk holds is then unknown, and restarting from the
// durable log is the only safe recovery.
//
// Sources: sqlite_store_impl.h (the class), sqlite_store.cc (start-up, recovery, the writer,
// running out of space), sqlite_store_background.cc (checkpoints, the background thread).
//
// Files: the data dir is made private (private_dir.h), state.db is created 0600 and SQLite
// gives its -wal and -shm files the same mode.
#pragma once

#include "datastore/store.h"

namespace kite::datastore {

// Declared in store.h: Result<std::unique_ptr<Store>> OpenSqliteStore(const StoreOptions&);

// Runs one pass of the store's background work now, on the calling thread: expired leases
// revoked, automatic compaction (on the interval of the store's clock, or past the history size
// trigger), metrics. The store's own thread makes one every 250 ms of real time; a test that
// moves a FakeClock calls this instead of waiting for it. `store` must come from
// OpenSqliteStore. Returns the revision at which it queued a compaction (0: none); the
// compaction itself completes asynchronously, as every Compact.
int64_t RunBackgroundPass(Store& store);

}  // namespace kite::datastore
