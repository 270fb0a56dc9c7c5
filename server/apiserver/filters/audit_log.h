// AuditLog: the log backend of the audit filter (--audit-log-path), one JSON event per line, with
// upstream's rotation flags (kube-apiserver rotates with lumberjack, and so do these rules):
//   --audit-log-maxsize MB: before a write would take the file past it, the file is renamed to
//     <name>-<UTC time 2006-01-02T15-04-05.000><.ext> and a new one started (0: never);
//   --audit-log-maxbackup N: at most N rotated files are kept, the newest (0: all);
//   --audit-log-maxage D: rotated files older than D days, by the time in their name, go (0: kept).
// "-" writes to standard output (no rotation).
//
// Writing is off the request path, with upstream's default --audit-log-mode=blocking semantics
// kept: no event is ever dropped, and each request's events are in the file in order. Write
// queues the line; a thread of its own appends what queued, in batches: after the first line
// of a batch it lingers up to kLinger for more (up to kBatchLines) so that one write(2) and one
// wake-up carry many events (one per event cost as much CPU as building the events). The queue
// is bounded: while kMaxQueued lines wait (the disk is slower than the requests), Write blocks
// its caller until there is room, as upstream's blocking backend makes a request wait for the
// log; that wait is counted in apiserver_audit_log_blocked_total (kite's). A failed write is
// counted in apiserver_audit_error_total. Flush and the destructor do not wait for the linger.
// Thread-safe.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
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
  static constexpr size_t kBatchLines = 400;
  static constexpr std::chrono::milliseconds kLinger{10};

  static Result<std::unique_ptr<AuditLog>> Open(const AuditLogOptions& options);
  ~AuditLog();  // writes what is queued, then closes

  // `line` without its newline. Blocks while kMaxQueued lines wait.
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
  std::condition_variable cv_, flushed_cv_, room_cv_;
  std::deque<std::string> queue_;  // guarded by mu_
  uint64_t queued_ = 0, written_ = 0;  // guarded by mu_: lines taken in / written out
  uint64_t flush_wanted_ = 0;          // guarded by mu_: a Flush waits for this many lines
  bool stopping_ = false;          // guarded by mu_
  std::thread thread_;
};

// A rotated log's name: "<stem>-<AuditBackupTime(t)><ext>", lumberjack's "2006-01-02T15-04-05.000"
// in UTC. ParseAuditBackupTime reads the time back from such a name, nullopt for any other name.
// Both in 64-bit time, so backups made past 2038 sort and age out on 32-bit ARM too.
std::string AuditBackupTime(std::chrono::system_clock::time_point t);
std::optional<std::chrono::system_clock::time_point> ParseAuditBackupTime(const std::string& name,
                                                                          const std::string& stem,
                                                                          const std::string& ext);

}  // namespace kite::apiserver::audit
