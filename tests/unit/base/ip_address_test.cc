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
  // Host bits dropped when asked (a NetworkPolicy's ipBlock), the form still checked.
  auto cleared = ParseIpv4Cidr("10.42.7.1/16", HostBits::kClear);
  ASSERT_TRUE(cleared.ok());
  EXPECT_EQ(FormatIpv4Cidr(*cleared), "10.42.0.0/16");
  EXPECT_EQ(FormatIpv4Cidr(*ParseIpv4Cidr("10.1.2.3/0", HostBits::kClear)), "0.0.0.0/0");
  EXPECT_FALSE(ParseIpv4Cidr("10.42.0.0/33", HostBits::kClear).ok());
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

TEST(IpAddressTest, FormatsAndSizes) {
  EXPECT_EQ(FormatIpv4(0x0a2b000a), "10.43.0.10");
  EXPECT_EQ(ParseIpv4Cidr("10.43.0.0/16")->Size(), 65536u);
  EXPECT_EQ(ParseIpv4Cidr("0.0.0.0/0")->Size(), uint64_t{1} << 32);
}

TEST(IpAddressTest, PortRangesAsKubeApiserverTakesThem) {
  auto dash = ParsePortRange("30000-32767");
  ASSERT_TRUE(dash.ok());
  EXPECT_EQ(dash->first, 30000);
  EXPECT_EQ(dash->last, 32767);
  EXPECT_EQ(dash->Size(), 2768);
  EXPECT_EQ(dash->String(), "30000-32767");
  EXPECT_TRUE(dash->Contains(32767));
  EXPECT_FALSE(dash->Contains(29999));
  auto plus = ParsePortRange("30000+2767");
  ASSERT_TRUE(plus.ok());
  EXPECT_EQ(plus->last, 32767);
  auto one = ParsePortRange("8080");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->first, 8080);
  EXPECT_EQ(one->last, 8080);
  for (const char* bad : {"", "0-10", "1-65536", "32767-30000", "a-b", "30000-", "-5", "30000+", "65000+1000",
                          "30000-32767-1", "99999999999", " 1-2"}) {
    EXPECT_FALSE(ParsePortRange(bad).ok()) << bad;
  }
  EXPECT_EQ(ParsePortRange("32767-30000").status().message(), "\"32767-30000\" is not a port range: it ends before it starts");
}

}  // namespace
}  // namespace kite
