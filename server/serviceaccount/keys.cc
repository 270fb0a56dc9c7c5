#include "server/serviceaccount/keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

namespace kite::serviceaccount {

namespace {

constexpr char kSigningFile[] = "service.current.key";
constexpr char kVerifyingFile[] = "service.key";

// nullopt: no such file.
Result<std::optional<std::string>> ReadFile(const std::string& path) {
  if (::access(path.c_str(), F_OK) != 0 && errno == ENOENT) return std::optional<std::string>();
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kInternal, "cannot read " + path);
  std::stringstream s;
  s << in.rdbuf();
  return std::optional<std::string>(s.str());
}

// Written aside with mode 0600 from the first byte (a key is never readable by others, not even
// for a moment), fsynced, then renamed over.
Status WritePrivate(const std::string& path, const std::string& content) {
  const std::string tmp = path + ".tmp";
  const int fd = ::open(tmp.c_str(), O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return Status(Code::kInternal, "cannot write " + tmp + ": " + std::strerror(errno));
  size_t done = 0;
  bool ok = ::fchmod(fd, 0600) == 0;
  while (ok && done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status(Code::kInternal, "cannot write " + path + ": " + std::strerror(errno));
  }
  return {};
}

bool HasKid(const std::vector<jwt::Key>& keys, const std::string& kid) {
  for (const auto& k : keys) {
    if (k.kid() == kid) return true;
  }
  return false;
}

// service.key's keys, with `signing` appended (to the file too) when it is not there yet.
Result<SigningKeys> Complete(const std::string& tls_dir, jwt::Key signing) {
  const std::string vpath = tls_dir + "/" + kVerifyingFile;
  auto text = ReadFile(vpath);
  if (!text.ok()) return text.status();
  std::string content = text->value_or("");
  std::vector<jwt::Key> verifying;
  if (!content.empty()) {
    auto keys = jwt::Key::AllFromPem(content);
    if (!keys.ok()) return Status(keys.status().code(), vpath + ": " + keys.status().message());
    verifying = std::move(*keys);
  }
  if (!HasKid(verifying, signing.kid())) {
    if (!content.empty() && content.back() != '\n') content += '\n';
    content += signing.PublicPem();
    if (Status s = WritePrivate(vpath, content); !s.ok()) return s;
    verifying.push_back(signing);
  }
  return SigningKeys{std::move(signing), std::move(verifying)};
}

}  // namespace

Result<SigningKeys> LoadOrCreateKeys(const std::string& tls_dir) {
  const std::string spath = tls_dir + "/" + kSigningFile;
  auto text = ReadFile(spath);
  if (!text.ok()) return text.status();
  if (!text->has_value()) return RotateKeys(tls_dir);
  auto signing = jwt::Key::FromPem(**text);
  if (!signing.ok()) return Status(signing.status().code(), spath + ": " + signing.status().message());
  if (!signing->has_private()) return Status(Code::kInvalidArgument, spath + ": holds no private key");
  return Complete(tls_dir, std::move(*signing));
}

Result<SigningKeys> RotateKeys(const std::string& tls_dir) {
  auto key = jwt::Key::GenerateEs256();
  if (!key.ok()) return key.status();
  // service.key first: should the second write fail, the old signing key still signs tokens that
  // verify, and the next start adds the new one.
  auto keys = Complete(tls_dir, *key);
  if (!keys.ok()) return keys.status();
  if (Status s = WritePrivate(tls_dir + "/" + kSigningFile, key->PrivatePem()); !s.ok()) return s;
  return keys;
}

}  // namespace kite::serviceaccount
