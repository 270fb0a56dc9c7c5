#include "agent/kubelet/stats.h"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include "agent/kubelet/node_info.h"
#include "api/time.h"
#include "base/clock.h"
#include "base/fs.h"

namespace kite::kubelet {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

std::optional<std::string> Slurp(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<uint64_t> ReadU64(const std::string& path) {
  auto s = Slurp(path);
  if (!s) return std::nullopt;
  try {
    return std::stoull(*s);
  } catch (...) {
    return std::nullopt;
  }
}

// "key value" lines (cpu.stat, memory.stat).
std::map<std::string, uint64_t> ReadKeyed(const std::string& path) {
  std::map<std::string, uint64_t> out;
  std::ifstream in(path);
  std::string k;
  uint64_t v = 0;
  while (in >> k >> v) out[k] = v;
  return out;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::Real()->Now().time_since_epoch())
      .count();
}

std::string Rfc3339(int64_t ns) {
  return api::FormatTime(std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::nanoseconds(ns))));
}

}  // namespace

CgroupFs CgroupFs::Detect() {
  CgroupFs f;
  f.v2 = fs::exists("/sys/fs/cgroup/cgroup.controllers");
  return f;
}

Result<CpuMemory> ReadCgroup(const CgroupFs& f, const std::string& rel, int64_t now_ns) {
  CpuMemory u;
  u.time_ns = now_ns;
  const std::string r = rel.empty() || rel[0] == '/' ? rel : "/" + rel;
  if (f.v2) {
    const std::string dir = f.root + r;
    if (!files::IsDirectory(dir)) return Status(Code::kNotFound, "no cgroup " + dir);
    auto cpu = ReadKeyed(dir + "/cpu.stat");
    if (auto it = cpu.find("usage_usec"); it != cpu.end()) {
      u.usage_core_ns = it->second * 1000;
      u.has_cpu = true;
    }
    if (auto cur = ReadU64(dir + "/memory.current")) {
      auto m = ReadKeyed(dir + "/memory.stat");
      u.memory_usage = *cur;
      const uint64_t inactive = m["inactive_file"];
      u.working_set = *cur > inactive ? *cur - inactive : 0;
      u.rss = m["anon"];
      u.page_faults = m["pgfault"];
      u.major_page_faults = m["pgmajfault"];
      u.has_memory = true;
    }
    return u;
  }
  const std::string cpu_dir = f.root + "/cpuacct" + r, mem_dir = f.root + "/memory" + r;
  if (!files::IsDirectory(mem_dir) && !files::IsDirectory(cpu_dir)) return Status(Code::kNotFound, "no cgroup " + mem_dir);
  if (auto usage = ReadU64(cpu_dir + "/cpuacct.usage")) {
    u.usage_core_ns = *usage;
    u.has_cpu = true;
  }
  if (auto cur = ReadU64(mem_dir + "/memory.usage_in_bytes")) {
    auto m = ReadKeyed(mem_dir + "/memory.stat");
    u.memory_usage = *cur;
    const uint64_t inactive = m["total_inactive_file"];
    u.working_set = *cur > inactive ? *cur - inactive : 0;
    u.rss = m["total_rss"];
    u.page_faults = m["total_pgfault"];
    u.major_page_faults = m["total_pgmajfault"];
    u.has_memory = true;
  }
  return u;
}

int FirstPid(const CgroupFs& f, const std::string& rel) {
  const std::string r = rel.empty() || rel[0] == '/' ? rel : "/" + rel;
  std::ifstream in(f.v2 ? f.root + r + "/cgroup.procs" : f.root + "/memory" + r + "/cgroup.procs");
  int pid = 0;
  in >> pid;
  return pid;
}

NetCounters ParseNetDev(const std::string& text) {
  NetCounters n;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const size_t colon = line.find(':');
    if (colon == std::string::npos) continue;  // the two header lines
    std::string name = line.substr(0, colon);
    name.erase(0, name.find_first_not_of(' '));
    if (name == "lo") continue;
    std::istringstream f(line.substr(colon + 1));
    uint64_t v[16] = {};
    for (auto& x : v) {
      if (!(f >> x)) break;
    }
    n.rx_bytes += v[0];
    n.rx_errors += v[2];
    n.tx_bytes += v[8];
    n.tx_errors += v[10];
  }
  return n;
}

StatsProvider::StatsProvider(std::string node_name, cri::RuntimeService* runtime, std::string fs_dir,
                             std::string cgroup_root, CgroupFs f)
    : node_name_(std::move(node_name)), runtime_(runtime), fs_dir_(std::move(fs_dir)),
      cgroup_root_(std::move(cgroup_root)), fs_(std::move(f)) {}

