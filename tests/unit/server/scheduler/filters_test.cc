// The per-node filters, pod parsing (requests, priority) and the FitError message.
#include <gtest/gtest.h>

#include "server/scheduler/algorithm.h"
#include "server/scheduler/filters.h"
#include "tests/unit/server/scheduler/test_util.h"

namespace kite::scheduler {
namespace {

using testing::Bound;
using testing::MakeNode;
using testing::MakePod;

std::vector<std::string> Reasons(const PodInfo& pod, const NodeInfo& node) {
  std::vector<std::string> out;
  AppendReasons(RunNodeFilters(pod, node), pod, node, &out);
  return out;
}

NodeInfo Node(NodeSpecPtr spec) {
  NodeInfo n(spec->name);
  n.SetSpec(std::move(spec));
  return n;
}

TEST(SchedulerPodInfo, RequestsFollowUpstreamPodRequests) {
  // Two containers sum; a regular init container counts as the maximum; overhead adds.
  auto pod = MakePod("p", "", "", R"({
    "containers": [
      {"name": "a", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}},
      {"name": "b", "resources": {"requests": {"cpu": "200m"}, "limits": {"memory": "128Mi"}}}],
    "initContainers": [{"name": "i", "resources": {"requests": {"cpu": "1", "memory": "10Mi"}}}],
    "overhead": {"cpu": "50m"}})");
  EXPECT_EQ(pod->requests.milli_cpu, 1050);               // max(300, 1000) + 50
  EXPECT_EQ(pod->requests.memory, (64 + 128) << 20);       // limits stand in for missing requests
  EXPECT_EQ(pod->requests.pods, 1);
  // Non-zero view for scoring: container "a" and "b" state both.
  EXPECT_EQ(pod->non_zero_milli_cpu, 1050);
}

TEST(SchedulerPodInfo, SidecarsAddToTheSum) {
  auto pod = MakePod("p", "", "", R"({
    "containers": [{"name": "a", "resources": {"requests": {"cpu": "500m"}}}],
    "initContainers": [
      {"name": "side", "restartPolicy": "Always", "resources": {"requests": {"cpu": "200m"}}},
      {"name": "init", "resources": {"requests": {"cpu": "600m"}}}]})");
  // 500 + 200 (sidecar) vs init 600 + 200 (sidecar running beside it) = 800.
  EXPECT_EQ(pod->requests.milli_cpu, 800);
}

TEST(SchedulerPodInfo, NonZeroDefaultsForScoring) {
  auto pod = MakePod("p");
  EXPECT_EQ(pod->requests.milli_cpu, 0);
  EXPECT_EQ(pod->non_zero_milli_cpu, 100);
  EXPECT_EQ(pod->non_zero_memory, 200 << 20);
}

TEST(SchedulerPodInfo, PriorityFromClassWhenNotSet) {
  auto obj = std::make_shared<const boost::json::object>(
      testing::PodObject("p", "", "", R"({"priorityClassName": "high"})"));
  auto pod = ParsePod(obj, [](const std::string& name) -> std::optional<std::pair<int32_t, std::string>> {
    if (name == "high") return std::pair<int32_t, std::string>{1000, "Never"};
    return std::nullopt;
  });
  EXPECT_EQ(pod->priority, 1000);
  EXPECT_TRUE(pod->preempt_never);
  auto explicit_prio = MakePod("q", "", "", R"({"priority": 7, "priorityClassName": "high"})");
  EXPECT_EQ(explicit_prio->priority, 7);
  EXPECT_EQ(MakePod("r", "", "", R"({"priorityClassName": "system-node-critical"})")->priority, 2000001000);
}

TEST(SchedulerFilters, UnschedulableNodeUnlessTolerated) {
  NodeInfo node = Node(MakeNode("n1", "4", "8Gi", "{}", R"({"unschedulable": true})"));
  EXPECT_EQ(Reasons(*MakePod("p"), node), std::vector<std::string>{"node(s) were unschedulable"});
  EXPECT_EQ(RunNodeFilters(*MakePod("p"), node).code, FilterCode::kUnresolvable);
  auto tolerant = MakePod("t", "", "", R"({"tolerations": [{"key": "node.kubernetes.io/unschedulable",
                                                            "operator": "Exists", "effect": "NoSchedule"}]})");
  EXPECT_TRUE(RunNodeFilters(*tolerant, node).ok());
}

