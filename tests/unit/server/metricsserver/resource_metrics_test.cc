#include "server/metricsserver/resource_metrics.h"

#include <gtest/gtest.h>

namespace kite::metricsserver {
namespace {

// As a kubelet 1.32 writes it (families and label order as upstream's).
constexpr const char* kKubeletText = R"(# HELP container_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the container in core-seconds
# TYPE container_cpu_usage_seconds_total counter
container_cpu_usage_seconds_total{container="coredns",namespace="kube-system",pod="coredns-6799fbcd5-x2l9w"} 12.345678 1733400000123
container_cpu_usage_seconds_total{container="app",namespace="default",pod="web-1"} 1.5e+00 1733400000456
# HELP container_memory_working_set_bytes [STABLE] Current working set of the container in bytes
# TYPE container_memory_working_set_bytes gauge
container_memory_working_set_bytes{container="coredns",namespace="kube-system",pod="coredns-6799fbcd5-x2l9w"} 1.4270464e+07 1733400000123
container_memory_working_set_bytes{container="app",namespace="default",pod="web-1"} 5.24288e+06 1733400000456
# HELP container_start_time_seconds [STABLE] Start time of the container since unix epoch in seconds
# TYPE container_start_time_seconds gauge
container_start_time_seconds{container="app",namespace="default",pod="web-1"} 1.7333999e+09 1733400000456
# HELP node_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the node in core-seconds
# TYPE node_cpu_usage_seconds_total counter
node_cpu_usage_seconds_total 4321.5 1733400000001
# HELP node_memory_working_set_bytes [STABLE] Current working set of the node in bytes
# TYPE node_memory_working_set_bytes gauge
node_memory_working_set_bytes 1.073741824e+09 1733400000001
# HELP pod_cpu_usage_seconds_total [STABLE] Cumulative cpu time consumed by the pod in core-seconds
# TYPE pod_cpu_usage_seconds_total counter
pod_cpu_usage_seconds_total{namespace="default",pod="web-1"} 1.5 1733400000456
# HELP resource_scrape_error [STABLE] 1 if there was an error while getting container metrics, 0 otherwise
# TYPE resource_scrape_error gauge
resource_scrape_error 0
)";

TEST(ResourceMetrics, DecodesTheKubeletsText) {
  auto m = ParseResourceMetrics(kKubeletText, 42);
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_TRUE(m->node);
  EXPECT_DOUBLE_EQ(m->node->cpu_seconds, 4321.5);
  EXPECT_EQ(m->node->timestamp_ms, 1733400000001);
  EXPECT_DOUBLE_EQ(m->node->memory_bytes, 1073741824);
  ASSERT_EQ(m->containers.size(), 2u);
  const MetricPoint& app = m->containers.at({"default", "web-1", "app"});
  EXPECT_DOUBLE_EQ(app.cpu_seconds, 1.5);
  EXPECT_DOUBLE_EQ(app.memory_bytes, 5242880);
  EXPECT_EQ(app.timestamp_ms, 1733400000456);
  EXPECT_DOUBLE_EQ(app.start_time_s, 1733399900);
  const MetricPoint& dns = m->containers.at({"kube-system", "coredns-6799fbcd5-x2l9w", "coredns"});
  EXPECT_DOUBLE_EQ(dns.start_time_s, 0);
}

TEST(ResourceMetrics, MissingTimestampsTakeTheScrapeTime) {
  auto m = ParseResourceMetrics("node_cpu_usage_seconds_total 1\nnode_memory_working_set_bytes 2\n", 777);
  ASSERT_TRUE(m.ok());
  ASSERT_TRUE(m->node);
  EXPECT_EQ(m->node->timestamp_ms, 777);
}

TEST(ResourceMetrics, IncompleteSeriesAreLeftOut) {
  // CPU without memory (and the other way round): no point, as metrics-server drops it.
  auto m = ParseResourceMetrics(
      "node_cpu_usage_seconds_total 1\n"
      "container_memory_working_set_bytes{container=\"a\",namespace=\"n\",pod=\"p\"} 5\n"
      "container_cpu_usage_seconds_total{container=\"\",namespace=\"n\",pod=\"p\"} 5\n",
      1);
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->node);
  EXPECT_TRUE(m->containers.empty());
}

TEST(ResourceMetrics, LabelEscapesAndSpacing) {
  auto m = ParseResourceMetrics(
      "container_cpu_usage_seconds_total{ container = \"a\\\"b\" , namespace=\"n\\\\s\",pod=\"p\\nq\", } 3 10\n"
      "container_memory_working_set_bytes{container=\"a\\\"b\",namespace=\"n\\\\s\",pod=\"p\\nq\"}\t+4\n",
      1);
  ASSERT_TRUE(m.ok()) << m.status().message();
  ASSERT_EQ(m->containers.size(), 1u);
  EXPECT_EQ(m->containers.begin()->first, (ContainerKey{"n\\s", "p\nq", "a\"b"}));
}

TEST(ResourceMetrics, MalformedInputFailsTheScrape) {
  for (const char* bad : {
           "node_cpu_usage_seconds_total\n",                       // no value
           "node_cpu_usage_seconds_total abc\n",                   // not a number
           "node_cpu_usage_seconds_total 1 2 3\n",                 // trailing garbage
           "node_cpu_usage_seconds_total 1 1.5\n",                 // fractional timestamp
           "x{a=\"b} 1\n",                                         // unterminated value
           "x{a=b} 1\n",                                           // unquoted value
           "x{a=\"\\q\"} 1\n",                                     // unknown escape
           "9x 1\n",                                               // bad name
           "node_cpu_usage_seconds_total -1\n",                    // negative
           "node_memory_working_set_bytes NaN\n",                  // not finite
           "container_cpu_usage_seconds_total{pod=\"p\"} +Inf\n",  // not finite
       }) {
    EXPECT_FALSE(ParseResourceMetrics(bad, 1).ok()) << bad;
  }
  // Other families may hold NaN and negatives: they are skipped, not refused.
  EXPECT_TRUE(ParseResourceMetrics("other_metric NaN\nother_metric -3\n", 1).ok());
}

}  // namespace
}  // namespace kite::metricsserver
