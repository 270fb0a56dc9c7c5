// The kubelet's resource statistics: the node's and each running pod's and container's CPU,
// memory, filesystem and network use, read from the cgroups the runtime put them in (cgroupfs
// layout: <root>/kubepods[/burstable|/besteffort]/pod<uid>/<container id>, on cgroup v2 or v1)
// and from /proc for the node. containerd 1.6's CRI ListContainerStats reports only CPU and
// memory per container (no pods, no network), so kite reads the cgroups directly, as cAdvisor
// does inside upstream's kubelet.
//
// Served as /stats/summary (the Summary API's JSON, stats/v1alpha1), /metrics/cadvisor and
// /metrics/resource (Prometheus text, upstream names and labels): see kubelet_server.h.
// usageNanoCores is the rate between two collections, so the first answer lacks it.
// Thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "agent/cri/runtime.h"
#include "base/status.h"

namespace kite::kubelet {

struct CpuMemory {
  int64_t time_ns = 0;                    // when measured
  uint64_t usage_core_ns = 0;             // cumulative CPU time
  std::optional<uint64_t> usage_nano_cores;
  uint64_t memory_usage = 0, working_set = 0, rss = 0;
  uint64_t page_faults = 0, major_page_faults = 0;
  bool has_cpu = false, has_memory = false;
};

struct ContainerStats {
  std::string name, id;
  int64_t start_ns = 0;
  CpuMemory usage;
  uint64_t logs_used = 0;
};

struct PodStats {
  std::string ns, name, uid;
  int64_t start_ns = 0;
  std::vector<ContainerStats> containers;
  CpuMemory usage;
  bool has_network = false;
  uint64_t rx_bytes = 0, tx_bytes = 0, rx_errors = 0, tx_errors = 0;
};

struct NodeStats {
  std::string name;
  int64_t start_ns = 0;  // boot time
  CpuMemory usage;
  int64_t fs_capacity = 0, fs_available = 0;
  uint64_t memory_available = 0;
  uint64_t rx_bytes = 0, tx_bytes = 0;
};

struct Summary {
  NodeStats node;
  std::vector<PodStats> pods;
};

// Where the cgroup hierarchy is: v2 (unified) or v1 (cpuacct and memory controllers).
struct CgroupFs {
  std::string root = "/sys/fs/cgroup";
  bool v2 = false;
  static CgroupFs Detect();
};

// CPU and memory of the cgroup at `rel` (e.g. "kubepods/besteffort/pod<uid>/<id>"); NotFound
// when it does not exist.
Result<CpuMemory> ReadCgroup(const CgroupFs& fs, const std::string& rel, int64_t now_ns);
// The first process of the cgroup (for its network namespace); 0 when none.
int FirstPid(const CgroupFs& fs, const std::string& rel);
// rx/tx bytes and errors of the interfaces of /proc/net/dev text, loopback excluded.
struct NetCounters {
  uint64_t rx_bytes = 0, tx_bytes = 0, rx_errors = 0, tx_errors = 0;
};
NetCounters ParseNetDev(const std::string& text);

class StatsProvider {
 public:
  StatsProvider(std::string node_name, cri::RuntimeService* runtime, std::string fs_dir,
                std::string cgroup_root = "/kubepods", CgroupFs fs = CgroupFs::Detect());
  Result<Summary> Collect();

 private:
  // Sets usage_nano_cores from the previous sample of `key`.
  void Rate(const std::string& key, CpuMemory* u);

  const std::string node_name_;
  cri::RuntimeService* runtime_;
  const std::string fs_dir_, cgroup_root_;
  const CgroupFs fs_;
  std::mutex mu_;
  std::map<std::string, std::pair<int64_t, uint64_t>> last_;  // guarded by mu_: key → (time, core ns)
};

// The Summary API's JSON (stats/v1alpha1: node and pods, as upstream's /stats/summary).
boost::json::object SummaryJson(const Summary& s);
// /metrics/resource: node_cpu_usage_seconds_total, node_memory_working_set_bytes,
// container_cpu_usage_seconds_total, container_memory_working_set_bytes, pod_cpu_usage_seconds_total,
// pod_memory_working_set_bytes, container_start_time_seconds, scrape_error.
std::string ResourceMetricsText(const Summary* s);
// /metrics/cadvisor: container_cpu_usage_seconds_total, container_memory_working_set_bytes,
// container_memory_usage_bytes, container_memory_rss, container_network_*_bytes_total,
// with container, pod, namespace and id labels (the pod itself has container="").
std::string CadvisorMetricsText(const Summary& s);

}  // namespace kite::kubelet
