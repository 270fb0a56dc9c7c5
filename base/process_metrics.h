// The standard process_* metrics every Prometheus client library exports (client_golang's
// process collector names and help texts), read from /proc/self at scrape time, so that
// dashboards and alerts written for any Kubernetes component (CPU, memory, fd exhaustion,
// restarts by start time) work on kite's components too. metrics::Serialize() appends them.
#pragma once

#include <prometheus/metric_family.h>

#include <string_view>
#include <vector>

namespace kite::metrics {

// process_cpu_seconds_total, process_open_fds, process_max_fds, process_virtual_memory_bytes,
// process_virtual_memory_max_bytes, process_resident_memory_bytes, process_start_time_seconds.
// A value that cannot be read (no /proc) leaves its family out rather than reporting 0.
std::vector<prometheus::MetricFamily> ProcessFamilies();

// What ProcessFamilies reads from /proc/self/stat, parsed (exposed for tests).
struct ProcStat {
  double cpu_seconds = 0;       // utime + stime
  double start_ticks = 0;       // starttime, clock ticks after boot
  double virtual_bytes = 0;     // vsize
  double resident_pages = 0;    // rss
};
// `text` is the whole of /proc/<pid>/stat; false when it is not in that format. The command
// name (field 2) may hold spaces and parentheses, so fields are counted from the last ')'.
bool ParseProcStat(std::string_view text, long clock_ticks_per_second, ProcStat* out);

}  // namespace kite::metrics
