// The kubelet's eviction thresholds and the pure decisions of the eviction manager, as upstream
// (pkg/kubelet/eviction) defines them:
// - signals: memory.available, nodefs.available, nodefs.inodesFree, imagefs.available,
//   imagefs.inodesFree, pid.available;
// - thresholds from --eviction-hard / --eviction-soft ("memory.available<100Mi,
//   nodefs.available<10%"; only "<"), --eviction-soft-grace-period ("memory.available=1m30s")
//   and --eviction-minimum-reclaim ("nodefs.available=500Mi"); an unset --eviction-hard means
//   upstream's defaults (memory.available<100Mi, nodefs.available<10%, nodefs.inodesFree<5%,
//   imagefs.available<15%); setting it replaces them all, as upstream does;
// - a threshold is met while the signal's available amount is below it; once met, it stays met
//   until the amount is back above threshold + minimum reclaim; a soft threshold counts only
//   after it has been met for its grace period;
// - pods are ranked for eviction as upstream ranks them: for memory, pods whose usage exceeds
//   their requests first, then lower priority, then the larger usage above requests; for disk
//   the same over ephemeral-storage usage.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace kite::kubelet::eviction {

inline constexpr const char kMemoryAvailable[] = "memory.available";
inline constexpr const char kNodeFsAvailable[] = "nodefs.available";
inline constexpr const char kNodeFsInodesFree[] = "nodefs.inodesFree";
inline constexpr const char kImageFsAvailable[] = "imagefs.available";
inline constexpr const char kImageFsInodesFree[] = "imagefs.inodesFree";
inline constexpr const char kPidAvailable[] = "pid.available";

struct Threshold {
  std::string signal;
  int64_t quantity = 0;      // when percentage < 0
  double percentage = -1;    // of the capacity, 0..1
  bool soft = false;
  std::chrono::seconds grace_period{0};  // soft only
  int64_t min_reclaim = 0;               // an amount, or …
  double min_reclaim_percentage = 0;     // … a share of the capacity
  // The amount below which the threshold is met, for a capacity.
  int64_t Amount(int64_t capacity) const;
  // The text upstream's messages show: "100Mi", "10%".
  std::string Text() const;
};

struct ThresholdFlags {
  std::vector<std::string> hard, soft, soft_grace_period, minimum_reclaim;  // comma-split items
  bool hard_set = false;  // --eviction-hard given (even empty: no hard thresholds)
};

// The thresholds the flags ask for; errors name the flag and the item.
Result<std::vector<Threshold>> ParseThresholds(const ThresholdFlags& flags);

// One observation of a signal: available and capacity (bytes, inodes or pids).
struct Observation {
  int64_t available = 0;
  int64_t capacity = 0;
};
using Observations = std::map<std::string, Observation>;

// Observes the machine: /proc/meminfo (memory.available = MemFree + Inactive(file), upstream's
// capacity − working set), statvfs of `nodefs_dir` and `imagefs_dir` (bytes and inodes), and
// kernel.pid_max − the tasks in /proc. `root` prefixes /proc for tests.
Observations Observe(const std::string& nodefs_dir, const std::string& imagefs_dir, const std::string& root = "/");

// The memory.available observation from /proc/meminfo text (nullopt without MemTotal).
std::optional<Observation> MemoryFromMeminfo(const std::string& meminfo);

// Which resource a signal starves: "memory", "ephemeral-storage" or "pids".
std::string Resource(const std::string& signal);
bool IsMemory(const std::string& signal);
bool IsDisk(const std::string& signal);

// A pod as the ranking sees it.
struct PodUsage {
  std::string key;  // ns/name
  int32_t priority = 0;
  int64_t usage = 0;    // of the starved resource (bytes)
  int64_t request = 0;  // the pod's request of it (bytes)
  bool critical = false;  // static/mirror pods and system-critical priorities are never evicted
};

// The pods in eviction order (the first goes first); critical pods are left out.
std::vector<PodUsage> Rank(std::vector<PodUsage> pods);

// Upstream's eviction message: "The node was low on resource: memory. Threshold quantity:
// 100Mi, available: 50Mi. " plus, when `container` is given, "Container c was using 70Mi,
// request is 0, has larger consumption of memory. " (the manager passes the pod's usage and
// its first container's name: per-container cgroups are not read).
std::string Message(const Threshold& t, const Observation& o, const std::string& container, int64_t container_usage,
                    int64_t container_request);

}  // namespace kite::kubelet::eviction
