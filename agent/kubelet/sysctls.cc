#include "agent/kubelet/sysctls.h"

#include "api/object.h"

namespace kite::kubelet {

namespace json = boost::json;

namespace {

// Upstream's SafeSysctlAllowlist (kubelet 1.32).
constexpr const char* kSafe[] = {
    "kernel.shm_rmid_forced",       "net.ipv4.ip_local_port_range", "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",    "net.ipv4.ip_unprivileged_port_start", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",  "net.ipv4.tcp_fin_timeout",      "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes", "net.ipv4.tcp_rmem",            "net.ipv4.tcp_wmem",
};

}  // namespace

std::string NormalizeSysctlName(std::string_view name) {
  const size_t first = name.find_first_of("./");
  std::string out(name);
  if (first == std::string_view::npos || name[first] == '.') return out;
  for (char& c : out) {
    if (c == '/') c = '.';
    else if (c == '.') c = '/';
  }
  return out;
}

std::optional<SysctlAllowlist::Ns> SysctlAllowlist::NamespaceOf(std::string_view name) {
  if (name.starts_with("net.")) return Ns::kNet;
  if (name.starts_with("kernel.shm") || name.starts_with("kernel.msg") || name == "kernel.sem" ||
      name.starts_with("fs.mqueue.")) {
    return Ns::kIpc;
  }
  return std::nullopt;
}

Result<SysctlAllowlist> SysctlAllowlist::Make(const std::vector<std::string>& unsafe) {
  SysctlAllowlist a;
  for (const char* s : kSafe) a.names_.emplace_back(s, *NamespaceOf(s));
  for (const std::string& raw : unsafe) {
    if (raw.empty()) continue;
    std::string entry = NormalizeSysctlName(raw);
    const bool prefix = entry.back() == '*';
    if (prefix) entry.pop_back();
    const auto ns = NamespaceOf(entry);
    if (!ns) {
      return Status(Code::kInvalidArgument, "the sysctl \"" + raw + "\" is not known to be namespaced: --allowed-unsafe-sysctls takes "
                                            "only net.*, kernel.shm*, kernel.msg*, kernel.sem and fs.mqueue.*");
    }
    (prefix ? a.prefixes_ : a.names_).emplace_back(std::move(entry), *ns);
  }
  return a;
}

std::optional<std::string> SysctlAllowlist::Check(const std::string& name, bool host_net, bool host_ipc) const {
  auto refuse_shared = [&](Ns ns) -> std::optional<std::string> {
    if (ns == Ns::kNet && host_net) return "\"" + name + "\" not allowed with host net enabled";
    if (ns == Ns::kIpc && host_ipc) return "\"" + name + "\" not allowed with host ipc enabled";
    return std::nullopt;
  };
  for (const auto& [n, ns] : names_) {
    if (n == name) return refuse_shared(ns);
  }
  for (const auto& [p, ns] : prefixes_) {
    if (name.starts_with(p)) return refuse_shared(ns);
  }
  return "\"" + name + "\" not allowlisted";
}

std::optional<std::string> SysctlAllowlist::Admit(const json::object& pod) const {
  const json::object& spec = api::GetObject(pod, "spec");
  const bool host_net = api::GetBool(spec, "hostNetwork"), host_ipc = api::GetBool(spec, "hostIPC");
  for (const auto& [name, value] : PodSysctls(pod)) {
    if (auto why = Check(name, host_net, host_ipc)) return "forbidden sysctl: " + *why;
  }
  return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> PodSysctls(const json::object& pod) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& s : api::GetArray(pod, {"spec", "securityContext", "sysctls"})) {
    if (!s.is_object()) continue;
    std::string name = NormalizeSysctlName(api::GetString(s.as_object(), "name"));
    if (!name.empty()) out.emplace_back(std::move(name), api::GetString(s.as_object(), "value"));
  }
  return out;
}

}  // namespace kite::kubelet
