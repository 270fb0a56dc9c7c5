#include "agent/kubelet/node_info.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <sstream>
#include <thread>

#include "api/quantity.h"

namespace kite::kubelet {

namespace {

// Upstream's default hard eviction thresholds (pkg/kubelet/eviction/defaults_linux.go's values).
constexpr int64_t kEvictionMemoryBytes = 100 * 1024 * 1024;  // memory.available < 100Mi
constexpr double kEvictionNodefsFraction = 0.10;              // nodefs.available < 10%

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return std::string(s);
}

std::string Path(const std::string& root, const char* p) {
  if (root.empty() || root == "/") return p;
  return root + p;
}

}  // namespace

std::optional<int64_t> ParseMeminfo(std::string_view meminfo, std::string_view field) {
  size_t pos = 0;
  while (pos < meminfo.size()) {
    size_t end = meminfo.find('\n', pos);
    if (end == std::string_view::npos) end = meminfo.size();
    std::string_view line = meminfo.substr(pos, end - pos);
    pos = end + 1;
    if (line.size() <= field.size() || line.substr(0, field.size()) != field || line[field.size()] != ':') continue;
    std::istringstream in(std::string(line.substr(field.size() + 1)));
    int64_t value = 0;
    std::string unit;
    if (!(in >> value)) return std::nullopt;
    in >> unit;
    return unit == "kB" ? value * 1024 : value;
  }
  return std::nullopt;
}

std::string ParseOsReleasePrettyName(std::string_view os_release) {
  std::istringstream in{std::string(os_release)};
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
    std::string v = Trim(std::string_view(line).substr(12));
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front()) v = v.substr(1, v.size() - 2);
    return v;
  }
  return "Linux";
}

std::string ParseDefaultRouteInterface(std::string_view proc_net_route) {
  std::istringstream in{std::string(proc_net_route)};
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string iface, dest, gateway, flags, refcnt, use, metric, mask;
    if (!(f >> iface >> dest >> gateway >> flags >> refcnt >> use >> metric >> mask)) continue;
    if (dest == "00000000" && mask == "00000000") return iface;
  }
  return "";
}

std::string DefaultNodeIp() {
  const std::string want = ParseDefaultRouteInterface(ReadFile("/proc/net/route"));
  struct ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return "";
  std::string first_up, on_default;
  for (struct ifaddrs* a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN] = {};
    inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(a->ifa_addr)->sin_addr, buf, sizeof buf);
    if (!want.empty() && want == a->ifa_name && on_default.empty()) on_default = buf;
    if (first_up.empty() && (a->ifa_flags & IFF_UP) && !(a->ifa_flags & IFF_LOOPBACK)) first_up = buf;
  }
  freeifaddrs(list);
  return on_default.empty() ? first_up : on_default;
}

Result<MachineInfo> ReadMachineInfo(const std::string& data_dir, const std::string& root) {
  MachineInfo m;
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  m.cpus = online > 0 ? online : static_cast<int64_t>(std::thread::hardware_concurrency());
  if (m.cpus <= 0) return Status(Code::kUnavailable, "cannot count the CPUs");
  auto total = ParseMeminfo(ReadFile(Path(root, "/proc/meminfo")), "MemTotal");
  if (!total || *total <= 0) return Status(Code::kUnavailable, "cannot read MemTotal from /proc/meminfo");
  m.memory_bytes = *total;
  m.ephemeral_storage_bytes = Filesystem(data_dir).first;
  struct utsname u {};
  if (uname(&u) == 0) m.kernel_version = u.release;
  std::string os = ReadFile(Path(root, "/etc/os-release"));
  if (os.empty()) os = ReadFile(Path(root, "/usr/lib/os-release"));
  m.os_image = ParseOsReleasePrettyName(os);
  m.machine_id = Trim(ReadFile(Path(root, "/etc/machine-id")));
  m.system_uuid = Trim(ReadFile(Path(root, "/sys/class/dmi/id/product_uuid")));
  m.boot_id = Trim(ReadFile(Path(root, "/proc/sys/kernel/random/boot_id")));
  return m;
}