TEST(SchedulerFilters, TaintsAndTolerations) {
  NodeInfo node = Node(MakeNode("n1", "4", "8Gi", "{}", R"({"taints": [
      {"key": "soft", "value": "x", "effect": "PreferNoSchedule"},
      {"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]})"));
  EXPECT_EQ(Reasons(*MakePod("p"), node), std::vector<std::string>{"node(s) had untolerated taint {dedicated: gpu}"});
  auto equal = MakePod("e", "", "", R"({"tolerations": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]})");
  EXPECT_TRUE(RunNodeFilters(*equal, node).ok());
  auto wrong_value = MakePod("w", "", "", R"({"tolerations": [{"key": "dedicated", "value": "cpu"}]})");
  EXPECT_FALSE(RunNodeFilters(*wrong_value, node).ok());
  auto exists = MakePod("x", "", "", R"({"tolerations": [{"key": "dedicated", "operator": "Exists"}]})");
  EXPECT_TRUE(RunNodeFilters(*exists, node).ok());
  auto everything = MakePod("y", "", "", R"({"tolerations": [{"operator": "Exists"}]})");
  EXPECT_TRUE(RunNodeFilters(*everything, node).ok());
  auto other_effect = MakePod("z", "", "", R"({"tolerations": [{"key": "dedicated", "operator": "Exists",
                                                                "effect": "NoExecute"}]})");
  EXPECT_FALSE(RunNodeFilters(*other_effect, node).ok());
}

TEST(SchedulerFilters, NodeSelectorAndRequiredAffinity) {
  NodeInfo node = Node(MakeNode("n1", "4", "8Gi", R"({"disk": "ssd", "gen": "5"})"));
  const std::string mismatch = "node(s) didn't match Pod's node affinity/selector";
  EXPECT_TRUE(RunNodeFilters(*MakePod("a", "", "", R"({"nodeSelector": {"disk": "ssd"}})"), node).ok());
  EXPECT_EQ(Reasons(*MakePod("b", "", "", R"({"nodeSelector": {"disk": "hdd"}})"), node), std::vector{mismatch});
  auto affinity = [](const std::string& terms) {
    return MakePod("p", "", "", R"({"affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
             {"nodeSelectorTerms": )" + terms + "}}}}");
  };
  EXPECT_TRUE(RunNodeFilters(*affinity(R"([{"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd", "nvme"]}]}])"), node).ok());
  EXPECT_FALSE(RunNodeFilters(*affinity(R"([{"matchExpressions": [{"key": "disk", "operator": "NotIn", "values": ["ssd"]}]}])"), node).ok());
  EXPECT_TRUE(RunNodeFilters(*affinity(R"([{"matchExpressions": [{"key": "disk", "operator": "Exists"}]}])"), node).ok());
  EXPECT_FALSE(RunNodeFilters(*affinity(R"([{"matchExpressions": [{"key": "disk", "operator": "DoesNotExist"}]}])"), node).ok());
  EXPECT_TRUE(RunNodeFilters(*affinity(R"([{"matchExpressions": [{"key": "gen", "operator": "Gt", "values": ["4"]}]}])"), node).ok());
  EXPECT_FALSE(RunNodeFilters(*affinity(R"([{"matchExpressions": [{"key": "gen", "operator": "Lt", "values": ["5"]}]}])"), node).ok());
  EXPECT_TRUE(RunNodeFilters(*affinity(R"([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}])"), node).ok());
  EXPECT_FALSE(RunNodeFilters(*affinity(R"([{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n2"]}]}])"), node).ok());
  // Terms are ORed; requirements in a term ANDed; an empty term matches nothing.
  EXPECT_TRUE(RunNodeFilters(*affinity(R"([{"matchExpressions": [{"key": "disk", "operator": "In", "values": ["hdd"]}]},
                                          {"matchExpressions": [{"key": "gen", "operator": "In", "values": ["5"]}]}])"), node).ok());
  EXPECT_FALSE(RunNodeFilters(*affinity(R"([{"matchExpressions": [{"key": "disk", "operator": "In", "values": ["ssd"]},
                                                                   {"key": "gen", "operator": "In", "values": ["4"]}]}])"), node).ok());
  EXPECT_FALSE(RunNodeFilters(*affinity(R"([{}])"), node).ok());
}

