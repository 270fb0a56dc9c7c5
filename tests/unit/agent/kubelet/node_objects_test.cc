// The kubelet's node objects: flags, the Node, its status and its Lease as a hollow node posts
// them, and hollow node identities. (kite-hollow against a server: tests/integration/hollow_nodes.sh.)
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <set>

#include "agent/hollow/hollow_node.h"
#include "agent/kubelet/node_objects.h"
#include "api/time.h"

namespace kite::kubelet {
namespace {

namespace json = boost::json;

TEST(HollowNodeTest, IdentitiesAreDisjointAcrossManyNodes) {
  using hollow::MakeNodeIdentity;
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
  NodeTemplate t = hollow::HollowNodeTemplate();
  auto id = hollow::MakeNodeIdentity("hollow-node-", 1);
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

}  // namespace
}  // namespace kite::kubelet
