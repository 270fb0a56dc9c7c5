// The statistics' sources: cgroup v2 and v1 files (working set = usage - inactive file pages, as
// cAdvisor computes it) and /proc/net/dev.
#include "agent/kubelet/stats.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace kite::kubelet {
namespace {
namespace fs = std::filesystem;

TEST(ReadCgroup, V2) {
  const std::string root = ::testing::TempDir() + "/cg2";
  fs::remove_all(root);
  fs::create_directories(root + "/kubepods/podu/c1");
  std::ofstream(root + "/kubepods/podu/c1/cpu.stat") << "usage_usec 1500000\nuser_usec 1000000\n";
  std::ofstream(root + "/kubepods/podu/c1/memory.current") << "1000000\n";
  std::ofstream(root + "/kubepods/podu/c1/memory.stat") << "anon 600000\ninactive_file 300000\npgfault 7\npgmajfault 1\n";
  CgroupFs f{root, true};
  auto u = ReadCgroup(f, "/kubepods/podu/c1", 42);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->usage_core_ns, 1'500'000'000u);
  EXPECT_EQ(u->memory_usage, 1'000'000u);
  EXPECT_EQ(u->working_set, 700'000u);
  EXPECT_EQ(u->rss, 600'000u);
  EXPECT_EQ(u->page_faults, 7u);
  EXPECT_TRUE(ReadCgroup(f, "/kubepods/nope", 42).NotFound());
  fs::remove_all(root);
}

TEST(ReadCgroup, V1) {
  const std::string root = ::testing::TempDir() + "/cg1";
  fs::remove_all(root);
  fs::create_directories(root + "/cpuacct/kubepods/podu");
  fs::create_directories(root + "/memory/kubepods/podu");
  std::ofstream(root + "/cpuacct/kubepods/podu/cpuacct.usage") << "2000000000\n";
  std::ofstream(root + "/memory/kubepods/podu/memory.usage_in_bytes") << "500\n";
  std::ofstream(root + "/memory/kubepods/podu/memory.stat") << "inactive_file 1\ntotal_inactive_file 100\ntotal_rss 300\n";
  std::ofstream(root + "/memory/kubepods/podu/cgroup.procs") << "1234\n5678\n";
  CgroupFs f{root, false};
  auto u = ReadCgroup(f, "kubepods/podu", 42);
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->usage_core_ns, 2'000'000'000u);
  EXPECT_EQ(u->working_set, 400u);
  EXPECT_EQ(u->rss, 300u);
  EXPECT_EQ(FirstPid(f, "kubepods/podu"), 1234);
  fs::remove_all(root);
}

TEST(ParseNetDev, SumsInterfacesButLoopback) {
  const char* text =
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
      "    lo:  999 9 0 0 0 0 0 0 999 9 0 0 0 0 0 0\n"
      "  eth0: 1000 10 2 0 0 0 0 0 2000 20 3 0 0 0 0 0\n";
  NetCounters n = ParseNetDev(text);
  EXPECT_EQ(n.rx_bytes, 1000u);
  EXPECT_EQ(n.tx_bytes, 2000u);
  EXPECT_EQ(n.rx_errors, 2u);
  EXPECT_EQ(n.tx_errors, 3u);
}

TEST(ResourceMetricsText, AScrapeErrorIsReported) {
  EXPECT_EQ(ResourceMetricsText(nullptr),
            "# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise\n"
            "# TYPE resource_scrape_error gauge\nresource_scrape_error 1\n");
}

}  // namespace
}  // namespace kite::kubelet
