// File system queries that stat, on kite's own 64-bit `stat` (issue 21). Product code calls
// these instead of the std::filesystem functions that stat.
//
// Why: on Debian 12 armhf libstdc++'s <filesystem> is compiled with a 32-bit time_t and calls the
// 32-bit `stat64`, which fails with EOVERFLOW on any file or directory whose access, change or
// modification time is past 2038-01-19 — from then on, every file kite writes and every
// directory it adds to. Measured under qemu on a file and a directory touched to 2040
// (tests/unit/time64_test.cc, StdFilesystemPast2038): status, symlink_status, is_directory,
// is_regular_file, is_symlink, file_size, last_write_time, is_empty, equivalent, copy, copy_file,
// permissions with perm_options::add/remove, create_directory on an existing directory and
// create_directories (on an existing directory, or under one) fail or answer wrongly; so do
// directory_entry's file_size and last_write_time, and its type queries where readdir gives no
// d_type. What keeps working, because it does not stat or tolerates EOVERFLOW: path operations,
// exists, absolute, canonical, rename, remove, remove_all, space, permissions (replace),
// directory_iterator and recursive_directory_iterator themselves. kite's own code is built with
// _TIME_BITS=64 (top-level CMakeLists.txt), so the ::stat these helpers call is the 64-bit one.
//
// tests/unit/fs_rule_test.sh keeps the failing std::filesystem calls out of product code
// (docs/architecture/packaging.md, "Times past 2038").
//
// Errors come back in a std::error_code, as from the std::filesystem overloads they replace, so
// a call site changes only its function name. Threading: plain functions, callable from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <system_error>

namespace kite::files {

using Path = std::filesystem::path;

struct FileInfo {
  std::filesystem::file_type type = std::filesystem::file_type::none;
  uint64_t size = 0;                                 // st_size
  std::chrono::system_clock::time_point mtime;       // last modification, nanoseconds kept
  unsigned mode = 0;                                 // permission bits (07777)
};

// stat(2) of `p` (following symlinks). A missing file: type not_found and ec = ENOENT; any
// other failure: type none and ec set.
FileInfo Stat(const Path& p, std::error_code& ec);
// lstat(2): as Stat, but a symlink is reported as itself (file_type::symlink).
FileInfo LinkStat(const Path& p, std::error_code& ec);

// Whether `p` is (after following symlinks) a directory / a regular file; false when it is
// missing or cannot be stat'ed.
bool IsDirectory(const Path& p);
bool IsRegularFile(const Path& p);

// The size of the regular file `p`; on failure (missing, not a regular file) uintmax_t(-1) and ec.
uintmax_t FileSize(const Path& p, std::error_code& ec);

// mkdir -p with mode 0777 less the umask, as std::filesystem::create_directories: true when it
// made the last one; false and ec clear when `p` is a directory already; false and ec set on
// failure (ENOTDIR when something on the way is not a directory).
bool CreateDirectories(const Path& p, std::error_code& ec);

// Copies the directory tree `from` to `to` (which must not exist): directories, regular files
// with their permission bits, symlinks as symlinks. Stops at the first error (ec).
void CopyTree(const Path& from, const Path& to, std::error_code& ec);

// TMPDIR (or TMP, TEMP, TEMPDIR) when it names a directory, else /tmp; ec set when that is not a
// directory. std::filesystem::temp_directory_path's choice.
Path TempDirectory(std::error_code& ec);

}  // namespace kite::files
