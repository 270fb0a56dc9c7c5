#include "datastore/sqlite/sqlite_db.h"

#include "datastore/sqlite/sqlite_stat32.h"

namespace kite::datastore {

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, bool read_only) {
  UseTime64StatInSqlite();  // Debian 12 armhf's SQLite would fail on a database touched after 2038
  sqlite3* db = nullptr;
  int flags = read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;  // each connection is used by one thread at a time
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status(Code::kUnavailable, "open " + path + ": " + msg);
  }
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<SqliteDb>(new SqliteDb(db));
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

Status SqliteDb::Error(const std::string& what) const {
  return Status(Code::kInternal, what + ": " + sqlite3_errmsg(db_));
}

Status SqliteDb::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    Status s(Code::kInternal, sql + ": " + (err ? err : "error"));
    sqlite3_free(err);
    return s;
  }
  return Status::Ok();
}

Result<int64_t> SqliteDb::QueryInt(const std::string& sql) {
  Statement st(*this, sql.c_str());
  if (!st.ok()) return Error(sql);
  int rc = st.Step();
  if (rc == SQLITE_ROW) return st.Int(0);
  if (rc == SQLITE_DONE) return int64_t{0};
  return Error(sql);
}

Statement::Statement(const SqliteDb& db, const char* sql) : db_(db) {
  if (sqlite3_prepare_v3(db.raw(), sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
  }
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Status Statement::Run() {
  int rc = sqlite3_step(stmt_);
  Status s = rc == SQLITE_DONE ? Status::Ok() : db_.Error("step");
  Reset();
  return s;
}

}  // namespace kite::datastore
