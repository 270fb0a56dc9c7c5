#include "base/fs.h"

#include <errno.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

namespace kite::files {

namespace fs = std::filesystem;

namespace {

// Built with _TIME_BITS=64: glibc sends ::stat/::lstat to their 64-bit-time entry points.
static_assert(sizeof(time_t) == 8, "base/fs.cc needs -D_TIME_BITS=64 on 32-bit targets");

fs::file_type FsTypeFromMode(mode_t m) {
  if (S_ISREG(m)) return fs::file_type::regular;
  if (S_ISDIR(m)) return fs::file_type::directory;
  if (S_ISLNK(m)) return fs::file_type::symlink;
  if (S_ISCHR(m)) return fs::file_type::character;
  if (S_ISBLK(m)) return fs::file_type::block;
  if (S_ISFIFO(m)) return fs::file_type::fifo;
  if (S_ISSOCK(m)) return fs::file_type::socket;
  return fs::file_type::unknown;
}

FileInfo FsInfoFromStat(int rc, const struct stat& st, std::error_code& ec) {
  FileInfo info;
  if (rc != 0) {
    const int err = errno;
    ec.assign(err, std::generic_category());
    info.type = (err == ENOENT || err == ENOTDIR) ? fs::file_type::not_found : fs::file_type::none;
    return info;
  }
  ec.clear();
  info.type = FsTypeFromMode(st.st_mode);
  info.size = static_cast<uint64_t>(st.st_size);
  info.mtime = std::chrono::system_clock::time_point(std::chrono::duration_cast<std::chrono::system_clock::duration>(
      std::chrono::seconds(static_cast<int64_t>(st.st_mtim.tv_sec)) + std::chrono::nanoseconds(st.st_mtim.tv_nsec)));
  info.mode = st.st_mode & 07777;
  return info;
}

}  // namespace

FileInfo Stat(const Path& p, std::error_code& ec) {
  struct stat st {};
  const int rc = ::stat(p.c_str(), &st);
  return FsInfoFromStat(rc, st, ec);
}

FileInfo LinkStat(const Path& p, std::error_code& ec) {
  struct stat st {};
  const int rc = ::lstat(p.c_str(), &st);
  return FsInfoFromStat(rc, st, ec);
}

bool IsDirectory(const Path& p) {
  std::error_code ec;
  return Stat(p, ec).type == fs::file_type::directory;
}

bool IsRegularFile(const Path& p) {
  std::error_code ec;
  return Stat(p, ec).type == fs::file_type::regular;
}

uintmax_t FileSize(const Path& p, std::error_code& ec) {
  const FileInfo info = Stat(p, ec);
  if (ec) return static_cast<uintmax_t>(-1);
  if (info.type != fs::file_type::regular) {
    ec = std::make_error_code(info.type == fs::file_type::directory ? std::errc::is_a_directory
                                                                     : std::errc::not_supported);
    return static_cast<uintmax_t>(-1);
  }
  return info.size;
}

bool CreateDirectories(const Path& p, std::error_code& ec) {
  ec.clear();
  if (p.empty()) {
    ec = std::make_error_code(std::errc::invalid_argument);
    return false;
  }
  // Walk up to the first ancestor that exists, then make the missing ones top-down.
  std::vector<Path> missing;
  Path cur = p;
  while (!cur.has_filename() && cur.has_relative_path()) cur = cur.parent_path();  // "a/b/" -> "a/b"
  while (!cur.empty()) {
    const FileInfo info = Stat(cur, ec);
    if (info.type == fs::file_type::directory) break;
    if (info.type != fs::file_type::not_found) {
      if (!ec) ec = std::make_error_code(std::errc::not_a_directory);
      return false;
    }
    missing.push_back(cur);
    const Path parent = cur.parent_path();
    if (parent == cur) break;
    cur = parent;
  }
  ec.clear();
  bool made = false;
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0777) == 0) {
      made = true;
      continue;
    }
    const int err = errno;
    if (err == EEXIST && IsDirectory(*it)) continue;  // made by someone else meanwhile
    ec.assign(err, std::generic_category());
    return false;
  }
  return made;
}

void CopyTree(const Path& from, const Path& to, std::error_code& ec) {
  const FileInfo info = LinkStat(from, ec);
  if (ec) return;
  switch (info.type) {
    case fs::file_type::directory: {
      if (::mkdir(to.c_str(), 0700) != 0) {
        ec.assign(errno, std::generic_category());
        return;
      }
      // directory_iterator itself only reads directory entries: it does not stat.
      for (fs::directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
        CopyTree(it->path(), to / it->path().filename(), ec);
        if (ec) return;
      }
      if (ec) return;
      if (::chmod(to.c_str(), info.mode) != 0) ec.assign(errno, std::generic_category());
      return;
    }
    case fs::file_type::regular: {
      std::ifstream in(from, std::ios::binary);
      std::ofstream out(to, std::ios::binary | std::ios::trunc);
      if (!in || !out) {
        ec = std::make_error_code(std::errc::io_error);
        return;
      }
      if (info.size > 0) out << in.rdbuf();
      if (!out.flush()) {
        ec = std::make_error_code(std::errc::io_error);
        return;
      }
      if (::chmod(to.c_str(), info.mode) != 0) ec.assign(errno, std::generic_category());
      return;
    }
    case fs::file_type::symlink: {
      // ::readlink, not std::filesystem::read_symlink, which lstats first.
      std::string target(info.size + 1 > 4096 ? info.size + 1 : 4096, '\0');
      const ssize_t n = ::readlink(from.c_str(), target.data(), target.size());
      if (n < 0 || static_cast<size_t>(n) >= target.size()) {
        ec = n < 0 ? std::error_code(errno, std::generic_category()) : std::make_error_code(std::errc::filename_too_long);
        return;
      }
      target.resize(static_cast<size_t>(n));
      if (::symlink(target.c_str(), to.c_str()) != 0) ec.assign(errno, std::generic_category());
      return;
    }
    default:
      ec = std::make_error_code(std::errc::not_supported);
      return;
  }
}

Path TempDirectory(std::error_code& ec) {
  Path dir = "/tmp";
  for (const char* name : {"TMPDIR", "TMP", "TEMP", "TEMPDIR"}) {
    const char* v = std::getenv(name);
    if (v && *v) {
      dir = v;
      break;
    }
  }
  const FileInfo info = Stat(dir, ec);
  if (!ec && info.type != fs::file_type::directory) ec = std::make_error_code(std::errc::not_a_directory);
  return dir;
}

}  // namespace kite::files
