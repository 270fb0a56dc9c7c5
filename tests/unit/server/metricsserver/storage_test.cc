#include "server/metricsserver/storage.h"

#include <gtest/gtest.h>

namespace kite::metricsserver {
namespace {

NodeResourceMetrics Scrape(double node_cpu, int64_t ts_ms, std::map<ContainerKey, MetricPoint> containers = {}) {
  NodeResourceMetrics m;
  m.node = MetricPoint{node_cpu, ts_ms, 1000, 0};
  m.containers = std::move(containers);
  return m;
}

TEST(MetricsStorage, NodeUsageIsTheRateBetweenTwoScrapes) {
  MetricsStorage s;
  s.Store("n1", Scrape(100, 10'000));
  EXPECT_FALSE(s.Node("n1"));  // one point: no rate yet
  s.Store("n1", Scrape(107.5, 25'000));
  auto u = s.Node("n1");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->usage.cpu_nanocores, 500'000'000);  // 7.5 core-seconds over 15 s
  EXPECT_EQ(u->usage.memory_bytes, 1000);
  EXPECT_EQ(u->window_ms, 15'000);
  EXPECT_EQ(u->timestamp_ms, 25'000);
  // The same sample again (a kubelet's cached stats) changes nothing.
  s.Store("n1", Scrape(107.5, 25'000));
  EXPECT_EQ(s.Node("n1")->window_ms, 15'000);
}

TEST(MetricsStorage, ACounterThatGoesBackStartsOver) {
  MetricsStorage s;
  s.Store("n1", Scrape(100, 10'000));
  s.Store("n1", Scrape(110, 20'000));
  s.Store("n1", Scrape(3, 30'000));  // the kubelet restarted
  EXPECT_FALSE(s.Node("n1"));
  s.Store("n1", Scrape(4, 40'000));
  EXPECT_EQ(s.Node("n1")->usage.cpu_nanocores, 100'000'000);
}

TEST(MetricsStorage, PodUsageNeedsEveryContainer) {
  MetricsStorage s;
  ContainerKey a{"ns", "p", "a"}, b{"ns", "p", "b"};
  s.Store("n1", Scrape(0, 10'000, {{a, {1, 10'000, 100, 0}}}));
  s.Store("n1", Scrape(1, 20'000, {{a, {3, 20'000, 200, 0}}, {b, {1, 20'000, 50, 0}}}));
  EXPECT_FALSE(s.Pod("ns", "p"));  // b has one point and no start time
  s.Store("n1", Scrape(2, 30'000, {{a, {4, 30'000, 300, 0}}, {b, {1.5, 30'000, 60, 0}}}));
  auto p = s.Pod("ns", "p");
  ASSERT_TRUE(p);
  ASSERT_EQ(p->containers.size(), 2u);
  EXPECT_EQ(p->containers[0].name, "a");
  EXPECT_EQ(p->containers[0].usage.cpu_nanocores, 100'000'000);
  EXPECT_EQ(p->containers[0].usage.memory_bytes, 300);
  EXPECT_EQ(p->containers[1].usage.cpu_nanocores, 50'000'000);
  EXPECT_EQ(p->window_ms, 10'000);
}

TEST(MetricsStorage, AContainerStartedSinceTheLastScrapeCountsFromItsStart) {
  MetricsStorage s;
  s.Store("n1", Scrape(0, 10'000));
  // Started at 15 s, 2.5 core-seconds by 20 s: 0.5 cores at once, no second scrape needed.
  s.Store("n1", Scrape(1, 20'000, {{{"ns", "new", "c"}, {2.5, 20'000, 10, 15.0}}}));
  auto p = s.Pod("ns", "new");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->containers[0].usage.cpu_nanocores, 500'000'000);
  EXPECT_EQ(p->window_ms, 5'000);
  // One that was already running at the first scrape of its node waits for a second point.
  MetricsStorage fresh;
  fresh.Store("n1", Scrape(0, 20'000, {{{"ns", "old", "c"}, {2.5, 20'000, 10, 15.0}}}));
  EXPECT_FALSE(fresh.Pod("ns", "old"));
}

TEST(MetricsStorage, ARestartedContainerIsMeasuredFromItsNewStart) {
  MetricsStorage s;
  ContainerKey c{"ns", "p", "c"};
  s.Store("n1", Scrape(0, 10'000, {{c, {50, 10'000, 10, 1.0}}}));
  s.Store("n1", Scrape(1, 20'000, {{c, {60, 20'000, 10, 1.0}}}));
  EXPECT_EQ(s.Pod("ns", "p")->containers[0].usage.cpu_nanocores, 1'000'000'000);
  s.Store("n1", Scrape(2, 30'000, {{c, {2, 30'000, 10, 26.0}}}));  // restarted at 26 s
  EXPECT_EQ(s.Pod("ns", "p")->containers[0].usage.cpu_nanocores, 500'000'000);
}

TEST(MetricsStorage, ScrapesReplaceANodesPodsAndRetainForgetsNodes) {
  MetricsStorage s;
  ContainerKey c{"ns", "p", "c"};
  s.Store("n1", Scrape(0, 10'000, {{c, {1, 10'000, 10, 0}}}));
  s.Store("n1", Scrape(1, 20'000, {{c, {2, 20'000, 10, 0}}}));
  ASSERT_TRUE(s.Pod("ns", "p"));
  s.Store("n1", Scrape(2, 30'000));  // the pod is gone from the node
  EXPECT_FALSE(s.Pod("ns", "p"));
  ASSERT_TRUE(s.Node("n1"));
  s.Retain({"n2"});
  EXPECT_FALSE(s.Node("n1"));
}

}  // namespace
}  // namespace kite::metricsserver
