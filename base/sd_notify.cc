#include "base/sd_notify.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace kite {

Status SdNotify(const std::string& socket_path, const std::string& state) {
  if (socket_path.empty()) return Status::Ok();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path || (socket_path[0] != '/' && socket_path[0] != '@')) {
    return Status(Code::kInvalidArgument, "NOTIFY_SOCKET: not a unix socket path: " + socket_path);
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  if (addr.sun_path[0] == '@') addr.sun_path[0] = '\0';  // the abstract namespace
  const socklen_t len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size());
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Status(Code::kInternal, std::string("NOTIFY_SOCKET: socket: ") + std::strerror(errno));
  const ssize_t n = ::sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&addr), len);
  const int err = errno;
  ::close(fd);
  if (n < 0) return Status(Code::kUnavailable, "NOTIFY_SOCKET " + socket_path + ": " + std::strerror(err));
  return Status::Ok();
}

std::string TakeNotifySocket() {
  const char* path = std::getenv("NOTIFY_SOCKET");
  if (!path) return "";
  std::string socket_path(path);
  ::unsetenv("NOTIFY_SOCKET");
  return socket_path;
}

}  // namespace kite
