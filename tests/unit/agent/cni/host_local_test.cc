// kite-cni's IPAM over a temporary directory: host-local's files and order — the gateway never
// handed out, one address per (container, ifname), the search going on after the last address
// handed out and wrapping, a full range, release (also of an old host-local's id-only file).
#include "agent/cni/host_local.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace kite::cni {
namespace {

std::string Read(const std::string& path) {
  std::ifstream f(path);
  std::stringstream s;
  s << f.rdbuf();
  return s.str();
}

class HostLocalTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/kite-host-local-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    dir_ = root_ + "/data/kite-pod-network";  // the data dir itself is made too
  }
  void TearDown() override { (void)!system(("rm -rf " + root_).c_str()); }
  std::string root_, dir_;
};

TEST_F(HostLocalTest, RangeDefaultsAndErrors) {
  auto r = MakeRange("10.42.0.0/24", "", "", "");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(FormatIpv4(r->gateway), "10.42.0.1");
  EXPECT_EQ(FormatIpv4(r->first), "10.42.0.1");
  EXPECT_EQ(FormatIpv4(r->last), "10.42.0.254");
  auto custom = MakeRange("10.42.0.0/24", "10.42.0.254", "10.42.0.10", "10.42.0.20");
  ASSERT_TRUE(custom.ok());
  EXPECT_EQ(FormatIpv4(custom->gateway), "10.42.0.254");
  EXPECT_FALSE(MakeRange("10.42.0.0/31", "", "", "").ok());
  EXPECT_FALSE(MakeRange("10.42.0.0/24", "10.43.0.1", "", "").ok());
  EXPECT_FALSE(MakeRange("10.42.0.0/24", "", "10.42.0.20", "10.42.0.10").ok());
  EXPECT_FALSE(MakeRange("nonsense", "", "", "").ok());
}

TEST_F(HostLocalTest, AllocatesInHostLocalsOrderAndFiles) {
  HostLocalStore store(dir_, *MakeRange("10.42.0.0/29", "", "", ""));  // .1 gateway, .2-.6
  auto a = store.Allocate("c1", "eth0");
  ASSERT_TRUE(a.ok()) << a.error().message();
  EXPECT_EQ(FormatIpv4(*a), "10.42.0.2");
  EXPECT_EQ(Read(dir_ + "/10.42.0.2"), "c1\r\neth0");
  EXPECT_EQ(Read(dir_ + "/last_reserved_ip.0"), "10.42.0.2");
  EXPECT_EQ(access((dir_ + "/lock").c_str(), F_OK), 0);
  // The same container and interface again: refused, as the spec and host-local do.
  auto dup = store.Allocate("c1", "eth0");
  ASSERT_FALSE(dup.ok());
  EXPECT_TRUE(dup.error().IsAlreadyExists());
  // Another interface of the same container is another holder.
  EXPECT_EQ(FormatIpv4(*store.Allocate("c1", "net1")), "10.42.0.3");
  EXPECT_EQ(FormatIpv4(*store.Allocate("c2", "eth0")), "10.42.0.4");
  // Released addresses are not reused at once: the search goes on after the last one.
  ASSERT_TRUE(store.Release("c1", "eth0").ok());
  EXPECT_NE(access((dir_ + "/10.42.0.2").c_str(), F_OK), 0);
  EXPECT_EQ(FormatIpv4(*store.Allocate("c3", "eth0")), "10.42.0.5");
  EXPECT_EQ(FormatIpv4(*store.Allocate("c4", "eth0")), "10.42.0.6");
  // Then it wraps, skipping the gateway and what is taken.
  EXPECT_EQ(FormatIpv4(*store.Allocate("c5", "eth0")), "10.42.0.2");
  auto full = store.Allocate("c6", "eth0");
  ASSERT_FALSE(full.ok());
  EXPECT_EQ(full.error().code(), Code::kResourceExhausted);
  // Releasing what nothing holds is no error.
  EXPECT_TRUE(store.Release("nobody", "eth0").ok());
}

TEST_F(HostLocalTest, ReleasesAnOldHostLocalsIdOnlyFile) {
  HostLocalStore store(dir_, *MakeRange("10.42.0.0/24", "", "", ""));
  ASSERT_TRUE(store.Allocate("c1", "eth0").ok());  // makes the directory
  std::ofstream(dir_ + "/10.42.0.9") << "old-container\n";
  std::ofstream(dir_ + "/10.42.0.10") << "other\r\neth0";
  ASSERT_TRUE(store.Release("old-container", "eth0").ok());
  EXPECT_NE(access((dir_ + "/10.42.0.9").c_str(), F_OK), 0);
  EXPECT_EQ(access((dir_ + "/10.42.0.10").c_str(), F_OK), 0);
  // A file of another holder in the range counts as taken.
  ASSERT_FALSE(store.Allocate("other", "eth0").ok());
}

}  // namespace
}  // namespace kite::cni