void StatsProvider::Rate(const std::string& key, CpuMemory* u) {
  if (!u->has_cpu) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto& last = last_[key];
  if (last.first > 0 && u->time_ns > last.first && u->usage_core_ns >= last.second) {
    const double dt = static_cast<double>(u->time_ns - last.first);
    u->usage_nano_cores = static_cast<uint64_t>(static_cast<double>(u->usage_core_ns - last.second) / dt * 1e9);
  }
  last = {u->time_ns, u->usage_core_ns};
}

Result<Summary> StatsProvider::Collect() {
  Summary s;
  const int64_t now = NowNs();
  s.node.name = node_name_;
  // The node: /proc, as the root cgroup of v2 has no cpu.stat on older kernels.
  {
    CpuMemory& u = s.node.usage;
    u.time_ns = now;
    if (auto stat = Slurp("/proc/stat")) {
      std::istringstream in(*stat);
      std::string cpu;
      uint64_t user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0;
      in >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
      const long hz = sysconf(_SC_CLK_TCK);
      if (cpu == "cpu" && hz > 0) {
        u.usage_core_ns = (user + nice + system + irq + softirq + steal) * (1'000'000'000ull / static_cast<uint64_t>(hz));
        u.has_cpu = true;
      }
      const size_t bt = stat->find("\nbtime ");
      if (bt != std::string::npos) s.node.start_ns = std::stoll(stat->substr(bt + 7)) * 1'000'000'000;
    }
    std::map<std::string, uint64_t> mem;
    std::ifstream mi("/proc/meminfo");
    std::string k, unit;
    uint64_t v = 0;
    while (mi >> k >> v) {
      mem[k] = v * 1024;
      std::getline(mi, unit);
    }
    if (mem.count("MemTotal:")) {
      const uint64_t total = mem["MemTotal:"], free = mem["MemFree:"];
      u.memory_usage = total - free;
      const uint64_t inactive = mem["Inactive(file):"];
      u.working_set = u.memory_usage > inactive ? u.memory_usage - inactive : 0;
      u.rss = mem["AnonPages:"];
      s.node.memory_available = mem["MemAvailable:"];
      u.has_memory = true;
    }
    Rate("/", &u);
    auto [cap, avail] = Filesystem(fs_dir_);
    s.node.fs_capacity = cap;
    s.node.fs_available = avail;
    if (auto dev = Slurp("/proc/net/dev")) {
      NetCounters n = ParseNetDev(*dev);
      s.node.rx_bytes = n.rx_bytes;
      s.node.tx_bytes = n.tx_bytes;
    }
  }
  // The pods: their ready sandboxes, and the running containers in them.
  cri::PodSandboxFilter ready;
  ready.state = cri::PodSandboxState::kReady;
  auto sandboxes = runtime_->ListPodSandbox(ready);
  if (!sandboxes.ok()) return sandboxes.status();
  cri::ContainerFilter running;
  running.state = cri::ContainerState::kRunning;
  auto containers = runtime_->ListContainers(running);
  if (!containers.ok()) return containers.status();
  for (const auto& sb : *sandboxes) {
    PodStats p;
    p.ns = sb.metadata.namespace_;
    p.name = sb.metadata.name;
    p.uid = sb.metadata.uid;
    p.start_ns = sb.created_at;
    // The pod's cgroup: one of the three QoS places (cgroupfs names).
    std::string pod_cg;
    for (const char* qos : {"", "/burstable", "/besteffort"}) {
      const std::string rel = cgroup_root_ + qos + "/pod" + p.uid;
      if (auto u = ReadCgroup(fs_, rel, now); u.ok()) {
        pod_cg = rel;
        p.usage = *u;
        break;
      }
    }
    Rate("pod/" + p.uid, &p.usage);
    if (!pod_cg.empty()) {
      if (int pid = FirstPid(fs_, pod_cg + "/" + sb.id); pid > 0) {
        if (auto dev = Slurp("/proc/" + std::to_string(pid) + "/net/dev")) {
          NetCounters n = ParseNetDev(*dev);
          p.has_network = true;
          p.rx_bytes = n.rx_bytes;
          p.tx_bytes = n.tx_bytes;
          p.rx_errors = n.rx_errors;
          p.tx_errors = n.tx_errors;
        }
      }
    }
    for (const auto& c : *containers) {
      if (c.pod_sandbox_id != sb.id) continue;
      ContainerStats cs;
      cs.name = c.metadata.name;
      cs.id = c.id;
      cs.start_ns = c.created_at;
      if (!pod_cg.empty()) {
        if (auto u = ReadCgroup(fs_, pod_cg + "/" + c.id, now); u.ok()) cs.usage = *u;
      }
      Rate("container/" + c.id, &cs.usage);
      if (auto st = runtime_->ContainerStatus(c.id); st.ok()) {
        if (st->started_at > 0) cs.start_ns = st->started_at;
        struct stat fst {};
        if (!st->log_path.empty() && ::stat(st->log_path.c_str(), &fst) == 0) cs.logs_used = static_cast<uint64_t>(fst.st_size);
      }
      p.containers.push_back(std::move(cs));
    }
    s.pods.push_back(std::move(p));
  }
  return s;
}

namespace {

json::object CpuJson(const CpuMemory& u) {
  json::object o{{"time", Rfc3339(u.time_ns)}, {"usageCoreNanoSeconds", u.usage_core_ns}};
  if (u.usage_nano_cores) o["usageNanoCores"] = *u.usage_nano_cores;
  return o;
}

json::object MemoryJson(const CpuMemory& u, std::optional<uint64_t> available = std::nullopt) {
  json::object o{{"time", Rfc3339(u.time_ns)},       {"usageBytes", u.memory_usage}, {"workingSetBytes", u.working_set},
                 {"rssBytes", u.rss},                {"pageFaults", u.page_faults},  {"majorPageFaults", u.major_page_faults}};
  if (available) o["availableBytes"] = *available;
  return o;
}

void AddUsage(json::object& o, const CpuMemory& u, std::optional<uint64_t> available = std::nullopt) {
  if (u.has_cpu) o["cpu"] = CpuJson(u);
  if (u.has_memory) o["memory"] = MemoryJson(u, available);
}

// Prometheus text: a float as Go's strconv 'g' would print it closely enough for parsers.
std::string Num(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::string Escape(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

}  // namespace

json::object SummaryJson(const Summary& s) {
  json::object node{{"nodeName", s.node.name}};
  if (s.node.start_ns > 0) node["startTime"] = Rfc3339(s.node.start_ns);
  AddUsage(node, s.node.usage, s.node.memory_available);
  const std::string now = Rfc3339(s.node.usage.time_ns);
  node["fs"] = json::object{{"time", now},
                            {"availableBytes", s.node.fs_available},
                            {"capacityBytes", s.node.fs_capacity},
                            {"usedBytes", s.node.fs_capacity - s.node.fs_available}};
  node["network"] = json::object{{"time", now}, {"rxBytes", s.node.rx_bytes}, {"txBytes", s.node.tx_bytes}};
  json::array pods;
  for (const auto& p : s.pods) {
    json::object po{{"podRef", json::object{{"name", p.name}, {"namespace", p.ns}, {"uid", p.uid}}},
                    {"startTime", Rfc3339(p.start_ns)}};
    json::array cs;
    uint64_t logs = 0;
    for (const auto& c : p.containers) {
      json::object co{{"name", c.name}, {"startTime", Rfc3339(c.start_ns)}};
      AddUsage(co, c.usage);
      co["logs"] = json::object{{"time", now}, {"usedBytes", c.logs_used}};
      logs += c.logs_used;
      cs.push_back(std::move(co));
    }
    po["containers"] = std::move(cs);
    AddUsage(po, p.usage);
    if (p.has_network) {
      po["network"] = json::object{{"time", now},
                                   {"name", "eth0"},
                                   {"rxBytes", p.rx_bytes},
                                   {"rxErrors", p.rx_errors},
                                   {"txBytes", p.tx_bytes},
                                   {"txErrors", p.tx_errors}};
    }
    po["ephemeral-storage"] = json::object{{"time", now}, {"usedBytes", logs}};
    pods.push_back(std::move(po));
  }
  return json::object{{"node", std::move(node)}, {"pods", std::move(pods)}};
}

std::string ResourceMetricsText(const Summary* s) {
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " [STABLE] " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  auto ms = [](int64_t ns) { return std::to_string(ns / 1'000'000); };
  auto labels = [](const PodStats& p, const ContainerStats* c) {
    std::string l = "{";
    if (c) l += "container=\"" + Escape(c->name) + "\",";
    l += "namespace=\"" + Escape(p.ns) + "\",pod=\"" + Escape(p.name) + "\"}";
    return l;
  };
  if (s) {
    family("container_cpu_usage_seconds_total", "counter",
           "Cumulative cpu time consumed by the container in core-seconds");
    for (const auto& p : s->pods) {
      for (const auto& c : p.containers) {
        if (!c.usage.has_cpu) continue;
        out += "container_cpu_usage_seconds_total" + labels(p, &c) + " " + Num(static_cast<double>(c.usage.usage_core_ns) / 1e9) +
               " " + ms(c.usage.time_ns) + "\n";
      }
    }
    family("container_memory_working_set_bytes", "gauge", "Current working set of the container in bytes");
    for (const auto& p : s->pods) {
      for (const auto& c : p.containers) {
        if (!c.usage.has_memory) continue;
        out += "container_memory_working_set_bytes" + labels(p, &c) + " " + Num(static_cast<double>(c.usage.working_set)) +
               " " + ms(c.usage.time_ns) + "\n";
      }
    }
    family("container_start_time_seconds", "gauge", "Start time of the container since unix epoch in seconds");
    for (const auto& p : s->pods) {
      for (const auto& c : p.containers) {
        out += "container_start_time_seconds" + labels(p, &c) + " " + Num(static_cast<double>(c.start_ns) / 1e9) + " " +
               ms(c.start_ns) + "\n";
      }
    }
    family("node_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the node in core-seconds");
    out += "node_cpu_usage_seconds_total " + Num(static_cast<double>(s->node.usage.usage_core_ns) / 1e9) + " " +
           ms(s->node.usage.time_ns) + "\n";
    family("node_memory_working_set_bytes", "gauge", "Current working set of the node in bytes");
    out += "node_memory_working_set_bytes " + Num(static_cast<double>(s->node.usage.working_set)) + " " +
           ms(s->node.usage.time_ns) + "\n";
    family("pod_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed by the pod in core-seconds");
    for (const auto& p : s->pods) {
      if (!p.usage.has_cpu) continue;
      out += "pod_cpu_usage_seconds_total" + labels(p, nullptr) + " " + Num(static_cast<double>(p.usage.usage_core_ns) / 1e9) +
             " " + ms(p.usage.time_ns) + "\n";
    }
    family("pod_memory_working_set_bytes", "gauge", "Current working set of the pod in bytes");
    for (const auto& p : s->pods) {
      if (!p.usage.has_memory) continue;
      out += "pod_memory_working_set_bytes" + labels(p, nullptr) + " " + Num(static_cast<double>(p.usage.working_set)) +
             " " + ms(p.usage.time_ns) + "\n";
    }
  }
  family("resource_scrape_error", "gauge", "1 if there was an error while getting container metrics, 0 otherwise");
  out += std::string("resource_scrape_error ") + (s ? "0" : "1") + "\n";
  return out;
}

std::string CadvisorMetricsText(const Summary& s) {
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  auto ms = [](int64_t ns) { return std::to_string(ns / 1'000'000); };
  auto labels = [](const PodStats& p, const std::string& container, const std::string& id) {
    return "{container=\"" + Escape(container) + "\",id=\"" + Escape(id) + "\",image=\"\",name=\"\",namespace=\"" +
           Escape(p.ns) + "\",pod=\"" + Escape(p.name) + "\"}";
  };
  struct Row {
    const PodStats* pod;
    std::string container, id;
    const CpuMemory* u;
  };
  std::vector<Row> rows;
  for (const auto& p : s.pods) {
    rows.push_back({&p, "", "/kubepods/pod" + p.uid, &p.usage});
    for (const auto& c : p.containers) rows.push_back({&p, c.name, "/kubepods/pod" + p.uid + "/" + c.id, &c.usage});
  }
  family("container_cpu_usage_seconds_total", "counter", "Cumulative cpu time consumed in seconds.");
  for (const auto& r : rows) {
    if (r.u->has_cpu) {
      out += "container_cpu_usage_seconds_total" + labels(*r.pod, r.container, r.id) + " " +
             Num(static_cast<double>(r.u->usage_core_ns) / 1e9) + " " + ms(r.u->time_ns) + "\n";
    }
  }
  for (auto [name, help, field] :
       {std::tuple<const char*, const char*, uint64_t CpuMemory::*>{"container_memory_working_set_bytes",
                                                                     "Current working set in bytes.", &CpuMemory::working_set},
        {"container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed.",
         &CpuMemory::memory_usage},
        {"container_memory_rss", "Size of RSS in bytes.", &CpuMemory::rss}}) {
    family(name, "gauge", help);
    for (const auto& r : rows) {
      if (r.u->has_memory) {
        out += std::string(name) + labels(*r.pod, r.container, r.id) + " " + Num(static_cast<double>(r.u->*field)) + " " +
               ms(r.u->time_ns) + "\n";
      }
    }
  }
  for (auto [name, help, field] :
       {std::tuple<const char*, const char*, uint64_t PodStats::*>{"container_network_receive_bytes_total",
                                                                    "Cumulative count of bytes received", &PodStats::rx_bytes},
        {"container_network_transmit_bytes_total", "Cumulative count of bytes transmitted", &PodStats::tx_bytes}}) {
    family(name, "counter", help);
    for (const auto& p : s.pods) {
      if (!p.has_network) continue;
      out += std::string(name) + "{container=\"\",id=\"/kubepods/pod" + Escape(p.uid) +
             "\",image=\"\",interface=\"eth0\",name=\"\",namespace=\"" + Escape(p.ns) + "\",pod=\"" + Escape(p.name) + "\"} " +
             Num(static_cast<double>(p.*field)) + " " + ms(p.usage.time_ns) + "\n";
    }
  }
  return out;
}

}  // namespace kite::kubelet
