// The StatefulSet controller's Reconcile over the fake API: ordered creation one ready pod at a
// time, Parallel creation, claims from volumeClaimTemplates before their pods, scale-down from
// the highest ordinal.
#include "server/controllers/statefulset/statefulset_controller.h"

#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;

json::object StatefulSet(int replicas, const std::string& policy = "OrderedReady", const std::string& claims = "[]") {
  json::object s = J(R"({"apiVersion":"apps/v1","kind":"StatefulSet",
    "metadata":{"name":"db","namespace":"default","uid":"sts-uid","generation":1},
    "spec":{"serviceName":"db","selector":{"matchLabels":{"app":"db"}},
            "updateStrategy":{"type":"RollingUpdate"},
            "template":{"metadata":{"labels":{"app":"db"}},"spec":{"containers":[{"name":"c","image":"pg:1"}]}}}})");
  auto& spec = s["spec"].as_object();
  spec["replicas"] = replicas;
  spec["podManagementPolicy"] = policy;
  spec["volumeClaimTemplates"] = json::parse(claims);
  return s;
}

class StatefulSetReconcileTest : public ControllerTest {
 protected:
  void StartController() { Start(NewStatefulSetController(client(), &clock_)); }
  std::vector<std::string> CreatedPods() {
    auto names = Names(fake().Writes("create", "pods"));
    std::sort(names.begin(), names.end());
    return names;
  }
  // Every stored pod of the set becomes Running and Ready (the kubelet's part).
  void AllReady() {
    for (const auto& p : fake().List(Pods(), "default")) {
      json::object pod = p;
      pod["status"] = J(R"({"phase":"Running","conditions":[{"type":"Ready","status":"True",
                           "lastTransitionTime":"2025-12-31T00:00:00Z"}]})");
      Seed(pod);
    }
    Settle();
  }
};

TEST_F(StatefulSetReconcileTest, OrderedReadyCreatesOnePodAtATime) {
  const json::object set = Seed(StatefulSet(3));
  StartController();
  ASSERT_TRUE(Reconcile("default/db").ok());
  ASSERT_EQ(CreatedPods(), std::vector<std::string>{"db-0"});
  const json::object pod = fake().Writes("create", "pods")[0].object;
  EXPECT_EQ(At(pod, "spec.hostname"), "db-0");
  EXPECT_EQ(At(pod, "spec.subdomain"), "db");
  EXPECT_EQ(pod.at("metadata").at("labels").at("statefulset.kubernetes.io/pod-name"), "db-0");
  EXPECT_EQ(At(pod, "metadata.ownerReferences"), (json::array{ControllerRef(set)}));
  // Not ready yet: nothing more.
  Settle();
  fake().ClearActions();
  ASSERT_TRUE(Reconcile("default/db").ok());
  EXPECT_TRUE(CreatedPods().empty());
  // Ready: the next ordinal.
  AllReady();
  fake().ClearActions();
  ASSERT_TRUE(Reconcile("default/db").ok());
  EXPECT_EQ(CreatedPods(), std::vector<std::string>{"db-1"});
}

TEST_F(StatefulSetReconcileTest, ParallelCreatesEveryPodWithItsClaims) {
  struct Case {
    const char* name;
    std::string claims;
    std::vector<std::string> want_claims;
  };
  const std::vector<Case> cases = {
      {"no claims", "[]", {}},
      {"one claim template", R"([{"metadata":{"name":"data"},"spec":{"accessModes":["ReadWriteOnce"],
          "resources":{"requests":{"storage":"1Gi"}}}}])",
       {"data-db-0", "data-db-1", "data-db-2"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    informers_.reset();
    controller_.reset();
    fake_ = std::make_shared<client::testing::FakeTransport>(&clock_);
    client_ = client::Client(fake_);
    Seed(StatefulSet(3, "Parallel", c.claims));
    StartController();
    ASSERT_TRUE(Reconcile("default/db").ok());
    EXPECT_EQ(CreatedPods(), (std::vector<std::string>{"db-0", "db-1", "db-2"}));
    auto claims = Names(fake().Writes("create", "persistentvolumeclaims"));
    std::sort(claims.begin(), claims.end());
    EXPECT_EQ(claims, c.want_claims);
    if (!c.want_claims.empty()) {
      // Each claim is made before its pod, and the pod's volume points at it.
      auto writes = fake().Writes();
      auto pos = [&](const std::string& resource, const std::string& name) {
        for (size_t i = 0; i < writes.size(); ++i) {
          if (writes[i].verb == "create" && writes[i].resource == resource && Name(writes[i].object) == name) return i;
        }
        return writes.size();
      };
      EXPECT_LT(pos("persistentvolumeclaims", "data-db-1"), pos("pods", "db-1"));
      json::object pod = Stored(Pods(), "default", "db-1");
      bool found = false;
      for (const auto& v : pod.at("spec").at("volumes").as_array()) {
        if (v.at("name") == "data") found = v.at("persistentVolumeClaim").at("claimName") == "data-db-1";
      }
      EXPECT_TRUE(found);
    }
  }
}

TEST_F(StatefulSetReconcileTest, ScalesDownFromTheHighestOrdinal) {
  Seed(StatefulSet(3, "Parallel"));
  StartController();
  ASSERT_TRUE(Reconcile("default/db").ok());
  Settle();
  AllReady();
  json::object set = Stored(R("apps", "v1", "statefulsets"), "default", "db");
  set["spec"].as_object()["replicas"] = 1;
  set["spec"].as_object()["podManagementPolicy"] = "OrderedReady";
  Seed(set);
  Settle();
  fake().ClearActions();
  ASSERT_TRUE(Reconcile("default/db").ok());
  EXPECT_EQ(Names(fake().Writes("delete", "pods")), std::vector<std::string>{"db-2"});
  // The status counts what is there.
  json::object st = Stored(R("apps", "v1", "statefulsets"), "default", "db").at("status").as_object();
  EXPECT_EQ(st.at("readyReplicas"), 3);
}

}  // namespace
}  // namespace kite::controllers
