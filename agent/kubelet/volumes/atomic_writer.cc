#include "agent/kubelet/volumes/atomic_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>
#include <vector>
#include <set>

#include "agent/kubelet/volumes/fs.h"
#include "base/civil_time.h"
#include "base/clock.h"

namespace kite::kubelet::volumes {

namespace {

constexpr char kDataDir[] = "..data";
constexpr char kDataDirTmp[] = "..data_tmp";

Status Errno(const std::string& what) { return Status(Code::kInternal, what + ": " + std::strerror(errno)); }

std::string FirstElement(const std::string& path) { return path.substr(0, path.find('/')); }

std::optional<std::string> ReadLink(const std::string& path) {
  char buf[4096];
  const ssize_t n = readlink(path.c_str(), buf, sizeof buf - 1);
  if (n < 0) return std::nullopt;
  return std::string(buf, static_cast<size_t>(n));
}

// `dir` (a timestamped directory) holds exactly the payload, with its modes. Unreadable: false,
// and the caller writes a new one.
bool SameAsOnDisk(const std::string& dir, const Payload& payload, std::optional<uint32_t> gid) {
  size_t files = 0;
  // Count the regular files below dir and compare each payload file.
  std::vector<std::string> stack{""};
  while (!stack.empty()) {
    const std::string rel = stack.back();
    stack.pop_back();
    const std::string abs = rel.empty() ? dir : dir + "/" + rel;
    DIR* d = opendir(abs.c_str());
    if (!d) return false;
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string r = rel.empty() ? name : rel + "/" + name;
      struct stat st {};
      if (lstat((dir + "/" + r).c_str(), &st) != 0) {
        closedir(d);
        return false;
      }
      if (S_ISDIR(st.st_mode)) {
        stack.push_back(r);
        continue;
      }
      ++files;
      auto it = payload.find(r);
      if (it == payload.end() || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != it->second.mode || (gid && st.st_gid != *gid) ||
          static_cast<size_t>(st.st_size) != it->second.data.size()) {
        closedir(d);
        return false;
      }
      std::ifstream in(dir + "/" + r, std::ios::binary);
      std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (data != it->second.data) {
        closedir(d);
        return false;
      }
    }
    closedir(d);
  }
  return files == payload.size();
}

// "..2026_12_05_12_00_00.<random>" made with mkdtemp, so two writers never share one.
Result<std::string> NewTimestampedDir(const std::string& dir) {
  // 64-bit calendar (base/civil_time.h): the name stays right past 2038 on 32-bit ARM.
  std::string templ = dir + "/" + FormatUtc(Clock::Real()->Now(), "..%Y_%m_%d_%H_%M_%S.") + "XXXXXX";
  if (!mkdtemp(templ.data())) return Errno("mkdtemp in " + dir);
  if (chmod(templ.c_str(), 0755) != 0) return Errno("chmod " + templ);
  return templ.substr(dir.size() + 1);
}

}  // namespace

Status ValidatePayloadPath(const std::string& path) {
  if (path.empty()) return Status(Code::kInvalidArgument, "invalid path: must not be empty");
  if (path.size() > 4096) return Status(Code::kInvalidArgument, "invalid path: must be less than or equal to 4096 characters");
  if (path[0] == '/') return Status(Code::kInvalidArgument, "invalid path: must be relative path: " + path);
  if (path.compare(0, 2, "..") == 0) return Status(Code::kInvalidArgument, "invalid path: must not start with '..': " + path);
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    const std::string element = path.substr(start, end - start);
    if (element == ".." || element == "." || element.empty()) {
      return Status(Code::kInvalidArgument, "invalid path: must not contain '..', '.' or empty elements: " + path);
    }
    if (element.size() > 255) return Status(Code::kInvalidArgument, "invalid path: element too long: " + path);
    start = end + 1;
  }
  return {};
}

