// AuditLog: the log backend of the audit filter (--audit-log-path), one JSON event per line, with
// upstream's rotation flags (kube-apiserver rotates with lumberjack, and so do these rules):
//   --audit-log-maxsize MB: before a write would take the file past it, the file is renamed to
//     <name>-<UTC time 2006-01-02T15-04-05.000><.ext> and a new one started (0: never);
//   --audit-log-maxbackup N: at most N rotated files are kept, the newest (0: all);
//   --audit-log-maxage D: rotated files older than D days, by the time in their name, go (0: kept).
// "-" writes to standard output (no rotation).
//
// Requests never wait for the disk: Write queues the line and a thread of its own appends,
// batching what queued meanwhile. The queue is bounded (kMaxQueued lines, upstream's batch
// buffer size); past it a line is dropped and counted in apiserver_audit_error_total, as
// upstream's batch backend drops when its buffer is full. Thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"

namespace kite::apiserver::audit {

struct AuditLogOptions {
  std::string path;
  int64_t max_size_mb = 0;
  int64_t max_backups = 0;
  int64_t max_age_days = 0;
};

class AuditLog {
 public:
  static constexpr size_t kMaxQueued = 10000;

  static Result<std::unique_ptr<AuditLog>> Open(const AuditLogOptions& options);
  ~AuditLog();  // writes what is queued, then closes

  // `line` without its newline.
  void Write(std::string line);
  // Blocks until everything queued so far is written (tests, shutdown).
  void Flush();

 private:
  explicit AuditLog(AuditLogOptions o) : o_(std::move(o)) {}
  void Run();
  void Append(const std::string& batch);  // on the writer thread
  void Rotate();                          // on the writer thread
  void RemoveOldBackups();                // on the writer thread

  const AuditLogOptions o_;
  std::FILE* file_ = nullptr;  // writer thread only (after Open)
  int64_t size_ = 0;           // writer thread only
  std::mutex mu_;
  std::condition_variable cv_, flushed_cv_;
  std::deque<std::string> queue_;  // guarded by mu_
  uint64_t queued_ = 0, written_ = 0;  // guarded by mu_: lines taken in / written out
  bool stopping_ = false;          // guarded by mu_
  std::thread thread_;
};

}  // namespace kite::apiserver::audit
