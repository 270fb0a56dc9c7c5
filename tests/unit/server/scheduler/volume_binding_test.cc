// VolumeBinding: the claims a pod uses decide where it may run (volume_binding.h).
#include "server/scheduler/volume_binding.h"

#include <gtest/gtest.h>

#include <map>

#include "server/scheduler/filters.h"
#include "tests/unit/server/scheduler/test_util.h"

namespace kite::scheduler {
namespace {

using testing::MakeNode;
using testing::MakePod;
using testing::ParseObject;

client::ObjectPtr Obj(const std::string& text) { return std::make_shared<const boost::json::object>(ParseObject(text)); }

struct Cluster {
  std::map<std::string, client::ObjectPtr> claims, volumes, classes;
  VolumeLookups Lookups() const {
    return {[this](const std::string& ns, const std::string& n) { return Find(claims, ns + "/" + n); },
            [this](const std::string& n) { return Find(volumes, n); },
            [this](const std::string& n) { return Find(classes, n); }};
  }
  static client::ObjectPtr Find(const std::map<std::string, client::ObjectPtr>& m, const std::string& k) {
    auto it = m.find(k);
    return it == m.end() ? nullptr : it->second;
  }
};

PodInfoPtr PodWithClaim(const std::string& claim) {
  return MakePod("p", "", "", R"({"volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": ")" + claim +
                                  R"("}}, {"name": "tmp", "emptyDir": {}}, {"name": "scratch", "ephemeral": {}}]})");
}

NodeInfo Node(NodeSpecPtr spec) {
  NodeInfo n(spec->name);
  n.SetSpec(std::move(spec));
  return n;
}

TEST(SchedulerVolumeBinding, ParsesClaimsAndEphemeralVolumes) {
  auto pod = PodWithClaim("data-claim");
  EXPECT_EQ(pod->claims, (std::vector<std::string>{"data-claim", "p-scratch"}));
}

TEST(SchedulerVolumeBinding, MissingOrDeletedOrImmediateClaimsReject) {
  Cluster c;
  auto pod = MakePod("p", "", "", R"({"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "c"}}]})");
  EXPECT_EQ(ResolveVolumes(*pod, c.Lookups()).error, "persistentvolumeclaim \"c\" not found");
  c.claims["default/c"] = Obj(R"({"metadata": {"name": "c", "deletionTimestamp": "2026-01-01T00:00:00Z"}})");
  EXPECT_EQ(ResolveVolumes(*pod, c.Lookups()).error, "persistentvolumeclaim \"c\" is being deleted");
  c.claims["default/c"] = Obj(R"({"metadata": {"name": "c"}, "spec": {"storageClassName": "fast"}})");
  EXPECT_EQ(ResolveVolumes(*pod, c.Lookups()).error, "pod has unbound immediate PersistentVolumeClaims");
  c.classes["fast"] = Obj(R"({"metadata": {"name": "fast"}, "volumeBindingMode": "WaitForFirstConsumer"})");
  auto d = ResolveVolumes(*pod, c.Lookups());
  EXPECT_EQ(d.error, "");
  EXPECT_EQ(d.delayed_claims, (std::vector<std::string>{"c"}));
  c.claims["default/c"] = Obj(R"({"metadata": {"name": "c"}, "spec": {"volumeName": "gone"}})");
  EXPECT_NE(ResolveVolumes(*pod, c.Lookups()).error.find("non-existent pv"), std::string::npos);
}

TEST(SchedulerVolumeBinding, BoundVolumeNodeAffinityFiltersNodes) {
  Cluster c;
  c.claims["default/c"] = Obj(R"({"metadata": {"name": "c"}, "spec": {"volumeName": "pv1"}})");
  c.volumes["pv1"] = Obj(R"({"metadata": {"name": "pv1"}, "spec": {"nodeAffinity": {"required": {"nodeSelectorTerms": [
      {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["a"]}]}]}}}})");
  auto pod = MakePod("p", "", "", R"({"volumes": [{"name": "d", "persistentVolumeClaim": {"claimName": "c"}}]})");
  auto d = ResolveVolumes(*pod, c.Lookups());
  ASSERT_EQ(d.error, "");
  ASSERT_EQ(d.node_affinity.size(), 1u);
  auto with = std::make_shared<PodInfo>(*pod);
  with->volume_node_affinity = d.node_affinity;
  EXPECT_TRUE(RunNodeFilters(*with, Node(MakeNode("a"))).ok());
  NodeInfo b = Node(MakeNode("b"));
  FilterStatus s = RunNodeFilters(*with, b);
  EXPECT_EQ(s.plugin, Plugin::kVolumeBinding);
  EXPECT_EQ(s.code, FilterCode::kUnresolvable);
  std::vector<std::string> reasons;
  AppendReasons(s, *with, b, &reasons);
  EXPECT_EQ(reasons, (std::vector<std::string>{"node(s) had volume node affinity conflict"}));
}

}  // namespace
}  // namespace kite::scheduler
