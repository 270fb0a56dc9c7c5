#include "base/upgrade_proxy.h"

#include <gtest/gtest.h>

namespace kite {
namespace {

TEST(ParseResponseHeader, SwitchingProtocols) {
  auto a = ParseResponseHeader(
      "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: SPDY/3.1\r\n"
      "X-Stream-Protocol-Version:  v4.channel.k8s.io \r\n\r\n");
  ASSERT_TRUE(a.ok()) << a.status().message();
  EXPECT_EQ(a->status, 101);
  ASSERT_EQ(a->headers.size(), 3u);
  EXPECT_EQ(a->headers[0].first, "connection");
  EXPECT_EQ(a->Header("x-stream-protocol-version"), "v4.channel.k8s.io");
  EXPECT_EQ(a->Header("upgrade"), "SPDY/3.1");
}

TEST(ParseResponseHeader, ErrorAnswer) {
  auto a = ParseResponseHeader("HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\n\r\n");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->status, 500);
  EXPECT_EQ(a->Header("content-length"), "5");
}

TEST(ParseResponseHeader, Malformed) {
  EXPECT_FALSE(ParseResponseHeader("").ok());
  EXPECT_FALSE(ParseResponseHeader("HTTP/1.1 1x1 Nope\r\n\r\n").ok());
  EXPECT_FALSE(ParseResponseHeader("SSH-2.0-OpenSSH\r\n\r\n").ok());
  EXPECT_FALSE(ParseResponseHeader("HTTP/1.1 200 OK\r\nno colon\r\n\r\n").ok());
  EXPECT_FALSE(ParseResponseHeader("HTTP/1.1 200 OK\r\n: empty name\r\n\r\n").ok());
  EXPECT_FALSE(ParseResponseHeader("HTTP/1.1 200 OK\r\nA: b").ok());
}

}  // namespace
}  // namespace kite
