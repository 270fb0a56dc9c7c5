#include "agent/cni/plugin.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kite::cni {
namespace json = boost::json;

bool SupportedVersion(const std::string& v) {
  return v == "0.3.0" || v == "0.3.1" || v == "0.4.0" || v == "1.0.0";
}

std::string VersionJson() {
  return R"({"cniVersion":"1.0.0","supportedVersions":["0.3.0","0.3.1","0.4.0","1.0.0"]})";
}

std::string ErrorJson(const std::string& version, const Failure& f) {
  json::object o{{"cniVersion", version.empty() ? "1.0.0" : version}, {"code", f.code}, {"msg", f.msg}};
  if (!f.details.empty()) o["details"] = f.details;
  return json::serialize(o);
}

Status WriteAll(int fd, std::string_view data, const std::string& what) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status(Code::kInternal, "write " + what + ": " + std::strerror(n < 0 ? errno : EIO));
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

Failure HandOn(const Invocation& inv, char** argv) {
  const auto slash = inv.self.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : inv.self.substr(0, slash);
  const std::string path = dir + "/system/" + inv.plugin;
  // The input again on standard input: a sealed-off memory file at offset 0.
  const int fd = memfd_create("cni-config", MFD_CLOEXEC);
  if (fd < 0) return {kErrInternal, "kite-cni: memfd_create: " + std::string(std::strerror(errno))};
  if (Status s = WriteAll(fd, inv.input, "the configuration for " + path); !s.ok()) return {kErrInternal, "kite-cni: " + s.message()};
  if (lseek(fd, 0, SEEK_SET) != 0 || dup2(fd, STDIN_FILENO) < 0) {
    return {kErrInternal, "kite-cni: cannot pass the configuration to " + path + ": " + std::strerror(errno)};
  }
  argv[0] = const_cast<char*>(path.c_str());
  execv(path.c_str(), argv);
  return {kErrInternal,
          "kite-cni does not do this " + inv.plugin + " configuration, and the system plugin " + path +
              " cannot run: " + std::strerror(errno)};
}

Status EnterNetns(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return Status(err == ENOENT ? Code::kNotFound : Code::kInternal, "open netns " + path + ": " + std::strerror(err));
  }
  const int rc = setns(fd, CLONE_NEWNET);
  const int err = errno;
  close(fd);
  if (rc != 0) return Status(Code::kInternal, "enter netns " + path + ": " + std::strerror(err));
  return Status::Ok();
}

}  // namespace kite::cni
