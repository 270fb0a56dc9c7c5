// The node lifecycle and taint eviction controllers' Reconcile over the fake API and a fake
// clock: a node silent past the grace period turns Unknown and is tainted, its pods lose Ready,
// and the taints go when it speaks again; pods that do not tolerate a NoExecute taint are evicted
// at once or after their tolerationSeconds.
#include "server/controllers/nodelifecycle/node_lifecycle_controller.h"

#include "api/time.h"
#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;
using namespace std::chrono_literals;

const api::ResourceInfo& Nodes() { return R("", "v1", "nodes"); }

json::object ReadyNode(const std::string& heartbeat) {
  json::object n = J(R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"spec":{},"status":{}})");
  n["status"].as_object()["conditions"] = json::array{
      json::object{{"type", "Ready"}, {"status", "True"}, {"lastHeartbeatTime", heartbeat},
                   {"lastTransitionTime", "2025-12-31T00:00:00Z"}, {"reason", "KubeletReady"}}};
  return n;
}

std::vector<std::string> TaintKeys(const json::object& node) {
  std::vector<std::string> out;
  json::value t = At(node, "spec.taints");
  if (!t.is_array()) return out;
  for (const auto& x : t.as_array()) out.push_back(std::string(x.at("key").as_string()) + ":" + std::string(x.at("effect").as_string()));
  std::sort(out.begin(), out.end());
  return out;
}

class NodeLifecycleReconcileTest : public ControllerTest {
 protected:
  void StartController() { Start(NewNodeLifecycleController(client(), 40s, 60s, &clock_)); }
  json::object StoredNode() { return Stored(Nodes(), "", "n1"); }
  std::string ReadyStatus() {
    const json::value conds = At(StoredNode(), "status.conditions");
    for (const auto& c : conds.as_array()) {
      if (c.at("type") == "Ready") return std::string(c.at("status").as_string());
    }
    return "";
  }
};

TEST_F(NodeLifecycleReconcileTest, ASilentNodeTurnsUnknownAfterTheGracePeriod) {
  struct Case {
    const char* name;
    std::chrono::seconds silent;
    std::string want_ready;
  };
  for (const Case& c : std::vector<Case>{{"within the grace period", 40s, "True"}, {"past it", 41s, "Unknown"}}) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    Seed(ReadyNode("2025-12-31T23:59:59Z"));
    Seed(Pod("p").Node("n1").Ready());
    StartController();
    ASSERT_TRUE(Reconcile("n1").ok());  // first seen: the grace period starts now
    clock_.Advance(c.silent);
    ASSERT_TRUE(Reconcile("n1").ok());
    Settle();
    EXPECT_EQ(ReadyStatus(), c.want_ready);
    if (c.want_ready == "Unknown") {
      ASSERT_TRUE(Reconcile("n1").ok());  // taints follow the conditions
      EXPECT_EQ(TaintKeys(StoredNode()),
                (std::vector<std::string>{"node.kubernetes.io/unreachable:NoExecute",
                                          "node.kubernetes.io/unreachable:NoSchedule"}));
      // Its pods are no longer Ready.
      EXPECT_EQ(At(Stored(Pods(), "default", "p"), "status.conditions").as_array()[0].at("status"), "False");
    } else {
      EXPECT_TRUE(TaintKeys(StoredNode()).empty());
    }
  }
}

TEST_F(NodeLifecycleReconcileTest, ALeaseRenewalKeepsTheNodeAlive) {
  Seed(ReadyNode("2025-12-31T23:59:59Z"));
  json::object lease = J(R"({"apiVersion":"coordination.k8s.io/v1","kind":"Lease",
    "metadata":{"name":"n1","namespace":"kube-node-lease"},"spec":{"renewTime":"2026-01-01T00:00:00.000000Z"}})");
  Seed(lease);
  StartController();
  ASSERT_TRUE(Reconcile("n1").ok());
  clock_.Advance(30s);
  lease = *fake().Get(R("coordination.k8s.io", "v1", "leases"), "kube-node-lease", "n1");
  lease["spec"].as_object()["renewTime"] = "2026-01-01T00:00:30.000000Z";
  Seed(lease);
  Settle();
  ASSERT_TRUE(Reconcile("n1").ok());
  clock_.Advance(30s);  // 60 s since first seen, 30 s since the renewal
  ASSERT_TRUE(Reconcile("n1").ok());
  EXPECT_EQ(ReadyStatus(), "True");
}

