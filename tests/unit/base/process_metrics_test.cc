#include "base/process_metrics.h"

#include <gtest/gtest.h>

#include <ctime>
#include <map>

#include "base/metrics.h"

namespace kite::metrics {
namespace {

TEST(ProcStat, FieldsCountFromTheLastParenthesis) {
  // A command name with spaces and a ')' inside; utime 250, stime 150, starttime 1000,
  // vsize 4096000, rss 300 (proc(5)'s fields 14, 15, 22, 23, 24).
  const char* text =
      "1234 (a) b (c) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 150 0 0 20 0 3 0 1000 4096000 300 "
      "18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n";
  ProcStat st;
  ASSERT_TRUE(ParseProcStat(text, 100, &st));
  EXPECT_DOUBLE_EQ(st.cpu_seconds, 4.0);
  EXPECT_DOUBLE_EQ(st.start_ticks, 1000);
  EXPECT_DOUBLE_EQ(st.virtual_bytes, 4096000);
  EXPECT_DOUBLE_EQ(st.resident_pages, 300);
}

TEST(ProcStat, RejectsWhatIsNotStat) {
  ProcStat st;
  EXPECT_FALSE(ParseProcStat("", 100, &st));
  EXPECT_FALSE(ParseProcStat("1 (x) S 1 2 3", 100, &st));
  EXPECT_FALSE(ParseProcStat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 zz 1 0 0 20 0 1 0 5 6 7 0", 100, &st));
  EXPECT_FALSE(ParseProcStat("no parenthesis here", 100, &st));
}

TEST(ProcessFamilies, ReportsThisProcess) {
  std::map<std::string, prometheus::MetricFamily> by_name;
  for (auto& f : ProcessFamilies()) by_name[f.name] = f;
  for (const char* name : {"process_cpu_seconds_total", "process_open_fds", "process_max_fds",
                           "process_virtual_memory_bytes", "process_resident_memory_bytes",
                           "process_start_time_seconds", "process_virtual_memory_max_bytes"}) {
    ASSERT_TRUE(by_name.count(name)) << name;
    ASSERT_EQ(by_name[name].metric.size(), 1u) << name;
  }
  EXPECT_EQ(by_name["process_cpu_seconds_total"].type, prometheus::MetricType::Counter);
  EXPECT_GT(by_name["process_open_fds"].metric[0].gauge.value, 2);  // stdin, stdout, stderr at least
  EXPECT_GE(by_name["process_max_fds"].metric[0].gauge.value, by_name["process_open_fds"].metric[0].gauge.value);
  EXPECT_GT(by_name["process_resident_memory_bytes"].metric[0].gauge.value, 1 << 20);
  EXPECT_GE(by_name["process_virtual_memory_bytes"].metric[0].gauge.value,
            by_name["process_resident_memory_bytes"].metric[0].gauge.value);
  const double start = by_name["process_start_time_seconds"].metric[0].gauge.value;
  const double now = static_cast<double>(std::time(nullptr));
  EXPECT_LE(start, now + 1);
  EXPECT_GT(start, now - 7 * 86400);  // this test binary started recently
}

TEST(ProcessFamilies, SerializedWithTheRegistry) {
  const std::string text = Serialize();
  EXPECT_NE(text.find("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total "), std::string::npos);
  EXPECT_NE(text.find("# TYPE process_start_time_seconds gauge\n"), std::string::npos);
}

}  // namespace
}  // namespace kite::metrics
