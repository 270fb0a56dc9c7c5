#include "server/apiserver/filters/audit_log.h"

#include <prometheus/counter.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <optional>
#include <vector>

#include "api/time.h"
#include "base/civil_time.h"
#include "base/clock.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/metrics.h"

namespace kite::apiserver::audit {
namespace fs = std::filesystem;

namespace {

prometheus::Counter& DroppedCounter() {
  static prometheus::Counter& c = prometheus::BuildCounter()
                                      .Name("apiserver_audit_error_total")
                                      .Help("Counter of audit events that failed to be audited properly. Plugin identifies the plugin affected by the error.")
                                      .Register(metrics::Default())
                                      .Add({{"plugin", "log"}});
  return c;
}

prometheus::Counter& BlockedCounter() {
  static prometheus::Counter& c = prometheus::BuildCounter()
                                      .Name("apiserver_audit_log_blocked_total")
                                      .Help("Counter of audit events whose request waited for room in the audit log's queue.")
                                      .Register(metrics::Default())
                                      .Add({});
  return c;
}

prometheus::Counter& EventCounter() {
  static prometheus::Counter& c = prometheus::BuildCounter()
                                      .Name("apiserver_audit_event_total")
                                      .Help("Counter of audit events generated and sent to the audit backend.")
                                      .Register(metrics::Default())
                                      .Add({});
  return c;
}

}  // namespace

// "2006-01-02T15-04-05.000", lumberjack's backup time format, UTC (64-bit: base/civil_time.h).
std::string AuditBackupTime(std::chrono::system_clock::time_point t) { return FormatUtc(t, "%Y-%m-%dT%H-%M-%S.%L"); }

std::optional<std::chrono::system_clock::time_point> ParseAuditBackupTime(const std::string& name,
                                                                          const std::string& stem,
                                                                          const std::string& ext) {
  if (name.size() != stem.size() + 1 + 23 + ext.size() || name.compare(0, stem.size() + 1, stem + "-") != 0 ||
      name.compare(name.size() - ext.size(), ext.size(), ext) != 0) {
    return std::nullopt;
  }
  // "2006-01-02T15-04-05.000" is RFC 3339 with '-' for ':': read by the project's one date parser.
  std::string t = name.substr(stem.size() + 1, 23);
  if (t[13] != '-' || t[16] != '-') return std::nullopt;
  t[13] = t[16] = ':';
  return api::ParseTime(t + "Z");
}

namespace {

}  // namespace

Result<std::unique_ptr<AuditLog>> AuditLog::Open(const AuditLogOptions& options) {
  std::unique_ptr<AuditLog> log(new AuditLog(options));
  if (options.path == "-") {
    log->file_ = stdout;
  } else {
    std::error_code ec;
    const fs::path p(options.path);
    if (p.has_parent_path()) files::CreateDirectories(p.parent_path(), ec);
    log->file_ = std::fopen(options.path.c_str(), "a");
    if (!log->file_) return Status(Code::kInternal, "cannot open the audit log " + options.path);
    log->size_ = static_cast<int64_t>(files::FileSize(p, ec));
    if (ec) log->size_ = 0;
  }
  log->thread_ = std::thread([l = log.get()] { l->Run(); });
  return log;
}

AuditLog::~AuditLog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_one();
  room_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (file_ && file_ != stdout) std::fclose(file_);
}

void AuditLog::Write(std::string line) {
  bool wake = false;
  {
    std::unique_lock<std::mutex> lock(mu_);
    if (queue_.size() >= kMaxQueued) {
      BlockedCounter().Increment();
      room_cv_.wait(lock, [this] { return queue_.size() < kMaxQueued || stopping_; });
    }
    queue_.push_back(std::move(line));
    ++queued_;
    // The writer waits for a first line, then lingers until a batch is full: wake it only then.
    wake = queue_.size() == 1 || queue_.size() == kBatchLines;
  }
  EventCounter().Increment();
  if (wake) cv_.notify_one();
}

void AuditLog::Flush() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t want = queued_;
  flush_wanted_ = std::max(flush_wanted_, want);
  cv_.notify_one();
  flushed_cv_.wait(lock, [&] { return written_ >= want || stopping_; });
}

void AuditLog::Run() {
  std::deque<std::string> batch;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty() && stopping_) return;
      const auto done_waiting = [this] { return queue_.size() >= kBatchLines || stopping_ || flush_wanted_ > written_; };
      if (!done_waiting()) cv_.wait_for(lock, kLinger, done_waiting);
      batch.swap(queue_);
    }
    room_cv_.notify_all();
    std::string chunk;
    for (auto& line : batch) {
      // Rotation happens between lines, so a line never spans two files.
      if (o_.max_size_mb > 0 && file_ != stdout &&
          size_ + static_cast<int64_t>(chunk.size() + line.size() + 1) > o_.max_size_mb * 1024 * 1024) {
        Append(chunk);
        chunk.clear();
        if (size_ > 0) Rotate();
      }
      chunk += line;
      chunk += '\n';
    }
    Append(chunk);
    std::fflush(file_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      written_ += batch.size();
    }
    batch.clear();
    flushed_cv_.notify_all();
  }
}

void AuditLog::Append(const std::string& chunk) {
  if (chunk.empty() || !file_) return;
  if (std::fwrite(chunk.data(), 1, chunk.size(), file_) != chunk.size()) {
    DroppedCounter().Increment();
    KITE_LOG(1) << "audit log: write failed";
  }
  size_ += static_cast<int64_t>(chunk.size());
}

void AuditLog::Rotate() {
  std::fclose(file_);
  file_ = nullptr;
  const fs::path p(o_.path);
  const std::string stem = p.stem().string(), ext = p.extension().string();
  const fs::path backup = p.parent_path() / (stem + "-" + AuditBackupTime(Clock::Real()->Now()) + ext);
  std::error_code ec;
  fs::rename(p, backup, ec);
  if (ec) KITE_LOG(0) << "audit log: cannot rotate " << o_.path << ": " << ec.message();
  file_ = std::fopen(o_.path.c_str(), "a");
  if (!file_) KITE_LOG(0) << "audit log: cannot open " << o_.path;
  size_ = 0;
  RemoveOldBackups();
}

void AuditLog::RemoveOldBackups() {
  if (o_.max_backups <= 0 && o_.max_age_days <= 0) return;
  const fs::path p(o_.path);
  const std::string stem = p.stem().string(), ext = p.extension().string();
  std::vector<std::pair<std::chrono::system_clock::time_point, fs::path>> backups;
  std::error_code ec;
  const fs::path dir = p.has_parent_path() ? p.parent_path() : fs::path(".");
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (auto t = ParseAuditBackupTime(e.path().filename().string(), stem, ext)) backups.emplace_back(*t, e.path());
  }
  std::sort(backups.begin(), backups.end(), [](const auto& a, const auto& b) { return a.second > b.second; });  // newest first
  const auto cutoff = Clock::Real()->Now() - std::chrono::days(o_.max_age_days);
  for (size_t i = 0; i < backups.size(); ++i) {
    const bool too_many = o_.max_backups > 0 && static_cast<int64_t>(i) >= o_.max_backups;
    const bool too_old = o_.max_age_days > 0 && backups[i].first < cutoff;
    if (too_many || too_old) fs::remove(backups[i].second, ec);
  }
}

}  // namespace kite::apiserver::audit
