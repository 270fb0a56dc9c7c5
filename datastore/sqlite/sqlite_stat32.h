// SQLite's own stat calls made 64-bit-time safe on 32-bit targets (issue 21).
//
// kite links Debian's static libsqlite3, which Debian 12 armhf builds with a 32-bit time_t: its
// unix VFS calls the 32-bit stat/fstat/lstat, which fail with EOVERFLOW on a file modified after
// 2038-01-19 — the database itself from then on: sqlite3_open_v2 answers SQLITE_CANTOPEN and
// every transaction fails (measured under qemu). UseTime64StatInSqlite hands the VFS, through
// its documented system-call hook (sqlite3_vfs.xSetSystemCall), versions built on statx, which
// has 64-bit times whatever time_t is; times past 2038 reach SQLite clamped to the last second
// of 2038-01-19 (the unix VFS reads device, inode, mode, owner, links and size; no time).
// Where time_t is 64-bit in SQLite too (64-bit targets) it does nothing.
#pragma once

namespace kite::datastore {

// Once per process, before the first sqlite3_open (SqliteDb::Open calls it). Thread-safe.
void UseTime64StatInSqlite();

}  // namespace kite::datastore
