// Pod sysctls (spec.securityContext.sysctls), admitted and applied as upstream's kubelet does
// (pkg/kubelet/sysctl): a pod may set a sysctl when it is on the safe list (namespaced by the
// kernel, harmless to other pods) or matches --allowed-unsafe-sysctls (names, or prefixes
// ending in "*", of namespaced groups only); a net.* sysctl is refused to a pod on the host's
// network and an IPC one to a pod on the host's IPC namespace, since it would change the
// node's. A refused pod ends Failed with reason SysctlForbidden (PodWorkers' admit handler).
// The allowed ones go into the sandbox config; the runtime sets them in the pod's namespaces.
// Thread-safety: SysctlAllowlist is immutable after Make; the functions are pure.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace kite::kubelet {

inline constexpr char kSysctlForbidden[] = "SysctlForbidden";

class SysctlAllowlist {
 public:
  // The safe list plus `unsafe` (--allowed-unsafe-sysctls). An entry outside the namespaced
  // groups (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*) is an error: a
  // node-wide sysctl set from a pod would change every pod's.
  static Result<SysctlAllowlist> Make(const std::vector<std::string>& unsafe);

  // Why the pod may not run ("forbidden sysctl: ..."), or nullopt.
  std::optional<std::string> Admit(const boost::json::object& pod) const;

 private:
  enum class Ns { kNet, kIpc };
  // The namespace a (normalized) sysctl lives in, when the kernel namespaces it.
  static std::optional<Ns> NamespaceOf(std::string_view name);
  std::optional<std::string> Check(const std::string& name, bool host_net, bool host_ipc) const;
  std::vector<std::pair<std::string, Ns>> names_, prefixes_;
};

// "net/ipv4/ip_forward" → "net.ipv4.ip_forward" (a name whose first separator is '/' swaps
// '/' and '.', so "net/ipv4/conf/eth0.100/rp_filter" keeps its dotted interface name).
std::string NormalizeSysctlName(std::string_view name);

// The pod's sysctls, names normalized, for the sandbox config.
std::vector<std::pair<std::string, std::string>> PodSysctls(const boost::json::object& pod);

}  // namespace kite::kubelet
