// The DaemonSet controller's Reconcile over the fake API: one pod per node that should run it,
// pinned to that node and owned by the set, none where a taint or the node selector says no,
// surplus pods deleted, a ControllerRevision and the status.
#include "server/controllers/daemonset/daemonset_controller.h"

#include "server/controllers/daemonset/daemon_pod.h"
#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;

json::object DaemonSet(const std::string& node_selector = "{}") {
  json::object ds = J(R"({"apiVersion":"apps/v1","kind":"DaemonSet",
    "metadata":{"name":"agent","namespace":"kube-system","uid":"ds-uid","generation":1},
    "spec":{"selector":{"matchLabels":{"app":"agent"}},
            "updateStrategy":{"type":"RollingUpdate","rollingUpdate":{"maxUnavailable":1}},
            "template":{"metadata":{"labels":{"app":"agent"}},
                        "spec":{"containers":[{"name":"c","image":"agent:1"}]}}}})");
  ds["spec"].as_object()["template"].as_object()["spec"].as_object()["nodeSelector"] = J(node_selector);
  return ds;
}

json::object Node(const std::string& name, const std::string& labels = "{}", const std::string& taints = "[]") {
  json::object n = J(R"({"apiVersion":"v1","kind":"Node","metadata":{},"spec":{},
    "status":{"conditions":[{"type":"Ready","status":"True"}]}})");
  n["metadata"].as_object()["name"] = name;
  n["metadata"].as_object()["labels"] = J(labels);
  n["spec"].as_object()["taints"] = json::parse(taints);
  return n;
}

class DaemonSetReconcileTest : public ControllerTest {
 protected:
  void StartController() { Start(NewDaemonSetController(client(), &clock_)); }
  std::vector<std::string> CreatedOn() {
    std::vector<std::string> nodes;
    for (const auto& a : fake().Writes("create", "pods")) nodes.push_back(DaemonPodNodeName(a.object));
    std::sort(nodes.begin(), nodes.end());
    return nodes;
  }
};

TEST_F(DaemonSetReconcileTest, OnePodOnEveryNodeThatShouldRunIt) {
  struct Case {
    const char* name;
    std::string node_selector;
    std::vector<json::object> nodes;
    std::vector<std::string> want_nodes;
  };
  const std::vector<Case> cases = {
      {"every node", "{}", {Node("n1"), Node("n2"), Node("n3")}, {"n1", "n2", "n3"}},
      {"not where an untolerated NoSchedule taint is", "{}",
       {Node("n1"), Node("n2", "{}", R"([{"key":"dedicated","value":"db","effect":"NoSchedule"}])")},
       {"n1"}},
      {"only nodes the selector matches", R"({"role":"edge"})",
       {Node("n1", R"({"role":"edge"})"), Node("n2", R"({"role":"core"})")},
       {"n1"}},
      {"no nodes, no pods", "{}", {}, {}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    json::object ds = Seed(DaemonSet(c.node_selector));
    for (const auto& n : c.nodes) Seed(n);
    StartController();
    ASSERT_TRUE(Reconcile("kube-system/agent").ok());
    EXPECT_EQ(CreatedOn(), c.want_nodes);
    for (const auto& a : fake().Writes("create", "pods")) {
      EXPECT_EQ(At(a.object, "metadata.labels.app"), "agent");
      EXPECT_TRUE(a.object.at("metadata").at("labels").as_object().contains("controller-revision-hash"));
      EXPECT_EQ(At(a.object, "metadata.ownerReferences"), (json::array{ControllerRef(ds)}));
    }
    // The template's history is recorded.
    EXPECT_EQ(fake().List(R("apps", "v1", "controllerrevisions"), "kube-system").size(), 1u);
  }
}

TEST_F(DaemonSetReconcileTest, DeletesPodsOnNodesThatMustNotRunThemAndExtraPods) {
  const json::object ds = Seed(DaemonSet(R"({"role":"edge"})"));
  Seed(Node("n1", R"({"role":"edge"})"));
  Seed(Node("n2", R"({"role":"core"})"));
  auto pod = [&](const char* name, const char* node, const char* created) {
    return Pod(name, "kube-system").Labels(R"({"app":"agent"})").Owner(ds).Node(node).Ready().Created(created);
  };
  Seed(pod("agent-old", "n1", "2025-12-01T00:00:00Z"));
  Seed(pod("agent-twin", "n1", "2025-12-02T00:00:00Z"));  // a second pod on n1: the newer goes
  Seed(pod("agent-core", "n2", "2025-12-01T00:00:00Z"));  // n2 no longer matches
  StartController();
  ASSERT_TRUE(Reconcile("kube-system/agent").ok());
  auto deleted = Names(fake().Writes("delete", "pods"));
  std::sort(deleted.begin(), deleted.end());
  EXPECT_EQ(deleted, (std::vector<std::string>{"agent-core", "agent-twin"}));
  EXPECT_TRUE(fake().Writes("create", "pods").empty());
}

TEST_F(DaemonSetReconcileTest, StatusCountsScheduledAndMisscheduledPods) {
  const json::object ds = Seed(DaemonSet(R"({"role":"edge"})"));
  Seed(Node("n1", R"({"role":"edge"})"));
  Seed(Node("n2", R"({"role":"edge"})"));
  Seed(Node("n3", R"({"role":"core"})"));
  Seed(Pod("agent-1", "kube-system").Labels(R"({"app":"agent"})").Owner(ds).Node("n1").Ready());
  Seed(Pod("agent-3", "kube-system").Labels(R"({"app":"agent"})").Owner(ds).Node("n3").Ready());
  StartController();
  ASSERT_TRUE(Reconcile("kube-system/agent").ok());
  EXPECT_EQ(CreatedOn(), std::vector<std::string>{"n2"});
  ASSERT_FALSE(StatusWrites("daemonsets").empty());
  json::object st = Stored(R("apps", "v1", "daemonsets"), "kube-system", "agent").at("status").as_object();
  EXPECT_EQ(st.at("desiredNumberScheduled"), 2);
  EXPECT_EQ(st.at("currentNumberScheduled"), 1);
  EXPECT_EQ(st.at("numberMisscheduled"), 1);
  EXPECT_EQ(st.at("numberReady"), 1);
  EXPECT_EQ(st.at("observedGeneration"), 1);
}

}  // namespace
}  // namespace kite::controllers
