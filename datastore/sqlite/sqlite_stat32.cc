// Built WITHOUT _TIME_BITS=64 (datastore/CMakeLists.txt) on purpose: `struct stat` here has the
// layout Debian's armhf libsqlite3 was compiled with (64-bit off_t, 32-bit time_t), which is the
// struct SQLite passes to the functions below. Nothing else in this file may use time_t.
#include "datastore/sqlite/sqlite_stat32.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <sqlite3.h>

#include <climits>
#include <cstdint>
#include <mutex>

namespace kite::datastore {
namespace {

// A statx time in the 32-bit time_t of this file's struct stat: clamped, never EOVERFLOW.
template <typename Timespec>
void SqliteStatTime(const struct statx_timestamp& t, Timespec* out) {
  using Sec = decltype(out->tv_sec);
  const int64_t max = sizeof(Sec) >= 8 ? INT64_MAX : INT32_MAX, min = sizeof(Sec) >= 8 ? INT64_MIN : INT32_MIN;
  out->tv_sec = static_cast<Sec>(t.tv_sec > max ? max : t.tv_sec < min ? min : t.tv_sec);
  out->tv_nsec = t.tv_nsec;
}

int SqliteStatx(int dirfd, const char* path, int flags, struct stat* out) {
  struct statx sx {};
  if (::statx(dirfd, path, flags | AT_STATX_SYNC_AS_STAT, STATX_BASIC_STATS, &sx) != 0) return -1;
  *out = {};
  out->st_dev = makedev(sx.stx_dev_major, sx.stx_dev_minor);
  out->st_ino = sx.stx_ino;
  out->st_mode = sx.stx_mode;
  out->st_nlink = sx.stx_nlink;
  out->st_uid = sx.stx_uid;
  out->st_gid = sx.stx_gid;
  out->st_rdev = makedev(sx.stx_rdev_major, sx.stx_rdev_minor);
  out->st_size = static_cast<off_t>(sx.stx_size);
  out->st_blksize = static_cast<blksize_t>(sx.stx_blksize);
  out->st_blocks = static_cast<blkcnt_t>(sx.stx_blocks);
  SqliteStatTime(sx.stx_atime, &out->st_atim);
  SqliteStatTime(sx.stx_mtime, &out->st_mtim);
  SqliteStatTime(sx.stx_ctime, &out->st_ctim);
  return 0;
}

int SqliteStat(const char* path, struct stat* out) { return SqliteStatx(AT_FDCWD, path, 0, out); }
int SqliteLstat(const char* path, struct stat* out) { return SqliteStatx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, out); }
int SqliteFstat(int fd, struct stat* out) { return SqliteStatx(fd, "", AT_EMPTY_PATH, out); }

}  // namespace

void UseTime64StatInSqlite() {
  if constexpr (sizeof(time_t) >= 8) return;  // SQLite's stat is 64-bit-time already
  static std::once_flag once;
  std::call_once(once, [] {
    sqlite3_initialize();
    sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);  // "unix"; its variants share the same table
    if (!vfs || vfs->iVersion < 3 || !vfs->xSetSystemCall) return;
    vfs->xSetSystemCall(vfs, "stat", reinterpret_cast<sqlite3_syscall_ptr>(&SqliteStat));
    vfs->xSetSystemCall(vfs, "fstat", reinterpret_cast<sqlite3_syscall_ptr>(&SqliteFstat));
    vfs->xSetSystemCall(vfs, "lstat", reinterpret_cast<sqlite3_syscall_ptr>(&SqliteLstat));
  });
}

}  // namespace kite::datastore
