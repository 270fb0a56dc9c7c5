#include "base/sd_notify.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>

namespace kite {
namespace {

// A datagram socket bound where systemd would put its notify socket.
int BoundSocket(const std::string& path) {
  const int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (path[0] == '@') addr.sun_path[0] = '\0';
  const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), len), 0) << std::strerror(errno);
  return fd;
}

std::string Receive(int fd) {
  char buf[256] = {};
  const ssize_t n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

TEST(SdNotify, SendsOneDatagramToAPathSocket) {
  const std::string path = (std::filesystem::temp_directory_path() / ("kite-notify-" + std::to_string(::getpid()))).string();
  std::filesystem::remove(path);
  const int fd = BoundSocket(path);
  ASSERT_TRUE(SdNotify(path, "READY=1").ok());
  EXPECT_EQ(Receive(fd), "READY=1");
  ::close(fd);
  std::filesystem::remove(path);
}

TEST(SdNotify, AbstractNamespaceSocket) {
  const std::string path = "@kite-notify-test-" + std::to_string(::getpid());
  const int fd = BoundSocket(path);
  ASSERT_TRUE(SdNotify(path, "READY=1\nSTATUS=up").ok());
  EXPECT_EQ(Receive(fd), "READY=1\nSTATUS=up");
  ::close(fd);
}

TEST(SdNotify, NoSocketIsANoOpAndABadOneAnError) {
  EXPECT_TRUE(SdNotify("", "READY=1").ok());
  EXPECT_FALSE(SdNotify("relative/path", "READY=1").ok());
  EXPECT_FALSE(SdNotify("/nonexistent/kite-notify", "READY=1").ok());
}

TEST(SdNotify, TakeNotifySocketRemovesTheVariable) {
  ::setenv("NOTIFY_SOCKET", "/run/systemd/notify", 1);
  EXPECT_EQ(TakeNotifySocket(), "/run/systemd/notify");
  EXPECT_EQ(std::getenv("NOTIFY_SOCKET"), nullptr);
  EXPECT_EQ(TakeNotifySocket(), "");
}

}  // namespace
}  // namespace kite