TEST_F(NodeLifecycleReconcileTest, TaintsGoWhenTheNodeIsReadyAgain) {
  json::object node = ReadyNode("2025-12-31T23:59:59Z");
  node["spec"].as_object()["taints"] = json::parse(R"([{"key":"node.kubernetes.io/unreachable","effect":"NoSchedule"},
      {"key":"node.kubernetes.io/unreachable","effect":"NoExecute","timeAdded":"2025-12-31T00:00:00Z"},
      {"key":"dedicated","value":"db","effect":"NoSchedule"}])");
  Seed(node);
  StartController();
  ASSERT_TRUE(Reconcile("n1").ok());
  // The user's own taint stays.
  EXPECT_EQ(TaintKeys(StoredNode()), std::vector<std::string>{"dedicated:NoSchedule"});
}

// --- taint eviction ---

json::object TaintedNode(const std::string& time_added) {
  json::object n = J(R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"spec":{},"status":{}})");
  n["spec"].as_object()["taints"] = json::array{json::object{
      {"key", "node.kubernetes.io/unreachable"}, {"effect", "NoExecute"}, {"timeAdded", time_added}}};
  return n;
}

json::object Tolerating(const std::string& name, std::optional<int> seconds) {
  Pod p(name);
  p.Node("n1").Ready();
  if (seconds) {
    p.spec()["tolerations"] = json::array{json::object{{"key", "node.kubernetes.io/unreachable"},
                                                       {"operator", "Exists"},
                                                       {"effect", "NoExecute"},
                                                       {"tolerationSeconds", *seconds}}};
  }
  return p;
}

class TaintEvictionReconcileTest : public ControllerTest {};

TEST_F(TaintEvictionReconcileTest, PodsThatDoNotTolerateTheTaintAreEvicted) {
  struct Case {
    const char* name;
    std::optional<int> toleration_seconds;
    std::chrono::seconds after;  // since the taint was added
    bool want_evicted;
  };
  const std::vector<Case> cases = {
      {"no toleration: at once", std::nullopt, 0s, true},
      {"within tolerationSeconds: stays", 300, 299s, false},
      {"past tolerationSeconds: evicted", 300, 300s, true},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    Seed(TaintedNode(api::FormatTime(clock_.Now() - c.after)));
    const json::object pod = Seed(Tolerating("p", c.toleration_seconds));
    Start(NewTaintEvictionController(client(), &clock_));
    ASSERT_TRUE(Reconcile("default/p").ok());
    auto deletes = fake().Writes("delete", "pods");
    ASSERT_EQ(deletes.size(), c.want_evicted ? 1u : 0u);
    if (c.want_evicted) {
      EXPECT_EQ(deletes[0].body.at("preconditions").at("uid"), pod.at("metadata").at("uid"));
    }
  }
}

TEST_F(TaintEvictionReconcileTest, AnEvictionIsDueWhenTheTolerationRunsOut) {
  Seed(TaintedNode(api::FormatTime(clock_.Now())));
  Seed(Tolerating("p", 60));
  Start(NewTaintEvictionController(client(), &clock_));
  ASSERT_TRUE(Reconcile("default/p").ok());
  ASSERT_TRUE(controller().queue().NextDelayed().has_value());
  EXPECT_EQ(*controller().queue().NextDelayed() - clock_.SteadyNow(), 60s + 10ms);
  clock_.Advance(60s);
  ASSERT_TRUE(Reconcile("default/p").ok());
  EXPECT_EQ(Names(fake().Writes("delete", "pods")), std::vector<std::string>{"p"});
}

TEST_F(TaintEvictionReconcileTest, PodsOnUntaintedNodesStay) {
  Seed(J(R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"n1"},"spec":{},"status":{}})"));
  Seed(Tolerating("p", std::nullopt));
  Start(NewTaintEvictionController(client(), &clock_));
  ASSERT_TRUE(Reconcile("default/p").ok());
  EXPECT_TRUE(fake().Writes().empty());
}

}  // namespace
}  // namespace kite::controllers