TEST(SchedulerFilters, HostPorts) {
  NodeInfo node = Node(MakeNode("n1"));
  node.AddPod(Bound("n1", "web", "", "", R"({"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080}]}]})"));
  auto same = MakePod("a", "", "", R"({"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080}]}]})");
  EXPECT_EQ(Reasons(*same, node), std::vector<std::string>{"node(s) didn't have free ports for the requested pod ports"});
  auto specific_ip = MakePod("b", "", "", R"({"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080, "hostIP": "10.0.0.1"}]}]})");
  EXPECT_FALSE(RunNodeFilters(*specific_ip, node).ok());  // 0.0.0.0 takes every address
  auto udp = MakePod("c", "", "", R"({"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8080, "protocol": "UDP"}]}]})");
  EXPECT_TRUE(RunNodeFilters(*udp, node).ok());
  auto other = MakePod("d", "", "", R"({"containers": [{"name": "c", "ports": [{"containerPort": 80, "hostPort": 8081}]}]})");
  EXPECT_TRUE(RunNodeFilters(*other, node).ok());
}

TEST(SchedulerFilters, ResourcesFit) {
  NodeInfo node = Node(MakeNode("n1", "2", "4Gi", "{}", "{}", 2));
  node.AddPod(Bound("n1", "a", "1500m", "1Gi"));
  EXPECT_TRUE(RunNodeFilters(*MakePod("fits", "500m", "3Gi"), node).ok());
  EXPECT_EQ(Reasons(*MakePod("cpu", "600m"), node), std::vector<std::string>{"Insufficient cpu"});
  EXPECT_EQ(RunNodeFilters(*MakePod("cpu", "600m"), node).code, FilterCode::kUnschedulable);
  EXPECT_EQ(Reasons(*MakePod("both", "1", "4Gi"), node), (std::vector<std::string>{"Insufficient cpu", "Insufficient memory"}));
  // More than the node has at all: preemption cannot help.
  EXPECT_EQ(RunNodeFilters(*MakePod("huge", "3"), node).code, FilterCode::kUnresolvable);
  node.AddPod(Bound("n1", "b"));
  EXPECT_EQ(Reasons(*MakePod("third"), node), std::vector<std::string>{"Too many pods"});
  auto gpu = MakePod("gpu", "", "", R"({"containers": [{"name": "c", "resources": {"limits": {"example.com/gpu": "1"}}}]})");
  NodeInfo plain = Node(MakeNode("n2"));
  EXPECT_EQ(Reasons(*gpu, plain), std::vector<std::string>{"Insufficient example.com/gpu"});
}

TEST(SchedulerFitError, MessageFormat) {
  Cache cache;
  cache.SetNode(MakeNode("n1", "4", "8Gi", "{}", R"({"unschedulable": true})"));
  cache.SetNode(MakeNode("n2", "1"));
  cache.SetNode(MakeNode("n3", "1"));
  Algorithm algo(AlgorithmOptions{0, 1});
  CycleState state;
  Diagnosis diag;
  bool no_nodes = true;
  auto pod = MakePod("big", "2");
  EXPECT_EQ(algo.Schedule(cache, *pod, {}, &state, &diag, &no_nodes), "");
  EXPECT_FALSE(no_nodes);
  EXPECT_EQ(FitErrorMessage(diag, *pod, ""), "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu.");
  EXPECT_EQ(FitErrorMessage(diag, *pod, "preemption: x"),
            "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu. preemption: x");
  // Reasons sort by their "count reason" text, as upstream's sort.Strings.
  cache.SetNode(MakeNode("n4", "4", "8Gi", R"({"zone": "a"})", R"({"taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]})"));
  cache.SetNode(MakeNode("n5", "4", "8Gi", "{}", R"({"taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}]})"));
  EXPECT_EQ(algo.Schedule(cache, *pod, {}, &state, &diag, &no_nodes), "");
  EXPECT_EQ(FitErrorMessage(diag, *pod, ""),
            "0/5 nodes are available: 1 node(s) were unschedulable, 2 Insufficient cpu, "
            "2 node(s) had untolerated taint {k: v}.");
}

TEST(SchedulerFitError, NoNodes) {
  Cache cache;
  Algorithm algo;
  CycleState state;
  Diagnosis diag;
  bool no_nodes = false;
  EXPECT_EQ(algo.Schedule(cache, *MakePod("p"), {}, &state, &diag, &no_nodes), "");
  EXPECT_TRUE(no_nodes);
}

}  // namespace
}  // namespace kite::scheduler
