#include "agent/kubelet/logs/cri_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>

#include "api/time.h"

namespace kite::kubelet::logs {

Result<int64_t> ParseTimeNs(std::string_view s) {
  auto t = api::ParseRfc3339(s);
  if (!t) return Status(Code::kInvalidArgument, "not an RFC 3339 time: \"" + std::string(s.substr(0, 64)) + "\"");
  constexpr int64_t kMaxSec = std::numeric_limits<int64_t>::max() / 1'000'000'000 - 1;
  if (t->unix_sec > kMaxSec) return std::numeric_limits<int64_t>::max();
  if (t->unix_sec < -kMaxSec) return std::numeric_limits<int64_t>::min();
  return t->unix_sec * 1'000'000'000 + t->nanos;
}

Result<CriLogRecord> ParseCriLogRecord(std::string_view line) {
  auto bad = [&](const char* what) {
    return Status(Code::kInvalidArgument, std::string("CRI log record: ") + what);
  };
  CriLogRecord r;
  size_t sp = line.find(' ');
  if (sp == std::string_view::npos) return bad("no time");
  r.time = line.substr(0, sp);
  auto ns = ParseTimeNs(r.time);
  if (!ns.ok()) return bad("bad time");
  r.time_ns = *ns;
  line.remove_prefix(sp + 1);
  sp = line.find(' ');
  if (sp == std::string_view::npos) return bad("no stream");
  std::string_view stream = line.substr(0, sp);
  if (stream == "stdout") {
    r.stream = LogStream::kStdout;
  } else if (stream == "stderr") {
    r.stream = LogStream::kStderr;
  } else {
    return bad("unknown stream");
  }
  line.remove_prefix(sp + 1);
  // The tag: F or P (a runtime may one day add more ':'-separated tags after the first).
  sp = line.find(' ');
  std::string_view tags = line.substr(0, sp);
  std::string_view first = tags.substr(0, tags.find(':'));
  if (first == "F") {
    r.partial = false;
  } else if (first == "P") {
    r.partial = true;
  } else {
    return bad("unknown tag");
  }
  r.content = sp == std::string_view::npos ? std::string_view() : line.substr(sp + 1);
  return r;
}

namespace {

Result<int64_t> ParseInt(const std::string& name, const std::string& v) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) {
    return Status(Code::kInvalidArgument, name + ": invalid value \"" + v + "\"");
  }
  return n;
}

Result<bool> ParseBool(const std::string& name, const std::string& v) {
  if (v.empty() || v == "true" || v == "1" || v == "True" || v == "TRUE" || v == "t" || v == "T") return true;
  if (v == "false" || v == "0" || v == "False" || v == "FALSE" || v == "f" || v == "F") return false;
  return Status(Code::kInvalidArgument, name + ": invalid value \"" + v + "\"");
}

}  // namespace

Result<LogOptions> ParseLogOptions(const QueryReader& q, int64_t now_ns) {
  LogOptions o;
  for (auto [name, slot] : {std::pair<const char*, bool*>{"follow", &o.follow}, {"previous", &o.previous},
                            {"timestamps", &o.timestamps}}) {
    if (auto v = q.Get(name)) {
      auto b = ParseBool(name, *v);
      if (!b.ok()) return b.status();
      *slot = *b;
    }
  }
  auto since_seconds = q.Get("sinceSeconds");
  auto since_time = q.Get("sinceTime");
  if (since_seconds && since_time) {
    return Status(Code::kInvalidArgument, "at most one of sinceTime or sinceSeconds may be specified");
  }
  if (since_seconds) {
    auto n = ParseInt("sinceSeconds", *since_seconds);
    if (!n.ok()) return n.status();
    if (*n < 1) return Status(Code::kInvalidArgument, "sinceSeconds: must be greater than 0");
    const int64_t max_sec = now_ns / 1'000'000'000;
    o.since_ns = *n >= max_sec ? 0 : now_ns - *n * 1'000'000'000;
  }
  if (since_time) {
    auto ns = ParseTimeNs(*since_time);
    if (!ns.ok()) return Status(Code::kInvalidArgument, "sinceTime: invalid value \"" + *since_time + "\"");
    o.since_ns = *ns;
  }
  if (auto v = q.Get("tailLines")) {
    auto n = ParseInt("tailLines", *v);
    if (!n.ok()) return n.status();
    if (*n < 0) return Status(Code::kInvalidArgument, "tailLines: must be greater than or equal to 0");
    o.tail_lines = *n;
  }
  if (auto v = q.Get("limitBytes")) {
    auto n = ParseInt("limitBytes", *v);
    if (!n.ok()) return n.status();
    if (*n < 1) return Status(Code::kInvalidArgument, "limitBytes: must be greater than 0");
    o.limit_bytes = *n;
  }
  return o;
}

