// base/ip_address: the text forms flags and API fields use.
#include "base/ip_address.h"

#include <gtest/gtest.h>

namespace kite {
namespace {

TEST(IpAddressTest, RecognisesAddressesOnly) {
  EXPECT_TRUE(IsIpAddress("10.0.0.1"));
  EXPECT_TRUE(IsIpAddress("::1"));
  EXPECT_FALSE(IsIpAddress("localhost"));
  EXPECT_FALSE(IsIpAddress("10.0.0.0/8"));
  EXPECT_FALSE(IsIpAddress(""));
  EXPECT_EQ(ParseIpv4("10.1.2.3"), 0x0a010203u);
  EXPECT_FALSE(ParseIpv4("::1").has_value());
}

TEST(IpAddressTest, Ipv4CidrParsesFormatsAndContains) {
  auto c = ParseIpv4Cidr("10.42.0.0/16");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(FormatIpv4Cidr(*c), "10.42.0.0/16");
  EXPECT_TRUE(c->Contains(*ParseIpv4("10.42.7.1")));
  EXPECT_FALSE(c->Contains(*ParseIpv4("10.43.0.1")));
  auto all = ParseIpv4Cidr("0.0.0.0/0");
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->Contains(*ParseIpv4("192.168.1.1")));
  for (const char* bad : {"10.42.0.1/16", "10.42.0.0", "10.42.0.0/33", "10.42.0.0/", "10.42.0.0/1x", "10.42.0.0/-1",
                          "fd00::/64", "", "/16"}) {
    EXPECT_FALSE(ParseIpv4Cidr(bad).ok()) << bad;
  }
}

TEST(IpAddressTest, DualStackCidrsSplitByFamily) {
  auto both = SplitDualStackCidrs("10.42.0.0/16,fd00:42::/56");
  ASSERT_TRUE(both.ok()) << both.status().message();
  EXPECT_EQ(both->ipv4, "10.42.0.0/16");
  EXPECT_EQ(both->ipv6, "fd00:42::/56");
  auto swapped = SplitDualStackCidrs("fd00:42::/56, 10.42.0.0/16");
  ASSERT_TRUE(swapped.ok());
  EXPECT_EQ(swapped->ipv4, "10.42.0.0/16");
  EXPECT_EQ(swapped->ipv6, "fd00:42::/56");
  auto v4 = SplitDualStackCidrs("10.42.0.0/16");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->ipv6, "");
  auto v6 = SplitDualStackCidrs("fd00:42::/56");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->ipv4, "");
  for (const char* bad : {"10.42.0.0/16,10.43.0.0/16", "fd00::/64,fd01::/64", "10.42.0.0/16,fd00:42::1/56",
                          "10.42.0.0/16,fd00:42::/129", "10.42.0.0/16,zz::/64", "10.42.0.0/16,", "",
                          "10.42.0.0/16,fd00::/64,10.1.0.0/16"}) {
    EXPECT_FALSE(SplitDualStackCidrs(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace kite
