// kite-hollow's pure parts: node identities and flags, the objects a hollow node posts, pod
// statuses, and pod IP allocation. (The program against a server: tests/integration/hollow_nodes.sh.)
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>

#include "agent/hollow/node_objects.h"
#include "agent/hollow/node_set.h"
#include "agent/hollow/pod_status.h"
#include "api/time.h"

namespace kite::hollow {
namespace {

namespace json = boost::json;

TEST(HollowNodeTest, IdentitiesAreDisjointAcrossManyNodes) {
  auto a = MakeNodeIdentity("hollow-node-", 0);
  EXPECT_EQ(a.name, "hollow-node-0");
  EXPECT_EQ(a.internal_ip, "10.200.0.1");
  EXPECT_EQ(a.pod_cidr, "10.64.0.0/24");
  auto b = MakeNodeIdentity("hollow-node-", 4999);
  EXPECT_EQ(b.internal_ip, "10.200.19.136");  // 10.200.0.0 + 5000
  EXPECT_EQ(b.pod_cidr, "10.83.135.0/24");    // 4999 = 19 * 256 + 135
  std::set<std::string> ips, cidrs;
  for (int i = 0; i < 16384; ++i) {
    auto id = MakeNodeIdentity("n", i);
    ips.insert(id.internal_ip);
    cidrs.insert(id.pod_cidr);
  }
  EXPECT_EQ(ips.size(), 16384u);
  EXPECT_EQ(cidrs.size(), 16384u);
}

TEST(HollowNodeTest, FlagsParseAndReject) {
  NodeTemplate t;
  EXPECT_TRUE(ParseNodeLabels({"tier=edge", "example.com/zone=a"}, &t).ok());
  ASSERT_EQ(t.labels.size(), 2u);
  EXPECT_EQ(t.labels[1].first, "example.com/zone");
  EXPECT_FALSE(ParseNodeLabels({"novalue"}, &t).ok());
  EXPECT_FALSE(ParseNodeLabels({"bad key=v"}, &t).ok());

  EXPECT_TRUE(ParseNodeTaints({"dedicated=gpu:NoSchedule", "example.com/flaky:NoExecute"}, &t).ok());
  ASSERT_EQ(t.taints.size(), 2u);
  EXPECT_EQ(json::serialize(t.taints[0]), R"({"key":"dedicated","effect":"NoSchedule","value":"gpu"})");
  EXPECT_EQ(json::serialize(t.taints[1]), R"({"key":"example.com/flaky","effect":"NoExecute"})");
  EXPECT_FALSE(ParseNodeTaints({"k=v"}, &t).ok());
  EXPECT_FALSE(ParseNodeTaints({"k=v:Sometimes"}, &t).ok());

  EXPECT_TRUE(SetCapacity("4000m", "16384Mi", "100Gi", 110, &t).ok());
  EXPECT_EQ(t.cpu, "4");
  EXPECT_EQ(t.memory, "16Gi");
  EXPECT_FALSE(SetCapacity("four", "1Gi", "1Gi", 110, &t).ok());
  EXPECT_FALSE(SetCapacity("1", "1Gi", "1Gi", 0, &t).ok());
}

TEST(HollowNodeTest, NodeStatusAndLeaseLookLikeAKubeletsButSayHollow) {
  NodeTemplate t;
  auto id = MakeNodeIdentity("hollow-node-", 1);
  const auto t0 = api::ParseTime("2025-01-02T03:04:05Z").value();
  const auto t1 = t0 + std::chrono::seconds(60) + std::chrono::microseconds(42);

  json::object node = BuildNode(t, id);
  const auto& labels = node["metadata"].as_object()["labels"].as_object();
  EXPECT_EQ(labels.at("kubernetes.io/hostname").as_string(), "hollow-node-1");
  EXPECT_EQ(labels.at("node.kubernetes.io/instance-type").as_string(), "hollow");
  EXPECT_EQ(node["spec"].as_object()["podCIDR"].as_string(), "10.64.1.0/24");
  EXPECT_FALSE(node.contains("status"));

  json::object st = BuildNodeStatus(t, id, t0, t1, "boot");
  const auto& conds = st["conditions"].as_array();
  ASSERT_EQ(conds.size(), 4u);
  const auto& ready = conds[3].as_object();
  EXPECT_EQ(ready.at("type").as_string(), "Ready");
  EXPECT_EQ(ready.at("status").as_string(), "True");
  EXPECT_EQ(ready.at("reason").as_string(), "KubeletReady");
  EXPECT_EQ(ready.at("message").as_string(), "kubelet is posting ready status");
  EXPECT_EQ(ready.at("lastTransitionTime").as_string(), "2025-01-02T03:04:05Z");
  EXPECT_EQ(ready.at("lastHeartbeatTime").as_string(), "2025-01-02T03:05:05Z");
  EXPECT_EQ(st["capacity"].as_object()["pods"].as_string(), "110");
  EXPECT_EQ(st["nodeInfo"].as_object()["kubeletVersion"].as_string(), "v1.32.4-hollow");
  EXPECT_EQ(st["nodeInfo"].as_object()["containerRuntimeVersion"].as_string(), "hollow://1.0");
  EXPECT_EQ(st["addresses"].as_array()[0].as_object()["address"].as_string(), "10.200.0.2");
  // Machine ids are stable per node name: a restarted kite-hollow is the same machine.
  EXPECT_EQ(BuildNodeStatus(t, id, t0, t1, "other")["nodeInfo"].as_object()["machineID"],
            st["nodeInfo"].as_object()["machineID"]);

  json::object lease = BuildLease(t, "hollow-node-1", "uid-1", t1);
  EXPECT_EQ(lease["metadata"].as_object()["namespace"].as_string(), "kube-node-lease");
  EXPECT_EQ(json::serialize(lease["metadata"].as_object()["ownerReferences"]),
            R"([{"apiVersion":"v1","kind":"Node","name":"hollow-node-1","uid":"uid-1"}])");
  EXPECT_EQ(lease["spec"].as_object()["renewTime"].as_string(), "2025-01-02T03:05:05.000042Z");
  EXPECT_EQ(lease["spec"].as_object()["leaseDurationSeconds"].as_int64(), 40);
}

json::object Pod(const char* restart_policy) {
  return json::parse(std::string(R"({"metadata":{"name":"p","namespace":"default","uid":"u-1"},
    "spec":{"nodeName":"hollow-node-0","restartPolicy":")") + restart_policy + R"(",
      "initContainers":[{"name":"init","image":"busybox"}],
      "containers":[{"name":"a","image":"nginx:1.26"},{"name":"b","image":"img@sha256:abc"}]},
    "status":{"phase":"Pending","qosClass":"BestEffort",
      "conditions":[{"type":"PodScheduled","status":"True","lastTransitionTime":"2025-01-01T00:00:00Z"}]}})")
      .as_object();
}

TEST(HollowPodTest, RunningStatus) {
  json::object pod = Pod("Always");
  EXPECT_FALSE(RunsToCompletion(pod));
  const auto at = api::ParseTime("2025-01-02T03:04:05Z").value();
  json::object st = RunningPodStatus(pod, PodPlacement{"10.200.0.1", "10.64.0.2"}, at);
  EXPECT_EQ(st["phase"].as_string(), "Running");
  EXPECT_EQ(st["podIP"].as_string(), "10.64.0.2");
  EXPECT_EQ(st["hostIP"].as_string(), "10.200.0.1");
  EXPECT_EQ(st["startTime"].as_string(), "2025-01-02T03:04:05Z");
  EXPECT_EQ(st["qosClass"].as_string(), "BestEffort");  // not ours: kept
  std::vector<std::string> types;
  for (const auto& c : st["conditions"].as_array()) {
    types.push_back(std::string(c.as_object().at("type").as_string()) + "=" +
                    std::string(c.as_object().at("status").as_string()));
  }
  EXPECT_EQ(types, (std::vector<std::string>{"PodReadyToStartContainers=True", "Initialized=True", "Ready=True",
                                             "ContainersReady=True", "PodScheduled=True"}));
  // PodScheduled keeps the scheduler's time.
  EXPECT_EQ(st["conditions"].as_array()[4].as_object().at("lastTransitionTime").as_string(), "2025-01-01T00:00:00Z");
  const auto& cs = st["containerStatuses"].as_array();
  ASSERT_EQ(cs.size(), 2u);
  EXPECT_EQ(cs[0].as_object().at("containerID").as_string(), "hollow://u-1-a");
  EXPECT_EQ(cs[0].as_object().at("ready").as_bool(), true);
  EXPECT_EQ(cs[0].as_object().at("state").as_object().at("running").as_object().at("startedAt").as_string(),
            "2025-01-02T03:04:05Z");
  EXPECT_EQ(std::string(cs[0].as_object().at("imageID").as_string()).substr(0, 18), "nginx:1.26@sha256:");
  EXPECT_EQ(cs[1].as_object().at("imageID").as_string(), "img@sha256:abc");
  const auto& init = st["initContainerStatuses"].as_array();
  ASSERT_EQ(init.size(), 1u);
  EXPECT_EQ(init[0].as_object().at("state").as_object().at("terminated").as_object().at("reason").as_string(),
            "Completed");
}

TEST(HollowPodTest, SucceededStatus) {
  json::object pod = Pod("Never");
  EXPECT_TRUE(RunsToCompletion(pod));
  EXPECT_TRUE(RunsToCompletion(Pod("OnFailure")));
  const auto t0 = api::ParseTime("2025-01-02T03:04:05Z").value();
  json::object st = SucceededPodStatus(pod, PodPlacement{"10.200.0.1", "10.64.0.2"}, t0, t0 + std::chrono::seconds(1));
  EXPECT_EQ(st["phase"].as_string(), "Succeeded");
  const auto& ready = st["conditions"].as_array()[2].as_object();
  EXPECT_EQ(ready.at("type").as_string(), "Ready");
  EXPECT_EQ(ready.at("status").as_string(), "False");
  EXPECT_EQ(ready.at("reason").as_string(), "PodCompleted");
  const auto& term = st["containerStatuses"].as_array()[0].as_object().at("state").as_object().at("terminated").as_object();
  EXPECT_EQ(term.at("exitCode").as_int64(), 0);
  EXPECT_EQ(term.at("reason").as_string(), "Completed");
  EXPECT_EQ(term.at("finishedAt").as_string(), "2025-01-02T03:04:06Z");
}

TEST(HollowPodTest, PodIpsAreUniquePerNodeAndReused) {
  NodeSet nodes("n-", 2);
  EXPECT_EQ(nodes.Find("n-1")->internal_ip, "10.200.0.2");
  EXPECT_EQ(nodes.Find("n-2"), nullptr);
  EXPECT_EQ(nodes.PodIp("n-0", "ns/a"), "10.64.0.2");
  EXPECT_EQ(nodes.PodIp("n-0", "ns/b"), "10.64.0.3");
  EXPECT_EQ(nodes.PodIp("n-0", "ns/a"), "10.64.0.2");  // asked again: the same
  EXPECT_EQ(nodes.PodIp("n-1", "ns/c"), "10.64.1.2");
  nodes.ReleasePodIp("ns/a");
  nodes.AdoptPodIp("n-0", "ns/d", "10.64.0.4");  // found Running after a restart
  EXPECT_EQ(nodes.PodIp("n-0", "ns/e"), "10.64.0.2");
  EXPECT_EQ(nodes.PodIp("n-0", "ns/f"), "10.64.0.5");
  // A node that kept another pod CIDR hands out from that one; a full one hands out nothing.
  nodes.SetRegistered("n-1", "uid", "192.168.7.0/30");
  EXPECT_EQ(nodes.Uid("n-1"), "uid");
  EXPECT_EQ(nodes.PodIp("n-1", "ns/g"), "192.168.7.2");
  EXPECT_EQ(nodes.PodIp("n-1", "ns/h"), "");
}

}  // namespace
}  // namespace kite::hollow
