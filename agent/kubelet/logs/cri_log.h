// Container log files as the CRI runtime writes them (containerd's CRI plugin), and what
// `kubectl logs` gets from them.
//
// A CRI log file holds one record per line:
//   <RFC3339Nano time> <stdout|stderr> <F|P> <content>\n
// where F ends a line the container wrote and P is a part of a longer line (the runtime splits
// lines over its buffer size). Files are untrusted input: a pod writes what it likes into
// <content>, and a file may be cut anywhere by a crash or a rotation. A malformed record is
// skipped, as upstream's kubelet skips it.
//
// LogFormatter turns a file's bytes (fed in any pieces) into the answer of the kubelet's
// /containerLogs: the content of each record, a newline after F records, optionally prefixed by
// its time (timestamps=true), records before `since` dropped, stopped after limit_bytes.
// TailOffset finds where the last N records start (tailLines). LogFile reads a log from an
// offset and notices when the runtime has rotated it (a new file at the path), for `follow`.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"

namespace kite::kubelet::logs {

enum class LogStream { kStdout, kStderr };

struct CriLogRecord {
  int64_t time_ns = 0;       // since the Unix epoch
  std::string_view time;     // as written in the file
  LogStream stream = LogStream::kStdout;
  bool partial = false;      // tag P: the line continues in the next record
  std::string_view content;  // without the record's newline
};

// Parses one record (a line without its '\n'). InvalidArgument when malformed.
Result<CriLogRecord> ParseCriLogRecord(std::string_view line);

// An RFC 3339 time (api/time.h) as nanoseconds since the Unix epoch, clamped to int64's range.
Result<int64_t> ParseTimeNs(std::string_view s);

// The kubelet's log options (PodLogOptions as the kubelet reads them from the query).
struct LogOptions {
  bool follow = false;
  bool timestamps = false;
  bool previous = false;
  std::optional<int64_t> since_ns;     // from sinceSeconds or sinceTime
  std::optional<int64_t> tail_lines;   // >= 0
  std::optional<int64_t> limit_bytes;  // > 0
  bool stdout_ = true, stderr_ = true;
};

// Reads LogOptions from /containerLogs' query parameters (follow, previous, timestamps,
// sinceSeconds, sinceTime, tailLines, limitBytes), with `now_ns` for sinceSeconds.
// InvalidArgument for a malformed or negative number, a bad time, or both since forms.
class QueryReader {
 public:
  virtual ~QueryReader() = default;
  virtual std::optional<std::string> Get(const std::string& name) const = 0;
};
Result<LogOptions> ParseLogOptions(const QueryReader& q, int64_t now_ns);

class LogFormatter {
 public:
  explicit LogFormatter(const LogOptions& o) : o_(o) {}
  // Appends to *out what the complete records in (what was held back +) `data` print; an
  // incomplete last line is held until the rest arrives.
  void Feed(std::string_view data, std::string* out);
  // True once limit_bytes have been produced: nothing more will be.
  bool done() const { return done_; }

 private:
  void Record(std::string_view line, std::string* out);

  const LogOptions o_;
  std::string pending_;
  int64_t written_ = 0;
  bool done_ = false;
};

// The offset at which the last `n` lines of data begin (0 when it has n lines or fewer; a last
// line without its newline counts as a line).
size_t TailOffset(std::string_view data, int64_t n);

// The same over an open file of `size` bytes, read backwards in blocks (a log file may be large).
Result<int64_t> TailOffset(int fd, int64_t size, int64_t n);

// One container's log file, read forward from an offset. Not thread-safe.
class LogFile {
 public:
  ~LogFile();
  // Opens `path` (NotFound when it does not exist).
  static Result<std::unique_ptr<LogFile>> Open(const std::string& path);
  int fd() const { return fd_; }
  int64_t size() const;
  Status Seek(int64_t offset);
  // Appends up to `max` bytes to *out; 0 at the end of the file (for now).
  Result<size_t> Read(size_t max, std::string* out);
  // True when the path now names another file (the runtime reopened it after a rotation): once
  // this file is read to its end, the rest is in the new one (ReopenAtPath).
  bool Rotated() const;
  Status ReopenAtPath();

 private:
  LogFile(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  std::string path_;
  int fd_ = -1;
};

}  // namespace kite::kubelet::logs