Status ParseReserved(const std::string& flag, const std::vector<std::string>& items,
                     std::vector<std::pair<std::string, std::string>>* out) {
  for (const std::string& item : items) {
    auto eq = item.find('=');
    const std::string name = Trim(item.substr(0, eq));
    if (eq == std::string::npos) return Status(Code::kInvalidArgument, "--" + flag + ": " + item + " is not resource=quantity");
    if (name != "cpu" && name != "memory" && name != "ephemeral-storage" && name != "pid") {
      return Status(Code::kInvalidArgument, "--" + flag + ": unknown resource " + name +
                                                " (cpu, memory, ephemeral-storage or pid)");
    }
    auto q = api::Quantity::Parse(Trim(item.substr(eq + 1)));
    if (!q.ok() || q->Sign() < 0) {
      return Status(Code::kInvalidArgument, "--" + flag + ": " + item + ": not a non-negative quantity");
    }
    out->emplace_back(name, q->String());
  }
  return Status::Ok();
}

Status SetMachine(const MachineInfo& m, int64_t max_pods, const std::vector<std::pair<std::string, std::string>>& reserved,
                  NodeTemplate* t) {
  // In Ki when whole, as upstream shows them (MemTotal is in kB; block sizes are too).
  auto bytes = [](int64_t b) { return b % 1024 == 0 ? std::to_string(b / 1024) + "Ki" : std::to_string(b); };
  if (auto s = SetCapacity(std::to_string(m.cpus), bytes(m.memory_bytes), bytes(m.ephemeral_storage_bytes), max_pods, t);
      !s.ok()) {
    return s;
  }
  api::Quantity cpu = api::Quantity::FromInt(m.cpus, api::Quantity::Format::kDecimalSI);
  api::Quantity mem = api::Quantity::FromInt(m.memory_bytes - kEvictionMemoryBytes, api::Quantity::Format::kBinarySI);
  api::Quantity eph = api::Quantity::FromInt(
      m.ephemeral_storage_bytes - static_cast<int64_t>(static_cast<double>(m.ephemeral_storage_bytes) * kEvictionNodefsFraction),
      api::Quantity::Format::kBinarySI);
  for (const auto& [name, text] : reserved) {
    auto q = api::Quantity::Parse(text);
    if (!q.ok()) return q.status();
    api::Quantity* target = name == "cpu" ? &cpu : name == "memory" ? &mem : name == "ephemeral-storage" ? &eph : nullptr;
    if (target) (void)target->Sub(*q);
  }
  for (api::Quantity* q : {&cpu, &mem, &eph}) {
    if (q->Sign() < 0) *q = api::Quantity::FromInt(0, q->format());
  }
  t->allocatable_cpu = cpu.String();
  t->allocatable_memory = mem.String();
  t->allocatable_ephemeral_storage = eph.String();
  t->kernel_version = m.kernel_version;
  t->os_image = m.os_image;
  t->machine_id = m.machine_id;
  t->system_uuid = m.system_uuid;
  t->boot_id = m.boot_id;
  return Status::Ok();
}

std::string ReadProcFile(const std::string& root, const char* path) { return ReadFile(Path(root, path)); }

int64_t CountProcesses(const std::string& root) {
  // The number of tasks the kernel has: /proc/loadavg's 4th field is "running/total".
  std::istringstream in(ReadFile(Path(root, "/proc/loadavg")));
  std::string a, b, c, runnable;
  in >> a >> b >> c >> runnable;
  auto slash = runnable.find('/');
  if (slash == std::string::npos) return -1;
  try {
    return std::stoll(runnable.substr(slash + 1));
  } catch (const std::exception&) {
    return -1;
  }
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "";
  std::string h = buf;
  std::transform(h.begin(), h.end(), h.begin(), [](unsigned char c) { return std::tolower(c); });
  return h;
}

std::pair<int64_t, int64_t> Filesystem(const std::string& dir) {
  struct statvfs fs {};
  if (statvfs(dir.c_str(), &fs) != 0) return {0, 0};
  return {static_cast<int64_t>(fs.f_blocks) * static_cast<int64_t>(fs.f_frsize),
          static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize)};
}

}  // namespace kite::kubelet
