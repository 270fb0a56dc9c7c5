// What a real node says about itself, measured from the machine as upstream's kubelet (cAdvisor)
// measures it: capacity (CPUs, MemTotal, the data dir's filesystem, --max-pods), allocatable
// (capacity minus --kube-reserved, --system-reserved and the hard eviction thresholds),
// nodeInfo (kernel from uname, OS image from os-release's PRETTY_NAME, machine-id, DMI product
// UUID, boot_id) and the InternalIP (the address of the default route's interface). The
// pressure conditions come from the eviction manager (eviction/).
//
// The parsers are pure functions of file contents so that tests can feed them; Read* take a
// `root` prefix ("/" normally) for the same reason.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/kubelet/node_objects.h"
#include "base/status.h"

namespace kite::kubelet {

struct MachineInfo {
  int64_t cpus = 0;
  int64_t memory_bytes = 0;             // MemTotal
  int64_t ephemeral_storage_bytes = 0;  // size of the data dir's filesystem
  std::string kernel_version, os_image, machine_id, system_uuid, boot_id;
};

// Reads the machine's facts; `data_dir` must exist (its filesystem's size is the node's
// ephemeral storage). Fails only when CPU or memory cannot be read.
Result<MachineInfo> ReadMachineInfo(const std::string& data_dir, const std::string& root = "/");

// Bytes from a /proc/meminfo field ("MemTotal", "MemAvailable"), nullopt when absent.
std::optional<int64_t> ParseMeminfo(std::string_view meminfo, std::string_view field);
// PRETTY_NAME of an os-release file, unquoted; "Linux" when absent (os-release's own default).
std::string ParseOsReleasePrettyName(std::string_view os_release);
// The interface of the IPv4 default route in /proc/net/route ("" when none).
std::string ParseDefaultRouteInterface(std::string_view proc_net_route);

// The first IPv4 address of the default route's interface, else of any interface that is up and
// not loopback; "" when there is none.
std::string DefaultNodeIp();

// --kube-reserved / --system-reserved: "cpu=100m,memory=256Mi,ephemeral-storage=1Gi,pid=100" as
// the kubelet takes them; appends (resource, canonical quantity) pairs. Unknown resources and
// bad quantities are errors naming the flag.
Status ParseReserved(const std::string& flag, const std::vector<std::string>& items,
                     std::vector<std::pair<std::string, std::string>>* out);

// Fills t's capacity, allocatable and nodeInfo machine fields. Allocatable = capacity − reserved
// (both flags) − hard eviction threshold (memory 100Mi, ephemeral-storage 10% of capacity),
// never below zero.
Status SetMachine(const MachineInfo& m, int64_t max_pods, const std::vector<std::pair<std::string, std::string>>& reserved,
                  NodeTemplate* t);

// The text of a /proc (or other small) file under `root` ("" when unreadable).
std::string ReadProcFile(const std::string& root, const char* path);
// The number of tasks the kernel has (/proc/loadavg), -1 when unknown.
int64_t CountProcesses(const std::string& root = "/");

// The hostname, lower-cased (the default node name, as the kubelet's).
std::string Hostname();

// Bytes and available bytes of the filesystem holding `dir` (0, 0 when unknown).
std::pair<int64_t, int64_t> Filesystem(const std::string& dir);

}  // namespace kite::kubelet
