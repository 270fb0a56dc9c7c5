// agent/kubelet/eviction/thresholds: the eviction flags parsed into thresholds (upstream's
// defaults, replacement and checks), the node's observations, the ranking of pods and the
// message an evicted pod carries. The eviction of real pods is in tests/e2e/eviction.sh.
#include "agent/kubelet/eviction/thresholds.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace kite::kubelet::eviction {
namespace {

using namespace std::chrono_literals;
constexpr int64_t kMi = 1024 * 1024;

std::vector<Threshold> Parse(ThresholdFlags f) {
  auto t = ParseThresholds(f);
  EXPECT_TRUE(t.ok()) << t.status().message();
  return t.ok() ? *t : std::vector<Threshold>{};
}

TEST(EvictionThresholds, DefaultsAreUpstreams) {
  auto ts = Parse({});
  ASSERT_EQ(ts.size(), 4u);
  EXPECT_EQ(ts[0].signal, kMemoryAvailable);
  EXPECT_EQ(ts[0].Amount(0), 100 * kMi);
  EXPECT_EQ(ts[0].Text(), "100Mi");
  EXPECT_EQ(ts[1].signal, kNodeFsAvailable);
  EXPECT_EQ(ts[1].Amount(1000), 100);
  EXPECT_EQ(ts[1].Text(), "10%");
  EXPECT_EQ(ts[2].signal, kNodeFsInodesFree);
  EXPECT_EQ(ts[3].signal, kImageFsAvailable);
}

TEST(EvictionThresholds, FlagsReplaceDefaultsAndAreChecked) {
  ThresholdFlags f;
  f.hard_set = true;
  f.hard = {"memory.available<1Gi"};
  f.soft = {"nodefs.available<20%"};
  f.soft_grace_period = {"nodefs.available=1m30s"};
  f.minimum_reclaim = {"memory.available=200Mi", "nodefs.available=5%"};
  auto ts = Parse(f);
  ASSERT_EQ(ts.size(), 2u);
  EXPECT_EQ(ts[0].Amount(0), 1024 * kMi);
  EXPECT_EQ(ts[0].min_reclaim, 200 * kMi);
  EXPECT_TRUE(ts[1].soft);
  EXPECT_EQ(ts[1].grace_period, 90s);
  EXPECT_DOUBLE_EQ(ts[1].min_reclaim_percentage, 0.05);

  auto bad = [](ThresholdFlags f) { return ParseThresholds(f).status().message(); };
  EXPECT_NE(bad({.hard = {"memory.free<1Gi"}, .hard_set = true}).find("unknown eviction signal \"memory.free\""),
            std::string::npos);
  EXPECT_NE(bad({.hard = {"memory.available>1Gi"}, .hard_set = true}).find("--eviction-hard"), std::string::npos);
  EXPECT_NE(bad({.hard = {"nodefs.available<150%"}, .hard_set = true}).find("not a percentage"), std::string::npos);
  EXPECT_NE(bad({.hard = {"memory.available<lots"}, .hard_set = true}).find("not a quantity"), std::string::npos);
  EXPECT_NE(bad({.soft = {"memory.available<1Gi"}}).find("needs a --eviction-soft-grace-period"), std::string::npos);
  EXPECT_NE(bad({.soft_grace_period = {"memory.available=1m"}}).find("has no --eviction-soft"), std::string::npos);
}

TEST(EvictionObservations, MemoryIsFreePlusInactiveFile) {
  auto m = MemoryFromMeminfo("MemTotal: 4194304 kB\nMemFree: 102400 kB\nMemAvailable: 2000000 kB\nInactive(file): 51200 kB\n");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->capacity, 4194304LL * 1024);
  EXPECT_EQ(m->available, (102400LL + 51200) * 1024);
  EXPECT_FALSE(MemoryFromMeminfo("nothing"));
}

TEST(EvictionObservations, ReadsTheMachine) {
  namespace fs = std::filesystem;
  const fs::path root = fs::temp_directory_path() / ("kite-eviction-" + std::to_string(getpid()));
  fs::create_directories(root / "proc/sys/kernel");
  auto put = [&](const char* p, const char* text) { std::ofstream(root / (p + 1)) << text; };
  put("/proc/meminfo", "MemTotal: 2048 kB\nMemFree: 1024 kB\nInactive(file): 0 kB\n");
  put("/proc/sys/kernel/pid_max", "1000\n");
  put("/proc/loadavg", "0.00 0.01 0.05 1/950 12345\n");
  Observations o = Observe(root.string(), root.string(), root.string());
  EXPECT_EQ(o[kMemoryAvailable].available, 1024 * 1024);
  EXPECT_EQ(o[kPidAvailable].available, 50);
  EXPECT_EQ(o[kPidAvailable].capacity, 1000);
  EXPECT_GT(o[kNodeFsAvailable].capacity, 0);
  EXPECT_GT(o[kImageFsInodesFree].capacity, 0);
  fs::remove_all(root);
}

TEST(EvictionRanking, OverRequestsThenPriorityThenUsageAboveRequests) {
  std::vector<PodUsage> pods{
      {.key = "a/guaranteed", .priority = 0, .usage = 50, .request = 100},
      {.key = "a/besteffort-small", .priority = 0, .usage = 10, .request = 0},
      {.key = "a/besteffort-big", .priority = 0, .usage = 90, .request = 0},
      {.key = "a/important", .priority = 1000, .usage = 500, .request = 0},
      {.key = "kube-system/static", .priority = 0, .usage = 900, .request = 0, .critical = true},
  };
  auto ranked = Rank(pods);
  std::vector<std::string> keys;
  for (const auto& p : ranked) keys.push_back(p.key);
  EXPECT_EQ(keys, (std::vector<std::string>{"a/besteffort-big", "a/besteffort-small", "a/important", "a/guaranteed"}));
}

TEST(EvictionMessage, UpstreamsWording) {
  Threshold t{.signal = kMemoryAvailable, .quantity = 100 * kMi};
  EXPECT_EQ(Message(t, {50 * kMi, 1024 * kMi}, "c", 70 * kMi, 0),
            "The node was low on resource: memory. Threshold quantity: 100Mi, available: 50Mi. "
            "Container c was using 70Mi, request is 0, has larger consumption of memory. ");
  Threshold d{.signal = kNodeFsAvailable, .percentage = 0.5};
  EXPECT_EQ(Message(d, {1024 * kMi, 4096 * kMi}, "", 0, 0),
            "The node was low on resource: ephemeral-storage. Threshold quantity: 2Gi, available: 1Gi. ");
}

}  // namespace
}  // namespace kite::kubelet::eviction