void LogFormatter::Feed(std::string_view data, std::string* out) {
  while (!done_ && !data.empty()) {
    size_t nl = data.find('\n');
    if (nl == std::string_view::npos) {
      // Bounded: a record longer than this is no CRI record (the runtime splits at 16 KiB).
      if (pending_.size() + data.size() > (1u << 20)) {
        pending_.clear();
      } else {
        pending_.append(data);
      }
      return;
    }
    if (pending_.empty()) {
      Record(data.substr(0, nl), out);
    } else {
      pending_.append(data.substr(0, nl));
      std::string line = std::move(pending_);
      pending_.clear();
      Record(line, out);
    }
    data.remove_prefix(nl + 1);
  }
}

void LogFormatter::Record(std::string_view line, std::string* out) {
  auto r = ParseCriLogRecord(line);
  if (!r.ok()) return;
  if (o_.since_ns && r->time_ns < *o_.since_ns) return;
  if (r->stream == LogStream::kStdout ? !o_.stdout_ : !o_.stderr_) return;
  const size_t start = out->size();
  if (o_.timestamps) {
    out->append(r->time);
    out->push_back(' ');
  }
  out->append(r->content);
  if (!r->partial) out->push_back('\n');
  const int64_t added = static_cast<int64_t>(out->size() - start);
  if (o_.limit_bytes && written_ + added >= *o_.limit_bytes) {
    out->resize(start + static_cast<size_t>(*o_.limit_bytes - written_));
    written_ = *o_.limit_bytes;
    done_ = true;
    return;
  }
  written_ += added;
}

size_t TailOffset(std::string_view data, int64_t n) {
  if (n <= 0) return data.size();
  size_t end = data.size();
  if (end > 0 && data[end - 1] == '\n') --end;  // the last line's own newline
  int64_t seen = 0;
  while (end > 0) {
    size_t nl = data.rfind('\n', end - 1);
    if (nl == std::string_view::npos) return 0;
    if (++seen == n) return nl + 1;
    end = nl;
  }
  return 0;
}

Result<int64_t> TailOffset(int fd, int64_t size, int64_t n) {
  if (n <= 0) return size;
  constexpr int64_t kBlock = 64 * 1024;
  std::string block;
  int64_t pos = size;
  int64_t seen = 0;
  bool skip_last_newline = true;
  while (pos > 0) {
    const int64_t len = std::min(kBlock, pos);
    pos -= len;
    block.resize(static_cast<size_t>(len));
    ssize_t got = ::pread(fd, block.data(), block.size(), static_cast<off_t>(pos));
    if (got != static_cast<ssize_t>(len)) return Status(Code::kUnavailable, std::string("read log: ") + std::strerror(errno));
    for (int64_t i = len - 1; i >= 0; --i) {
      if (block[static_cast<size_t>(i)] != '\n') {
        skip_last_newline = false;
        continue;
      }
      if (skip_last_newline) {  // the newline that ends the file's last line
        skip_last_newline = false;
        continue;
      }
      if (++seen == n) return pos + i + 1;
    }
  }
  return int64_t{0};
}

LogFile::~LogFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::unique_ptr<LogFile>> LogFile::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int e = errno;
    return Status(e == ENOENT ? Code::kNotFound : Code::kUnavailable, "open " + path + ": " + std::strerror(e));
  }
  return std::unique_ptr<LogFile>(new LogFile(path, fd));
}

int64_t LogFile::size() const {
  struct stat st {};
  return ::fstat(fd_, &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

Status LogFile::Seek(int64_t offset) {
  if (::lseek(fd_, static_cast<off_t>(offset), SEEK_SET) < 0) return Status(Code::kUnavailable, "seek " + path_);
  return Status::Ok();
}

Result<size_t> LogFile::Read(size_t max, std::string* out) {
  const size_t at = out->size();
  out->resize(at + max);
  ssize_t got;
  do {
    got = ::read(fd_, out->data() + at, max);
  } while (got < 0 && errno == EINTR);
  if (got < 0) {
    out->resize(at);
    return Status(Code::kUnavailable, "read " + path_ + ": " + std::strerror(errno));
  }
  out->resize(at + static_cast<size_t>(got));
  return static_cast<size_t>(got);
}

bool LogFile::Rotated() const {
  struct stat now {}, mine {};
  if (::stat(path_.c_str(), &now) != 0) return false;  // not reopened yet: keep reading this one
  if (::fstat(fd_, &mine) != 0) return true;
  return now.st_ino != mine.st_ino || now.st_dev != mine.st_dev;
}

Status LogFile::ReopenAtPath() {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status(Code::kUnavailable, "open " + path_ + ": " + std::strerror(errno));
  ::close(fd_);
  fd_ = fd;
  return Status::Ok();
}

}  // namespace kite::kubelet::logs
