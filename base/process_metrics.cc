#include "base/process_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <fstream>
#include <iterator>
#include <limits>
#include <sstream>
#include <string>

namespace kite::metrics {
namespace {

std::string ReadFile(const char* path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Seconds since the epoch at boot ("btime" in /proc/stat); 0 when unknown.
double BootTime() {
  std::istringstream in(ReadFile("/proc/stat"));
  std::string key;
  double value = 0;
  while (in >> key) {
    if (key == "btime" && (in >> value)) return value;
    in.ignore(std::numeric_limits<std::streamsize>::max(), '\n');
  }
  return 0;
}

int64_t OpenFds() {
  DIR* d = opendir("/proc/self/fd");
  if (!d) return -1;
  int64_t n = 0;
  while (const dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // the descriptor of the directory being read
}

// An unlimited rlimit is reported as the largest value, as client_golang does.
double Limit(int resource) {
  struct rlimit rl {};
  if (getrlimit(resource, &rl) != 0) return -1;
  return rl.rlim_cur == RLIM_INFINITY ? 18446744073709551615.0 : static_cast<double>(rl.rlim_cur);
}

prometheus::MetricFamily Family(const char* name, const char* help, prometheus::MetricType type, double value) {
  prometheus::MetricFamily f;
  f.name = name;
  f.help = help;
  f.type = type;
  prometheus::ClientMetric m;
  if (type == prometheus::MetricType::Counter) m.counter.value = value;
  else m.gauge.value = value;
  f.metric.push_back(m);
  return f;
}

}  // namespace

bool ParseProcStat(std::string_view text, long clock_ticks_per_second, ProcStat* out) {
  const size_t paren = text.rfind(')');
  if (paren == std::string_view::npos || clock_ticks_per_second <= 0) return false;
  // Fields after the command: 3 state, 4 ppid, ... 14 utime, 15 stime, 22 starttime, 23 vsize,
  // 24 rss (proc(5)); field k is the (k-3)th token after ')'.
  std::string_view rest = text.substr(paren + 1);
  double fields[25] = {};
  int index = 3;
  size_t i = 0;
  while (i < rest.size() && index <= 24) {
    while (i < rest.size() && rest[i] == ' ') ++i;
    size_t j = i;
    while (j < rest.size() && rest[j] != ' ' && rest[j] != '\n') ++j;
    if (j == i) break;
    if (index >= 14) {
      unsigned long long v = 0;
      auto [p, ec] = std::from_chars(rest.data() + i, rest.data() + j, v);
      if (ec != std::errc() || p != rest.data() + j) return false;
      fields[index] = static_cast<double>(v);
    }
    ++index;
    i = j;
  }
  if (index <= 24) return false;
  const double hz = static_cast<double>(clock_ticks_per_second);
  out->cpu_seconds = (fields[14] + fields[15]) / hz;
  out->start_ticks = fields[22];
  out->virtual_bytes = fields[23];
  out->resident_pages = fields[24];
  return true;
}

std::vector<prometheus::MetricFamily> ProcessFamilies() {
  using prometheus::MetricType;
  std::vector<prometheus::MetricFamily> out;
  const long hz = sysconf(_SC_CLK_TCK);
  ProcStat st;
  const bool have_stat = ParseProcStat(ReadFile("/proc/self/stat"), hz, &st);
  if (have_stat) {
    out.push_back(Family("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
                         MetricType::Counter, st.cpu_seconds));
  }
  if (int64_t fds = OpenFds(); fds >= 0) {
    out.push_back(Family("process_open_fds", "Number of open file descriptors.", MetricType::Gauge,
                         static_cast<double>(fds)));
  }
  if (double max = Limit(RLIMIT_NOFILE); max >= 0) {
    out.push_back(Family("process_max_fds", "Maximum number of open file descriptors.", MetricType::Gauge, max));
  }
  if (have_stat) {
    const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
    out.push_back(Family("process_resident_memory_bytes", "Resident memory size in bytes.", MetricType::Gauge,
                         st.resident_pages * page));
    // The start time does not change: computed once (it reads /proc/stat).
    static const double start = BootTime() > 0 ? BootTime() + st.start_ticks / static_cast<double>(hz) : 0;
    if (start > 0) {
      out.push_back(Family("process_start_time_seconds", "Start time of the process since unix epoch in seconds.",
                           MetricType::Gauge, start));
    }
    out.push_back(Family("process_virtual_memory_bytes", "Virtual memory size in bytes.", MetricType::Gauge,
                         st.virtual_bytes));
  }
  if (double max = Limit(RLIMIT_AS); max >= 0) {
    out.push_back(Family("process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.",
                         MetricType::Gauge, max));
  }
  return out;
}

}  // namespace kite::metrics
