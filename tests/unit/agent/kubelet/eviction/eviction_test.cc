// Eviction thresholds, observations, ranking, messages and the manager's conditions
// (agent/kubelet/eviction/). The eviction of real pods is in tests/e2e/eviction.sh.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <filesystem>
#include <fstream>

#include "agent/kubelet/eviction/eviction_manager.h"
#include "agent/kubelet/eviction/thresholds.h"

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

// Upstream's eviction admission: memory pressure alone refuses BestEffort pods only (unless
// they tolerate the memory-pressure taint); disk or PID pressure refuses every pod; critical
// pods always get in.
TEST(EvictionAdmission, UpstreamsRules) {
  auto pod = [](const char* json_text) { return boost::json::parse(json_text).as_object(); };
  const auto best_effort = pod(R"({"metadata":{"name":"b"},"spec":{"containers":[{"name":"c"}]}})");
  const auto burstable =
      pod(R"({"metadata":{"name":"u"},"spec":{"containers":[{"name":"c","resources":{"requests":{"memory":"10Mi"}}}]}})");
  const auto tolerant = pod(R"({"metadata":{"name":"t"},"spec":{"containers":[{"name":"c"}],
      "tolerations":[{"key":"node.kubernetes.io/memory-pressure","operator":"Exists","effect":"NoSchedule"}]}})");
  const auto critical = pod(R"({"metadata":{"name":"k"},"spec":{"priority":2000001000,"containers":[{"name":"c"}]}})");
  const auto mirror = pod(R"({"metadata":{"name":"m","annotations":{"kubernetes.io/config.mirror":"x"}},
      "spec":{"containers":[{"name":"c"}]}})");

  NodeHealth calm;
  EXPECT_FALSE(EvictionManager::AdmitUnder(calm, best_effort));

  NodeHealth memory;
  memory.memory_pressure = true;
  EXPECT_EQ(EvictionManager::AdmitUnder(memory, best_effort), "The node had condition: [MemoryPressure]. ");
  EXPECT_FALSE(EvictionManager::AdmitUnder(memory, burstable));
  EXPECT_FALSE(EvictionManager::AdmitUnder(memory, tolerant));
  EXPECT_FALSE(EvictionManager::AdmitUnder(memory, critical));

  NodeHealth disk;
  disk.disk_pressure = true;
  EXPECT_EQ(EvictionManager::AdmitUnder(disk, burstable), "The node had condition: [DiskPressure]. ");
  EXPECT_EQ(EvictionManager::AdmitUnder(disk, tolerant), "The node had condition: [DiskPressure]. ");
  EXPECT_FALSE(EvictionManager::AdmitUnder(disk, mirror));

  NodeHealth both = memory;
  both.disk_pressure = true;
  EXPECT_EQ(EvictionManager::AdmitUnder(both, burstable), "The node had condition: [MemoryPressure DiskPressure]. ");
  NodeHealth pid;
  pid.pid_pressure = true;
  EXPECT_EQ(EvictionManager::AdmitUnder(pid, burstable), "The node had condition: [PIDPressure]. ");
}

TEST(EvictionManager, ConditionsFollowThresholdsWithTransitionPeriodAndMinimumReclaim) {
  EvictionManager::Options o;
  ThresholdFlags f;
  f.hard_set = true;
  f.hard = {"memory.available<100Mi", "nodefs.available<10%"};
  f.soft = {"pid.available<100"};
  f.soft_grace_period = {"pid.available=30s"};
  f.minimum_reclaim = {"memory.available=50Mi"};
  o.thresholds = Parse(f);
  o.pressure_transition_period = 60s;
  int reclaimed = 0;
  EvictionManager m(nullptr, nullptr, [&](int64_t) { ++reclaimed; return int64_t{1} << 40; }, o);
  const auto t0 = std::chrono::steady_clock::time_point{} + 1000s;
  auto obs = [](int64_t mem, int64_t disk, int64_t pids) {
    return Observations{{kMemoryAvailable, {mem, 1024 * kMi}},
                        {kNodeFsAvailable, {disk, 1000}},
                        {kPidAvailable, {pids, 1000}}};
  };
  m.Synchronize(obs(500 * kMi, 500, 900), t0);
  EXPECT_FALSE(m.Health().memory_pressure);
  // Memory under 100Mi: pressure (no pod informer here, so no victim).
  m.Synchronize(obs(90 * kMi, 500, 900), t0 + 10s);
  EXPECT_TRUE(m.Health().memory_pressure);
  // 120Mi is above the threshold but not above threshold + minimum reclaim: still met.
  m.Synchronize(obs(120 * kMi, 500, 900), t0 + 20s);
  EXPECT_TRUE(m.Health().memory_pressure);
  // Recovered; the condition stays for the transition period after the last time it was met.
  m.Synchronize(obs(200 * kMi, 500, 900), t0 + 30s);
  EXPECT_TRUE(m.Health().memory_pressure);
  m.Synchronize(obs(200 * kMi, 500, 900), t0 + 81s);
  EXPECT_FALSE(m.Health().memory_pressure);
  // Disk: node-level reclaim (images) goes first and here frees enough.
  EXPECT_EQ(m.Synchronize(obs(200 * kMi, 50, 900), t0 + 90s), "");
  EXPECT_EQ(reclaimed, 1);
  EXPECT_TRUE(m.Health().disk_pressure);
  // A soft threshold counts only after its grace period.
  m.Synchronize(obs(200 * kMi, 500, 50), t0 + 100s);
  EXPECT_FALSE(m.Health().pid_pressure);
  m.Synchronize(obs(200 * kMi, 500, 50), t0 + 129s);
  EXPECT_FALSE(m.Health().pid_pressure);
  m.Synchronize(obs(200 * kMi, 500, 50), t0 + 131s);
  EXPECT_TRUE(m.Health().pid_pressure);
}

}  // namespace
}  // namespace kite::kubelet::eviction
