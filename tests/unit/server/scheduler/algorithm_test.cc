// Scheduling cycles over the cache: scoring, assumed pods, inter-pod affinity, topology spread
// and node sampling.
#include <gtest/gtest.h>

#include <map>

#include "server/scheduler/algorithm.h"
#include "tests/unit/server/scheduler/test_util.h"

namespace kite::scheduler {
namespace {

using testing::Bound;
using testing::MakeNode;
using testing::MakePod;

class SchedulerAlgorithmTest : public ::testing::Test {
 protected:
  std::string Schedule(const PodInfoPtr& pod) {
    bool no_nodes = false;
    return algo_.Schedule(cache_, *pod, nominated_, &state_, &diag_, &no_nodes);
  }
  // Schedules and assumes, as the scheduling loop does.
  std::string Place(const PodInfoPtr& pod) {
    std::string node = Schedule(pod);
    if (!node.empty()) cache_.AssumePod(pod, node);
    return node;
  }
  std::string Message(const PodInfoPtr& pod) { return FitErrorMessage(diag_, *pod, ""); }

  Cache cache_;
  Algorithm algo_{AlgorithmOptions{0, 42}};
  NominatedPods nominated_;
  CycleState state_;
  Diagnosis diag_;
};

TEST_F(SchedulerAlgorithmTest, LeastAllocatedPrefersTheEmptierNode) {
  cache_.SetNode(MakeNode("busy", "4", "8Gi"));
  cache_.SetNode(MakeNode("idle", "4", "8Gi"));
  cache_.AddPod(Bound("busy", "x", "3", "6Gi"));
  EXPECT_EQ(Schedule(MakePod("p", "500m", "1Gi")), "idle");
}

TEST_F(SchedulerAlgorithmTest, AssumedPodsTakeCapacityAtOnce) {
  for (int i = 0; i < 3; ++i) cache_.SetNode(MakeNode("n" + std::to_string(i), "1", "4Gi"));
  std::map<std::string, int> per_node;
  for (int i = 0; i < 3; ++i) ++per_node[Place(MakePod("p" + std::to_string(i), "1"))];
  EXPECT_EQ(per_node.size(), 3u);  // each took a whole node
  EXPECT_EQ(Place(MakePod("late", "1")), "");
  EXPECT_EQ(Message(MakePod("late", "1")), "0/3 nodes are available: 3 Insufficient cpu.");
  cache_.ForgetPod("default/p0");
  EXPECT_NE(Place(MakePod("late", "1")), "");
}

TEST_F(SchedulerAlgorithmTest, TaintPreferNoScheduleAndPreferredNodeAffinityScore) {
  cache_.SetNode(MakeNode("tainted", "4", "8Gi", "{}", R"({"taints": [{"key": "k", "effect": "PreferNoSchedule"}]})"));
  cache_.SetNode(MakeNode("clean", "4", "8Gi"));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Schedule(MakePod("p" + std::to_string(i))), "clean");
  cache_.SetNode(MakeNode("ssd", "4", "8Gi", R"({"disk": "ssd"})"));
  auto pref = MakePod("pref", "", "", R"({"affinity": {"nodeAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
      {"weight": 50, "preference": {"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]}]}}]}}})");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Schedule(pref), "ssd");
}

const char* kAntiAffinityHostname = R"({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
    {"labelSelector": {"matchLabels": {"app": "web"}}, "topologyKey": "kubernetes.io/hostname"}]}}})";
const char* kWebLabels = R"({"labels": {"app": "web"}})";

