#include "agent/kubelet/volumes/fs.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace kite::kubelet::volumes {

namespace {

Status Errno(const std::string& what, int err) {
  const Code code = err == ENOENT ? Code::kNotFound : err == EACCES || err == EPERM ? Code::kPermissionDenied : Code::kInternal;
  return Status(code, what + ": " + std::strerror(err));
}

// Empties the directory open as `dfd` (device `dev`); the caller removes the directory itself.
Status RemoveChildren(int dfd, dev_t dev, const std::string& where) {
  const int iter_fd = dup(dfd);
  if (iter_fd < 0) return Errno("dup " + where, errno);
  DIR* d = fdopendir(iter_fd);
  if (!d) {
    const int err = errno;
    close(iter_fd);
    return Errno("opendir " + where, err);
  }
  Status result;
  while (dirent* e = readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = where + "/" + name;
    struct stat st {};
    if (fstatat(dfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT && result.ok()) result = Errno("stat " + path, errno);
      continue;
    }
    if (S_ISDIR(st.st_mode)) {
      if (st.st_dev != dev) {  // a mount we must not empty
        if (result.ok()) result = Status(Code::kFailedPrecondition, path + " is still a mount point");
        continue;
      }
      const int cfd = openat(dfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (cfd < 0) {
        if (result.ok()) result = Errno("open " + path, errno);
        continue;
      }
      Status s = RemoveChildren(cfd, dev, path);
      close(cfd);
      if (s.ok() && unlinkat(dfd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) s = Errno("rmdir " + path, errno);
      if (!s.ok() && result.ok()) result = s;
    } else if (unlinkat(dfd, name.c_str(), 0) != 0 && errno != ENOENT && result.ok()) {
      result = Errno("unlink " + path, errno);
    }
  }
  closedir(d);
  return result;
}

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string Unescape(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size()) {
      const std::string oct = s.substr(i + 1, 3);
      if (oct.size() == 3 && std::all_of(oct.begin(), oct.end(), [](char c) { return c >= '0' && c <= '7'; })) {
        out += static_cast<char>(std::stoi(oct, nullptr, 8));
        i += 3;
        continue;
      }
    }
    out += s[i];
  }
  return out;
}

}  // namespace

Status RemoveTree(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) return errno == ENOENT ? Status() : Errno("stat " + path, errno);
  if (!S_ISDIR(st.st_mode)) {
    if (unlink(path.c_str()) != 0 && errno != ENOENT) return Errno("unlink " + path, errno);
    return {};
  }
  if (IsMountPoint(path)) return Status(Code::kFailedPrecondition, path + " is still a mount point");
  const int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Errno("open " + path, errno);
  Status s = RemoveChildren(fd, st.st_dev, path);
  close(fd);
  if (!s.ok()) return s;
  if (rmdir(path.c_str()) != 0 && errno != ENOENT) return Errno("rmdir " + path, errno);
  return {};
}

Status MakeDirs(const std::string& path, mode_t mode) {
  if (path.empty()) return Status(Code::kInvalidArgument, "empty path");
  size_t pos = 0;
  while (pos != std::string::npos) {
    pos = path.find('/', pos + 1);
    const std::string part = path.substr(0, pos);
    if (part.empty()) continue;
    if (mkdir(part.c_str(), mode) == 0) {
      (void)chmod(part.c_str(), mode);  // not narrowed by the umask
      continue;
    }
    if (errno != EEXIST) return Errno("mkdir " + part, errno);
    struct stat st {};
    if (stat(part.c_str(), &st) != 0) return Errno("stat " + part, errno);
    if (!S_ISDIR(st.st_mode)) return Status(Code::kFailedPrecondition, part + " exists and is not a directory");
  }
  return {};
}

Status MakeDirsBeneath(const std::string& base, const std::string& rel, mode_t mode) {
  int fd = open(base.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open " + base, errno);
  size_t start = 0;
  Status result;
  while (start < rel.size()) {
    size_t end = rel.find('/', start);
    if (end == std::string::npos) end = rel.size();
    const std::string part = rel.substr(start, end - start);
    start = end + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      result = Status(Code::kInvalidArgument, "path " + rel + " must not contain '..'");
      break;
    }
    if (mkdirat(fd, part.c_str(), mode) != 0 && errno != EEXIST) {
      result = Errno("mkdir " + base + "/" + rel.substr(0, end), errno);
      break;
    }
    const int next = openat(fd, part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0) {
      result = errno == ELOOP || errno == ENOTDIR
                   ? Status(Code::kFailedPrecondition, base + "/" + rel.substr(0, end) + " is a symlink or not a directory")
                   : Errno("open " + base + "/" + rel.substr(0, end), errno);
      break;
    }
    close(fd);
    fd = next;
  }
  close(fd);
  return result;
}

Status WriteFileAtomically(const std::string& path, const std::string& data, mode_t mode) {
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  const int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create " + tmp, errno);
  size_t off = 0;
  while (off < data.size()) {
    const ssize_t n = write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int err = errno;
      close(fd);
      unlink(tmp.c_str());
      return Errno("write " + tmp, err);
    }
    off += static_cast<size_t>(n);
  }
  if (fchmod(fd, mode) != 0 || close(fd) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return Errno("finish " + tmp, err);
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return Errno("rename " + tmp, err);
  }
  return {};
}

bool IsMountPoint(const std::string& path) {
  struct stat st {}, parent {};
  if (lstat(path.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) return false;
  if (lstat((path + "/..").c_str(), &parent) != 0) return false;
  if (st.st_dev != parent.st_dev) return true;
  // A bind mount of the same file system: only mountinfo tells.
  for (const auto& m : MountPointsUnder(path)) {
    if (m == path) return true;
  }
  return false;
}

std::vector<std::string> MountPointsUnder(const std::string& prefix) {
  std::vector<std::string> out;
  std::ifstream in("/proc/self/mountinfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string id, parent, devno, root, mount_point;
    if (!(f >> id >> parent >> devno >> root >> mount_point)) continue;
    const std::string mp = Unescape(mount_point);
    if (mp == prefix || (mp.size() > prefix.size() && mp.compare(0, prefix.size(), prefix) == 0 && mp[prefix.size()] == '/')) {
      out.push_back(mp);
    }
  }
  std::sort(out.begin(), out.end(), [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

Status MountTmpfs(const std::string& path, int64_t size_bytes) {
  std::string opts;
  if (size_bytes > 0) opts = "size=" + std::to_string(size_bytes);
  if (mount("tmpfs", path.c_str(), "tmpfs", 0, opts.empty() ? nullptr : opts.c_str()) != 0) {
    return Errno("mount tmpfs on " + path, errno);
  }
  return {};
}

Status Unmount(const std::string& path) {
  if (umount2(path.c_str(), UMOUNT_NOFOLLOW) == 0) return {};
  if (errno == EINVAL || errno == ENOENT) return {};  // not (or no longer) a mount point
  if (errno == EBUSY && umount2(path.c_str(), MNT_DETACH | UMOUNT_NOFOLLOW) == 0) return {};
  return Errno("unmount " + path, errno);
}

}  // namespace kite::kubelet::volumes
