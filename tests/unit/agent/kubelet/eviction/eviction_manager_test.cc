// agent/kubelet/eviction/eviction_manager: upstream's admission under node pressure, and the
// pressure conditions following the thresholds (transition period, minimum reclaim, soft grace
// periods, node-level reclaim first). The eviction of real pods is in tests/e2e/eviction.sh.
#include "agent/kubelet/eviction/eviction_manager.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "agent/kubelet/eviction/thresholds.h"

namespace kite::kubelet::eviction {
namespace {

using namespace std::chrono_literals;
constexpr int64_t kMi = 1024 * 1024;

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
  auto thresholds = ParseThresholds(f);
  ASSERT_TRUE(thresholds.ok()) << thresholds.status().message();
  o.thresholds = *thresholds;
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