TEST_F(SchedulerAlgorithmTest, RequiredAntiAffinitySpreadsOnePerNode) {
  for (int i = 0; i < 3; ++i) cache_.SetNode(MakeNode("n" + std::to_string(i)));
  std::map<std::string, int> per_node;
  for (int i = 0; i < 3; ++i) {
    ++per_node[Place(MakePod("web" + std::to_string(i), "", "", kAntiAffinityHostname, kWebLabels))];
  }
  EXPECT_EQ(per_node.size(), 3u);
  auto fourth = MakePod("web3", "", "", kAntiAffinityHostname, kWebLabels);
  EXPECT_EQ(Place(fourth), "");
  EXPECT_EQ(Message(fourth), "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
  // A pod without the term but matching the placed pods' terms is kept away by them.
  auto plain = MakePod("plain", "", "", "{}", kWebLabels);
  EXPECT_EQ(Place(plain), "");
  EXPECT_EQ(Message(plain), "0/3 nodes are available: 3 node(s) didn't satisfy existing pods anti-affinity rules.");
  // Other pods are not affected.
  EXPECT_NE(Place(MakePod("other")), "");
  // Deleting one frees its node.
  cache_.RemovePod("default/web1");
  EXPECT_NE(Place(fourth), "");
}

TEST_F(SchedulerAlgorithmTest, AntiAffinityByZone) {
  cache_.SetNode(MakeNode("a1", "4", "8Gi", R"({"topology.kubernetes.io/zone": "a"})"));
  cache_.SetNode(MakeNode("a2", "4", "8Gi", R"({"topology.kubernetes.io/zone": "a"})"));
  cache_.SetNode(MakeNode("b1", "4", "8Gi", R"({"topology.kubernetes.io/zone": "b"})"));
  const char* by_zone = R"({"affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
      {"labelSelector": {"matchLabels": {"app": "db"}}, "topologyKey": "topology.kubernetes.io/zone"}]}}})";
  cache_.AddPod(Bound("a1", "db0", "", "", by_zone, R"({"labels": {"app": "db"}})"));
  EXPECT_EQ(Place(MakePod("db1", "", "", by_zone, R"({"labels": {"app": "db"}})")), "b1");
  EXPECT_EQ(Place(MakePod("db2", "", "", by_zone, R"({"labels": {"app": "db"}})")), "");
  // Relabelling a node re-indexes its pods: a1 (with db0) moves to zone c, which frees zone a.
  cache_.SetNode(MakeNode("a1", "4", "8Gi", R"({"topology.kubernetes.io/zone": "c"})"));
  EXPECT_EQ(Place(MakePod("db2", "", "", by_zone, R"({"labels": {"app": "db"}})")), "a2");
}

TEST_F(SchedulerAlgorithmTest, RequiredAffinityCoLocatesAndFirstPodMayStart) {
  cache_.SetNode(MakeNode("n0"));
  cache_.SetNode(MakeNode("n1"));
  cache_.SetNode(MakeNode("n2"));
  const char* with_cache = R"({"affinity": {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
      {"labelSelector": {"matchLabels": {"app": "cache"}}, "topologyKey": "kubernetes.io/hostname"}]}}})";
  // No cache pod anywhere and the pod is not one: unschedulable (Unresolvable).
  auto web = MakePod("web", "", "", with_cache);
  EXPECT_EQ(Place(web), "");
  EXPECT_EQ(Message(web), "0/3 nodes are available: 3 node(s) didn't match pod affinity rules.");
  // A pod matching its own term may start the group anywhere; the rest follow it.
  std::string first = Place(MakePod("cache0", "", "", with_cache, R"({"labels": {"app": "cache"}})"));
  EXPECT_NE(first, "");
  for (int i = 1; i < 5; ++i) {
    EXPECT_EQ(Place(MakePod("cache" + std::to_string(i), "", "", with_cache, R"({"labels": {"app": "cache"}})")), first);
  }
  EXPECT_EQ(Place(web), first);
}

TEST_F(SchedulerAlgorithmTest, PreferredAntiAffinityScoresAwayFromMatches) {
  cache_.SetNode(MakeNode("n0"));
  cache_.SetNode(MakeNode("n1"));
  cache_.AddPod(Bound("n0", "noisy", "", "", "{}", R"({"labels": {"app": "noisy"}})"));
  // n1 is the fuller node, so resources alone would pick n0.
  cache_.AddPod(Bound("n1", "heavy", "2", "4Gi"));
  auto pod = MakePod("quiet", "", "", R"({"affinity": {"podAntiAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
      {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "noisy"}}, "topologyKey": "kubernetes.io/hostname"}}]}}})");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Schedule(pod), "n1");
}

