#include "agent/cni/host_local.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "agent/cni/plugin.h"
#include "base/fs.h"

namespace kite::cni {
namespace {

Status Errno(const std::string& what, int err) { return Status(Code::kInternal, what + ": " + std::strerror(err)); }

// The flock()ed lock file of one network's directory, held for the object's life.
class DirLock {
 public:
  static Result<DirLock> Take(const std::string& dir) {
    std::error_code ec;
    files::CreateDirectories(dir, ec);  // the data dir too, the first time
    if (ec) return Status(Code::kInternal, "mkdir " + dir + ": " + ec.message());
    const std::string path = dir + "/lock";
    const int fd = open(path.c_str(), O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return Errno("open " + path, errno);
    while (flock(fd, LOCK_EX) != 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close(fd);
      return Errno("flock " + path, err);
    }
    return DirLock(fd);
  }
  DirLock(DirLock&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  DirLock& operator=(DirLock&&) = delete;
  ~DirLock() {
    if (fd_ >= 0) close(fd_);  // closing releases the flock
  }

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// The whole of a small file ("" when it cannot be read).
std::string ReadSmall(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[512];
  std::string out;
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || out.size() > 4096) break;
    out.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

// The addresses of the directory's allocation files held by (id, ifname); an old host-local
// wrote the id alone.
template <class F>
Status ForEachHeldBy(const std::string& dir, const std::string& id, const std::string& ifname, F&& fn) {
  DIR* d = opendir(dir.c_str());
  if (!d) return errno == ENOENT ? Status::Ok() : Errno("opendir " + dir, errno);
  const std::string key = Trim(id) + "\r\n" + ifname;
  while (const dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    auto ip = ParseIpv4(name);
    if (!ip) continue;  // lock, last_reserved_ip.N, ".", ".."
    const std::string held = Trim(ReadSmall(dir + "/" + name));
    if (held == key || held == Trim(id)) fn(name, *ip);
  }
  closedir(d);
  return Status::Ok();
}

}  // namespace

Result<HostLocalRange> MakeRange(const std::string& subnet, const std::string& gateway, const std::string& range_start,
                                 const std::string& range_end) {
  auto c = ParseIpv4Cidr(subnet, HostBits::kClear);
  if (!c.ok()) return Status(Code::kInvalidArgument, "ipam subnet: " + c.error().message());
  if (c->prefix > 30) return Status(Code::kInvalidArgument, "ipam subnet " + subnet + " is too small to allocate from");
  HostLocalRange r;
  r.subnet = *c;
  const uint32_t broadcast = c->base | ~(~uint32_t{0} << (32 - c->prefix));
  r.first = c->base + 1;
  r.last = broadcast - 1;
  r.gateway = c->base + 1;
  auto inside = [&](const std::string& text, const char* what, uint32_t* out) -> Status {
    if (text.empty()) return Status::Ok();
    auto ip = ParseIpv4(text);
    if (!ip || !c->Contains(*ip)) {
      return Status(Code::kInvalidArgument, std::string("ipam ") + what + " " + text + " is not an address of " + subnet);
    }
    *out = *ip;
    return Status::Ok();
  };
  if (Status s = inside(gateway, "gateway", &r.gateway); !s.ok()) return s;
  if (Status s = inside(range_start, "rangeStart", &r.first); !s.ok()) return s;
  if (Status s = inside(range_end, "rangeEnd", &r.last); !s.ok()) return s;
  if (r.first > r.last) return Status(Code::kInvalidArgument, "ipam rangeStart is after rangeEnd");
  return r;
}

Result<uint32_t> HostLocalStore::Allocate(const std::string& id, const std::string& ifname) {
  auto lock = DirLock::Take(dir_);
  if (!lock.ok()) return lock.error();
  std::string taken;
  if (Status s = ForEachHeldBy(dir_, id, ifname, [&](const std::string& name, uint32_t ip) {
        if (range_.subnet.Contains(ip)) taken = name;
      });
      !s.ok()) {
    return s;
  }
  if (!taken.empty()) {
    return Status(Code::kAlreadyExists, taken + " has been allocated to " + id + ", duplicate allocation is not allowed");
  }
  const std::string last_path = dir_ + "/last_reserved_ip.0";
  uint32_t next = range_.first;
  if (auto last = ParseIpv4(Trim(ReadSmall(last_path))); last && *last >= range_.first && *last < range_.last) {
    next = *last + 1;
  }
  const uint64_t count = uint64_t{range_.last} - range_.first + 1;
  for (uint64_t i = 0; i < count; ++i, next = next == range_.last ? range_.first : next + 1) {
    if (next == range_.gateway) continue;
    const std::string name = FormatIpv4(next);
    const std::string path = dir_ + "/" + name;
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
      if (errno == EEXIST) continue;
      return Errno("create " + path, errno);
    }
    Status s = WriteAll(fd, Trim(id) + "\r\n" + ifname, path);
    close(fd);
    if (!s.ok()) {
      unlink(path.c_str());
      return s;
    }
    const int lf = open(last_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (lf >= 0) {
      (void)WriteAll(lf, name, last_path);  // a hint for the next search only
      close(lf);
    }
    return next;
  }
  return Status(Code::kResourceExhausted, "no IP addresses available in range set: " + FormatIpv4(range_.first) + "-" +
                                              FormatIpv4(range_.last));
}

Status HostLocalStore::Release(const std::string& id, const std::string& ifname) {
  auto lock = DirLock::Take(dir_);
  if (!lock.ok()) return lock.error();
  Status failed;
  Status s = ForEachHeldBy(dir_, id, ifname, [&](const std::string& name, uint32_t) {
    if (unlink((dir_ + "/" + name).c_str()) != 0 && errno != ENOENT) failed = Errno("remove " + dir_ + "/" + name, errno);
  });
  return s.ok() ? failed : s;
}

}  // namespace kite::cni
