#include "api/schema.h"

#include <gtest/gtest.h>

#include <set>

#include "api/resources.h"

namespace kite::api::schema {
namespace {

TEST(Schema, EveryReferencedTypeIsDeclaredAndNumbersAreUnique) {
  ASSERT_GT(AllTypes().size(), 300u);
  for (const Type* t : AllTypes()) {
    std::set<int> numbers;
    std::set<std::string> names;
    for (const Field& f : t->fields) {
      EXPECT_TRUE(numbers.insert(f.number).second) << t->name << "." << f.name;
      EXPECT_TRUE(names.insert(f.name).second) << t->name << "." << f.name;
      if (f.kind == ValueKind::kMessage) {
        ASSERT_NE(f.type, nullptr);
        EXPECT_TRUE(!f.type->fields.empty() || f.type->wrapper) << f.type->name;
      }
    }
  }
}

TEST(Schema, PodSpecFacts) {
  const Type* pod = TypeForKind("", "v1", "Pod");
  ASSERT_NE(pod, nullptr);
  EXPECT_EQ(pod->name, "io.k8s.api.core.v1.Pod");
  const Field* spec = pod->Find("spec");
  ASSERT_NE(spec, nullptr);
  EXPECT_EQ(spec->number, 2);
  const Field* containers = spec->type->Find("containers");
  ASSERT_NE(containers, nullptr);
  EXPECT_TRUE(containers->repeated);
  EXPECT_TRUE(containers->MergesList());
  EXPECT_EQ(containers->patch_merge_key, "name");
  const Field* ports = containers->type->Find("ports");
  EXPECT_EQ(ports->patch_merge_key, "containerPort");
  const Field* volumes = spec->type->Find("volumes");
  EXPECT_TRUE(volumes->RetainsKeys());
  EXPECT_TRUE(spec->type->Find("nodeSelector")->map);
  EXPECT_EQ(spec->type->Find("tolerations")->patch_strategy, "");
  // Volume embeds VolumeSource: JSON finds configMap directly on Volume.
  const Field* cm = volumes->type->Find("configMap");
  ASSERT_NE(cm, nullptr);
  EXPECT_EQ(cm->type->name, "io.k8s.api.core.v1.ConfigMapVolumeSource");
  EXPECT_EQ(volumes->type->FindNumber(2)->inline_, true);
  const Type* meta = pod->Find("metadata")->type;
  EXPECT_EQ(meta->name, "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta");
  EXPECT_EQ(meta->Find("labels")->number, 11);
  EXPECT_EQ(meta->Find("creationTimestamp")->kind, ValueKind::kTime);
  EXPECT_EQ(meta->Find("ownerReferences")->patch_merge_key, "uid");
}

TEST(Schema, ServicePortsMergeOnPortButNetworkPolicyPortsAreAtomic) {
  const Type* svc = FindType("io.k8s.api.core.v1.ServiceSpec");
  ASSERT_NE(svc, nullptr);
  EXPECT_EQ(svc->Find("ports")->patch_merge_key, "port");
  EXPECT_EQ(svc->Find("selector")->patch_strategy, "");
  EXPECT_EQ(FindType("io.k8s.api.networking.v1.NetworkPolicyIngressRule")->Find("ports")->patch_strategy, "");
  EXPECT_EQ(FindType("io.k8s.api.policy.v1.PodDisruptionBudgetSpec")->Find("selector")->patch_strategy, "replace");
  EXPECT_TRUE(FindType("io.k8s.api.apps.v1.DeploymentSpec")->Find("replicas")->pointer);
  EXPECT_EQ(FindType("io.k8s.api.apps.v1.DeploymentSpec")->Find("strategy")->patch_strategy, "retainKeys");
}

TEST(Schema, EveryBuiltinKindWithStorageHasASchema) {
  for (const auto& r : BuiltinResources()) {
    if (r.group == "metrics.k8s.io") continue;  // served by the metrics server, never stored or decoded
    EXPECT_NE(TypeForKind(r.group, r.version, r.kind), nullptr) << r.group << "/" << r.version << " " << r.kind;
  }
  auto kinds = KindsOf(*TypeForKind("autoscaling", "v1", "Scale"));
  ASSERT_FALSE(kinds.empty());
  EXPECT_EQ(kinds[0].kind, "Scale");
}

TEST(Schema, WrappersAndSpecialTypes) {
  const Type* ui = FindType("io.k8s.api.authentication.v1.UserInfo");
  ASSERT_NE(ui, nullptr);
  const Field* extra = ui->Find("extra");
  EXPECT_TRUE(extra->map);
  EXPECT_TRUE(extra->type->wrapper);
  EXPECT_EQ(FindType("io.k8s.api.core.v1.ResourceRequirements")->Find("limits")->kind, ValueKind::kQuantity);
  EXPECT_EQ(FindType("io.k8s.api.core.v1.ServicePort")->Find("targetPort")->kind, ValueKind::kIntOrString);
}

}  // namespace
}  // namespace kite::api::schema