Result<bool> AtomicWriter::Write(const Payload& payload) {
  std::set<std::string> visible;  // top-level names in the payload
  for (const auto& [path, file] : payload) {
    if (Status s = ValidatePayloadPath(path); !s.ok()) return s;
    if (file.mode > 07777) return Status(Code::kInvalidArgument, "invalid mode for " + path);
    visible.insert(FirstElement(path));
  }
  // A file and a directory of the same name cannot both be in a payload ("a" and "a/b").
  for (const auto& [path, file] : payload) {
    if (payload.contains(FirstElement(path)) && FirstElement(path) != path) {
      return Status(Code::kInvalidArgument, "invalid payload: " + FirstElement(path) + " is both a file and a directory");
    }
  }
  struct stat st {};
  if (stat(dir_.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status(Code::kFailedPrecondition, "volume directory " + dir_ + " does not exist");
  }
  const std::string data_link = dir_ + "/" + kDataDir;
  const std::optional<std::string> old_dir = ReadLink(data_link);

  bool changed = true;
  if (old_dir && SameAsOnDisk(dir_ + "/" + *old_dir, payload, gid_)) {
    changed = false;
  } else {
    auto ts = NewTimestampedDir(dir_);
    if (!ts) return ts.error();
    const std::string ts_abs = dir_ + "/" + *ts;
    // With an fsGroup: group-owned, directories setgid (upstream's SetVolumeOwnership).
    auto own = [&](const std::string& path, bool dir) -> Status {
      if (!gid_) return {};
      if (lchown(path.c_str(), static_cast<uid_t>(-1), static_cast<gid_t>(*gid_)) != 0) return Errno("chown " + path);
      if (dir && chmod(path.c_str(), 02755) != 0) return Errno("chmod " + path);
      return {};
    };
    if (Status s = own(ts_abs, true); !s.ok()) return s;
    for (const auto& [path, file] : payload) {
      const std::string abs = ts_abs + "/" + path;
      for (size_t slash = path.find('/'); slash != std::string::npos; slash = path.find('/', slash + 1)) {
        const std::string sub = ts_abs + "/" + path.substr(0, slash);
        if (Status s = MakeDirs(sub, 0755); !s.ok()) return s;
        if (Status s = own(sub, true); !s.ok()) return s;
      }
      if (Status s = WriteFileAtomically(abs, file.data, file.mode); !s.ok()) return s;
      if (Status s = own(abs, false); !s.ok()) return s;
      if (gid_ && chmod(abs.c_str(), file.mode) != 0) return Errno("chmod " + abs);  // chown clears setuid/setgid bits
    }
    const std::string tmp_link = dir_ + "/" + kDataDirTmp;
    (void)unlink(tmp_link.c_str());
    if (symlink(ts->c_str(), tmp_link.c_str()) != 0) return Errno("symlink " + tmp_link);
    if (rename(tmp_link.c_str(), data_link.c_str()) != 0) return Errno("rename " + tmp_link);
  }
  // The per-key symlinks: added where missing, removed where the payload no longer has the key.
  for (const auto& name : visible) {
    const std::string link = dir_ + "/" + name;
    const std::string target = std::string(kDataDir) + "/" + name;
    if (auto cur = ReadLink(link); cur && *cur == target) continue;
    struct stat lst {};
    if (lstat(link.c_str(), &lst) == 0) {
      if (!S_ISLNK(lst.st_mode)) return Status(Code::kFailedPrecondition, link + " exists and is not a symlink");
      if (unlink(link.c_str()) != 0) return Errno("unlink " + link);
    }
    if (symlink(target.c_str(), link.c_str()) != 0) return Errno("symlink " + link);
  }
  if (DIR* d = opendir(dir_.c_str())) {
    std::vector<std::string> stale;
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.compare(0, 2, "..") == 0 || visible.contains(name) || name == ".") continue;
      struct stat lst {};
      if (lstat((dir_ + "/" + name).c_str(), &lst) != 0 || !S_ISLNK(lst.st_mode)) continue;
      auto cur = ReadLink(dir_ + "/" + name);
      if (cur && cur->starts_with(std::string(kDataDir) + "/")) stale.push_back(name);
    }
    closedir(d);
    for (const auto& name : stale) (void)unlink((dir_ + "/" + name).c_str());
  }
  // Old timestamped directories (the one just replaced, and any a crash left behind).
  const std::optional<std::string> current = ReadLink(data_link);
  if (DIR* d = opendir(dir_.c_str())) {
    std::vector<std::string> old;
    while (dirent* e = readdir(d)) {
      const std::string name = e->d_name;
      if (name.size() > 2 && name.compare(0, 2, "..") == 0 && name != kDataDir && name != kDataDirTmp &&
          (!current || name != *current)) {
        old.push_back(name);
      }
    }
    closedir(d);
    for (const auto& name : old) {
      if (Status s = RemoveTree(dir_ + "/" + name); !s.ok()) return s;
    }
  }
  return changed;
}

}  // namespace kite::kubelet::volumes
