#include "datastore/private_dir.h"

#include "base/fs.h"

#include <sys/stat.h>

#include <filesystem>

namespace kite::datastore {
namespace {

namespace fs = std::filesystem;

kite::Status Restrict(const fs::path& p) {
  struct stat st{};
  if (::lstat(p.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) return kite::Status::Ok();
  const mode_t mode = st.st_mode & 07777;
  if ((mode & 077) == 0) return kite::Status::Ok();
  if (::chmod(p.c_str(), mode & ~static_cast<mode_t>(077)) != 0) {
    return kite::Status(Code::kUnavailable, "chmod " + p.string() + ": " + std::error_code(errno, std::generic_category()).message());
  }
  return kite::Status::Ok();
}

}  // namespace

kite::Status MakePrivateDir(const std::string& dir) {
  std::error_code ec;
  files::CreateDirectories(dir, ec);
  if (ec) return kite::Status(Code::kUnavailable, "create " + dir + ": " + ec.message());
  if (auto s = Restrict(dir); !s.ok()) return s;
  for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (auto s = Restrict(it->path()); !s.ok()) return s;
  }
  if (ec) return kite::Status(Code::kUnavailable, "walk " + dir + ": " + ec.message());
  return kite::Status::Ok();
}

}  // namespace kite::datastore