TEST_F(SchedulerAlgorithmTest, PlacedPodsPreferencesTowardTheIncomingPodScore) {
  cache_.SetNode(MakeNode("n0"));
  cache_.SetNode(MakeNode("n1"));
  // n0 holds a pod that prefers company labelled app=friend; n0 is also the fuller node.
  cache_.AddPod(Bound("n0", "host", "2", "4Gi", R"({"affinity": {"podAffinity": {"preferredDuringSchedulingIgnoredDuringExecution": [
      {"weight": 100, "podAffinityTerm": {"labelSelector": {"matchLabels": {"app": "friend"}}, "topologyKey": "kubernetes.io/hostname"}}]}}})"));
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Schedule(MakePod("f", "", "", "{}", R"({"labels": {"app": "friend"}})")), "n0");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Schedule(MakePod("stranger")), "n1");
  // Gone with its pod.
  cache_.RemovePod("default/host");
  EXPECT_TRUE(cache_.Terms(TermKind::kPreferredAffinity).empty());
}

TEST_F(SchedulerAlgorithmTest, TopologySpreadHonoursNodeAffinityPolicy) {
  // Zone c exists only on a node the pod may not use: with nodeAffinityPolicy Honor (default) it
  // is no domain, so it does not pin the global minimum at 0.
  cache_.SetNode(MakeNode("a0", "4", "8Gi", R"({"topology.kubernetes.io/zone": "a", "pool": "x"})"));
  cache_.SetNode(MakeNode("b0", "4", "8Gi", R"({"topology.kubernetes.io/zone": "b", "pool": "x"})"));
  cache_.SetNode(MakeNode("c0", "4", "8Gi", R"({"topology.kubernetes.io/zone": "c", "pool": "y"})"));
  auto spread = [](const std::string& policy) {
    return std::string(R"({"nodeSelector": {"pool": "x"}, "topologySpreadConstraints": [{"maxSkew": 1,
        "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",)") +
           policy + R"( "labelSelector": {"matchLabels": {"app": "p"}}}]})";
  };
  for (int i = 0; i < 4; ++i) {
    EXPECT_NE(Place(MakePod("p" + std::to_string(i), "", "", spread(""), R"({"labels": {"app": "p"}})")), "");
  }
  // With Ignore, zone c (no pods, never usable) holds the minimum at 0: a and b already have 2.
  auto ignoring = MakePod("q", "", "", spread(R"("nodeAffinityPolicy": "Ignore",)"), R"({"labels": {"app": "p"}})");
  EXPECT_EQ(Place(ignoring), "");
}

TEST_F(SchedulerAlgorithmTest, TopologySpreadDoNotSchedule) {
  for (const char* z : {"a", "b"}) {
    for (int i = 0; i < 2; ++i) {
      cache_.SetNode(MakeNode(std::string(z) + std::to_string(i), "4", "8Gi",
                              std::string(R"({"topology.kubernetes.io/zone": ")") + z + "\"}"));
    }
  }
  const char* spread = R"({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
      "whenUnsatisfiable": "DoNotSchedule", "labelSelector": {"matchLabels": {"app": "s"}}}]})";
  std::map<char, int> per_zone;
  for (int i = 0; i < 6; ++i) {
    std::string n = Place(MakePod("s" + std::to_string(i), "", "", spread, R"({"labels": {"app": "s"}})"));
    ASSERT_NE(n, "");
    ++per_zone[n[0]];
    EXPECT_LE(std::abs(per_zone['a'] - per_zone['b']), 1);
  }
  EXPECT_EQ(per_zone['a'], 3);
  // Zone b full (cordon both): skew would exceed 1 in zone a.
  cache_.SetNode(MakeNode("b0", "4", "8Gi", R"({"topology.kubernetes.io/zone": "b"})", R"({"unschedulable": true})"));
  cache_.SetNode(MakeNode("b1", "4", "8Gi", R"({"topology.kubernetes.io/zone": "b"})", R"({"unschedulable": true})"));
  EXPECT_NE(Place(MakePod("s6", "", "", spread, R"({"labels": {"app": "s"}})")), "");  // a: 4, b: 3
  auto s7 = MakePod("s7", "", "", spread, R"({"labels": {"app": "s"}})");
  EXPECT_EQ(Place(s7), "");
  EXPECT_EQ(Message(s7), "0/4 nodes are available: 2 node(s) didn't match pod topology spread constraints, "
                         "2 node(s) were unschedulable.");
}

TEST_F(SchedulerAlgorithmTest, TopologySpreadMissingLabelAndMinDomains) {
  cache_.SetNode(MakeNode("a0", "4", "8Gi", R"({"topology.kubernetes.io/zone": "a"})"));
  cache_.SetNode(MakeNode("nolabel"));
  const char* spread = R"({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
      "whenUnsatisfiable": "DoNotSchedule", "minDomains": 2, "labelSelector": {"matchLabels": {"app": "m"}}}]})";
  // One domain of the two wanted: the global minimum counts as 0, so zone a takes one pod only.
  EXPECT_EQ(Place(MakePod("m0", "", "", spread, R"({"labels": {"app": "m"}})")), "a0");
  auto m1 = MakePod("m1", "", "", spread, R"({"labels": {"app": "m"}})");
  EXPECT_EQ(Place(m1), "");
  EXPECT_EQ(Message(m1), "0/2 nodes are available: 1 node(s) didn't match pod topology spread constraints, "
                         "1 node(s) didn't match pod topology spread constraints (missing required label).");
}

TEST_F(SchedulerAlgorithmTest, TopologySpreadScheduleAnywayPrefersTheEmptierDomain) {
  cache_.SetNode(MakeNode("a0", "4", "8Gi", R"({"topology.kubernetes.io/zone": "a"})"));
  cache_.SetNode(MakeNode("b0", "4", "8Gi", R"({"topology.kubernetes.io/zone": "b"})"));
  for (int i = 0; i < 3; ++i) cache_.AddPod(Bound("a0", "x" + std::to_string(i), "", "", "{}", R"({"labels": {"app": "soft"}})"));
  auto pod = MakePod("soft", "", "", R"({"topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone",
      "whenUnsatisfiable": "ScheduleAnyway", "labelSelector": {"matchLabels": {"app": "soft"}}}]})", R"({"labels": {"app": "soft"}})");
  for (int i = 0; i < 10; ++i) EXPECT_EQ(Schedule(pod), "b0");
}

TEST_F(SchedulerAlgorithmTest, NominatedPodsHoldTheirPlace) {
  cache_.SetNode(MakeNode("n0", "1"));
  auto high = MakePod("high", "1", "", R"({"priority": 100})");
  nominated_["n0"].push_back(high);
  auto low = MakePod("low", "1", "", R"({"priority": 1})");
  EXPECT_EQ(Schedule(low), "");
  EXPECT_EQ(Message(low), "0/1 nodes are available: 1 Insufficient cpu.");
  EXPECT_EQ(Schedule(high), "n0");  // not counted against itself
}

TEST(SchedulerSampling, NumFeasibleNodesToFindAsUpstream) {
  Algorithm adaptive;
  EXPECT_EQ(adaptive.NumFeasibleNodesToFind(50), 50u);
  EXPECT_EQ(adaptive.NumFeasibleNodesToFind(100), 100u);
  EXPECT_EQ(adaptive.NumFeasibleNodesToFind(1000), 420u);   // 50 - 8 = 42%
  EXPECT_EQ(adaptive.NumFeasibleNodesToFind(5000), 500u);   // 50 - 40 = 10%
  EXPECT_EQ(adaptive.NumFeasibleNodesToFind(10000), 500u);  // floor of 5%
  Algorithm all(AlgorithmOptions{100, 0});
  EXPECT_EQ(all.NumFeasibleNodesToFind(5000), 5000u);
}

TEST_F(SchedulerAlgorithmTest, SamplingRotatesOverAllNodes) {
  // 300 nodes, 50 - 2 = 48% → 144 feasible nodes per cycle; successive cycles start where the
  // last stopped, so every node is evaluated and, with equal scores, chosen at some point.
  for (int i = 0; i < 300; ++i) cache_.SetNode(MakeNode("n" + std::to_string(i), "100", "100Gi"));
  std::map<std::string, int> chosen;
  for (int i = 0; i < 600; ++i) ++chosen[Place(MakePod("p" + std::to_string(i), "10m"))];
  EXPECT_GT(chosen.size(), 250u);
}

}  // namespace
}  // namespace kite::scheduler
