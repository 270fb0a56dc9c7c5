#include "api/strategic_merge.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

#include <string>

namespace kite::api {
namespace {

namespace json = boost::json;

const schema::Type* Deployment() { return schema::TypeForKind("apps", "v1", "Deployment"); }
const schema::Type* Pod() { return schema::TypeForKind("", "v1", "Pod"); }
const schema::Type* Node() { return schema::TypeForKind("", "v1", "Node"); }

json::object Obj(std::string_view text) { return json::parse(text).as_object(); }

// Applies `patch` to `original` and checks the result equals `expected` (objects compare
// member-wise, arrays in order); the inputs must come back untouched.
void ExpectPatch(std::string_view original, std::string_view patch, const schema::Type* type,
                 std::string_view expected) {
  const json::object o = Obj(original), p = Obj(patch);
  auto result = ApplyStrategicMergePatch(o, p, type);
  ASSERT_TRUE(result.ok()) << result.status().message();
  EXPECT_EQ(json::value(*result), json::parse(expected)) << "got " << json::serialize(*result);
  EXPECT_EQ(o, Obj(original));
  EXPECT_EQ(p, Obj(patch));
  // The text form agrees.
  auto text = ApplyStrategicMergePatch(original, patch, type);
  ASSERT_TRUE(text.ok()) << text.status().message();
  EXPECT_EQ(*text, *result);
}

void ExpectError(std::string_view original, std::string_view patch, const schema::Type* type,
                 std::string_view message) {
  auto result = ApplyStrategicMergePatch(Obj(original), Obj(patch), type);
  ASSERT_FALSE(result.ok()) << "got " << json::serialize(*result);
  EXPECT_EQ(result.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(result.status().message(), message);
}

TEST(StrategicMerge, SchemaTypesExist) {
  ASSERT_NE(Deployment(), nullptr);
  ASSERT_NE(Pod(), nullptr);
  ASSERT_NE(Node(), nullptr);
}

// ---- the bodies kubectl 1.32 sends (observed on the wire) ----

constexpr std::string_view kDeployment = R"({
  "apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"app","namespace":"default","labels":{"app":"app"},
              "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}\n"}},
  "spec":{"replicas":1,"selector":{"matchLabels":{"app":"app"}},
    "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
    "template":{"metadata":{"labels":{"app":"app"}},
      "spec":{"containers":[
        {"name":"app","image":"nginx:1.25","env":[{"name":"A","value":"1"},{"name":"B","value":"x"}],
         "ports":[{"containerPort":80,"name":"http","protocol":"TCP"}]},
        {"name":"sidecar","image":"busybox","args":["sleep","1d"]}],
       "volumes":[{"name":"data","emptyDir":{}}],
       "restartPolicy":"Always"}}},
  "status":{"replicas":1,"conditions":[{"type":"Available","status":"True"},{"type":"Progressing","status":"True"}]}})";

TEST(StrategicMerge, ClientSideApplyWithSetElementOrder) {
  ExpectPatch(kDeployment,
              R"({"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"new\":1}\n"}},
                  "spec":{"replicas":3,"template":{"spec":{
                    "$setElementOrder/containers":[{"name":"app"}],
                    "containers":[{"$setElementOrder/env":[{"name":"A"}],"env":[{"name":"A","value":"2"}],"name":"app"}]}}}})",
              Deployment(), R"({
  "apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"app","namespace":"default","labels":{"app":"app"},
              "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{\"new\":1}\n"}},
  "spec":{"replicas":3,"selector":{"matchLabels":{"app":"app"}},
    "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
    "template":{"metadata":{"labels":{"app":"app"}},
      "spec":{"containers":[
        {"name":"app","image":"nginx:1.25","env":[{"name":"A","value":"2"},{"name":"B","value":"x"}],
         "ports":[{"containerPort":80,"name":"http","protocol":"TCP"}]},
        {"name":"sidecar","image":"busybox","args":["sleep","1d"]}],
       "volumes":[{"name":"data","emptyDir":{}}],
       "restartPolicy":"Always"}}},
  "status":{"replicas":1,"conditions":[{"type":"Available","status":"True"},{"type":"Progressing","status":"True"}]}})");
}

TEST(StrategicMerge, ApplyRemovingAnEnvVarAndReorderingContainers) {
  // kubectl apply after the user dropped env B and put the sidecar first.
  ExpectPatch(kDeployment,
              R"({"spec":{"template":{"spec":{
                    "$setElementOrder/containers":[{"name":"sidecar"},{"name":"app"}],
                    "containers":[{"$setElementOrder/env":[{"name":"A"}],"name":"app",
                                   "env":[{"$patch":"delete","name":"B"}]}]}}}})",
              Deployment(), R"({
  "apiVersion":"apps/v1","kind":"Deployment",
  "metadata":{"name":"app","namespace":"default","labels":{"app":"app"},
              "annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}\n"}},
  "spec":{"replicas":1,"selector":{"matchLabels":{"app":"app"}},
    "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
    "template":{"metadata":{"labels":{"app":"app"}},
      "spec":{"containers":[
        {"name":"sidecar","image":"busybox","args":["sleep","1d"]},
        {"name":"app","image":"nginx:1.25","env":[{"name":"A","value":"1"}],
         "ports":[{"containerPort":80,"name":"http","protocol":"TCP"}]}],
       "volumes":[{"name":"data","emptyDir":{}}],
       "restartPolicy":"Always"}}},
  "status":{"replicas":1,"conditions":[{"type":"Available","status":"True"},{"type":"Progressing","status":"True"}]}})");
}

TEST(StrategicMerge, SetImage) {
  ExpectPatch(
      R"({"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.25","ports":[{"containerPort":80}]}]}}}})",
      R"({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"web"}],"containers":[{"image":"nginx:1.27","name":"web"}]}}}})",
      Deployment(),
      R"({"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27","ports":[{"containerPort":80}]}]}}}})");
}

TEST(StrategicMerge, RolloutRestartAddsTheTemplateAnnotation) {
  ExpectPatch(R"({"spec":{"template":{"metadata":{"labels":{"app":"web"}},"spec":{}}}})",
              R"({"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2025-01-02T03:04:05Z"}}}}})",
              Deployment(),
              R"({"spec":{"template":{"metadata":{"labels":{"app":"web"},
                  "annotations":{"kubectl.kubernetes.io/restartedAt":"2025-01-02T03:04:05Z"}},"spec":{}}}})");
  // A second restart replaces the timestamp and keeps other annotations.
  ExpectPatch(R"({"spec":{"template":{"metadata":{"annotations":{"a":"b","kubectl.kubernetes.io/restartedAt":"old"}}}}})",
              R"({"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"new"}}}}})",
              Deployment(),
              R"({"spec":{"template":{"metadata":{"annotations":{"a":"b","kubectl.kubernetes.io/restartedAt":"new"}}}}})");
}

TEST(StrategicMerge, RolloutPauseAndResume) {
  ExpectPatch(R"({"spec":{"replicas":2}})", R"({"spec":{"paused":true}})", Deployment(),
              R"({"spec":{"replicas":2,"paused":true}})");
  ExpectPatch(R"({"spec":{"replicas":2,"paused":true}})", R"({"spec":{"paused":null}})", Deployment(),
              R"({"spec":{"replicas":2}})");
  // Resuming what is not paused changes nothing (a null for a missing key is ignored).
  ExpectPatch(R"({"spec":{"replicas":2}})", R"({"spec":{"paused":null}})", Deployment(), R"({"spec":{"replicas":2}})");
}

TEST(StrategicMerge, CordonAndUncordonANode) {
  ExpectPatch(R"({"metadata":{"name":"node-1"},"spec":{"podCIDR":"10.0.0.0/24"}})", R"({"spec":{"unschedulable":true}})",
              Node(), R"({"metadata":{"name":"node-1"},"spec":{"podCIDR":"10.0.0.0/24","unschedulable":true}})");
  ExpectPatch(R"({"metadata":{"name":"node-1"},"spec":{"unschedulable":true}})", R"({"spec":{"unschedulable":null}})",
              Node(), R"({"metadata":{"name":"node-1"},"spec":{}})");
  // A node without spec gets one.
  ExpectPatch(R"({"metadata":{"name":"node-1"}})", R"({"spec":{"unschedulable":true}})", Node(),
              R"({"metadata":{"name":"node-1"},"spec":{"unschedulable":true}})");
}

// ---- lists with merge keys ----

TEST(StrategicMerge, ContainersMergeByNameAndNewOnesAreAppended) {
  ExpectPatch(R"({"spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:1"}]}})",
              R"({"spec":{"containers":[{"name":"b","image":"b:2"},{"name":"c","image":"c:1"}]}})", Pod(),
              R"({"spec":{"containers":[{"name":"a","image":"a:1"},{"name":"b","image":"b:2"},{"name":"c","image":"c:1"}]}})");
}

TEST(StrategicMerge, PatchOrderWinsAndServerOnlyItemsKeepTheirPlaces) {
  // Upstream's "preserve the order from the patch in a merging list" cases.
  ExpectPatch(R"({"spec":{"containers":[{"name":"1"},{"name":"2","image":"b"},{"name":"3"}]}})",
              R"({"spec":{"containers":[{"name":"3","image":"c"},{"name":"1","image":"a"},{"name":"2","tty":true}]}})",
              Pod(),
              R"({"spec":{"containers":[{"name":"3","image":"c"},{"name":"1","image":"a"},{"name":"2","image":"b","tty":true}]}})");
  ExpectPatch(R"({"spec":{"containers":[{"name":"1"},{"name":"2","image":"b"},{"name":"3"}]}})",
              R"({"spec":{"containers":[{"name":"3","image":"c"},{"name":"1","image":"a"}]}})", Pod(),
              R"({"spec":{"containers":[{"name":"2","image":"b"},{"name":"3","image":"c"},{"name":"1","image":"a"}]}})");
}

TEST(StrategicMerge, ContainerPortsMergeByContainerPort) {
  ExpectPatch(R"({"spec":{"containers":[{"name":"web","ports":[{"containerPort":80,"name":"http"}]}]}})",
              R"({"spec":{"containers":[{"name":"web","ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":443,"name":"https"}]}]}})",
              Pod(),
              R"({"spec":{"containers":[{"name":"web","ports":[{"containerPort":80,"name":"http","protocol":"TCP"},{"containerPort":443,"name":"https"}]}]}})");
}

TEST(StrategicMerge, ServicePortsMergeByPortAndConditionsByType) {
  const schema::Type* svc = schema::TypeForKind("", "v1", "Service");
  ExpectPatch(R"({"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443}]}})",
              R"({"spec":{"ports":[{"port":80,"targetPort":9090}]}})", svc,
              R"({"spec":{"ports":[{"port":80,"targetPort":9090},{"port":443}]}})");
  ExpectPatch(R"({"status":{"conditions":[{"type":"Available","status":"False"},{"type":"Progressing","status":"True"}]}})",
              R"({"status":{"conditions":[{"type":"Available","status":"True","reason":"MinimumReplicasAvailable"}]}})",
              Deployment(),
              R"({"status":{"conditions":[{"type":"Available","status":"True","reason":"MinimumReplicasAvailable"},{"type":"Progressing","status":"True"}]}})");
}

TEST(StrategicMerge, DeleteDirectiveRemovesAContainer) {
  ExpectPatch(R"({"spec":{"containers":[{"name":"app","image":"a"},{"name":"sidecar","image":"b"}]}})",
              R"({"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}})", Pod(),
              R"({"spec":{"containers":[{"name":"app","image":"a"}]}})");
  // Every item with the key goes; deleting what is not there is fine.
  ExpectPatch(R"({"spec":{"containers":[{"name":"x"},{"name":"x","image":"dup"},{"name":"y"}]}})",
              R"({"spec":{"containers":[{"name":"x","$patch":"delete"},{"name":"nope","$patch":"delete"}]}})", Pod(),
              R"({"spec":{"containers":[{"name":"y"}]}})");
}

TEST(StrategicMerge, ReplaceDirectiveInAList) {
  ExpectPatch(R"({"spec":{"containers":[{"name":"a","image":"a"},{"name":"b"}]}})",
              R"({"spec":{"containers":[{"$patch":"replace"},{"name":"only","image":"o"}]}})", Pod(),
              R"({"spec":{"containers":[{"name":"only","image":"o"}]}})");
  ExpectPatch(R"({"spec":{"containers":[{"name":"a"}]}})", R"({"spec":{"containers":[{"$patch":"replace"}]}})", Pod(),
              R"({"spec":{"containers":[]}})");
}

TEST(StrategicMerge, ReplaceAndDeleteDirectivesOnObjects) {
  ExpectPatch(R"({"spec":{"nodeSelector":{"disk":"hdd","zone":"a"},"hostname":"h"}})",
              R"({"spec":{"nodeSelector":{"$patch":"replace","disk":"ssd"}}})", Pod(),
              R"({"spec":{"nodeSelector":{"disk":"ssd"},"hostname":"h"}})");
  ExpectPatch(R"({"spec":{"nodeSelector":{"disk":"hdd"},"hostname":"h"}})",
              R"({"spec":{"nodeSelector":{"$patch":"delete"}}})", Pod(), R"({"spec":{"nodeSelector":{},"hostname":"h"}})");
  // Deleting an object the original lacks adds nothing.
  ExpectPatch(R"({"spec":{"hostname":"h"}})", R"({"spec":{"nodeSelector":{"$patch":"delete"}}})", Pod(),
              R"({"spec":{"hostname":"h"}})");
  // At the top.
  ExpectPatch(R"({"spec":{"hostname":"h"},"metadata":{"name":"p"}})", R"({"$patch":"replace","metadata":{"name":"q"}})",
              Pod(), R"({"metadata":{"name":"q"}})");
  ExpectPatch(R"({"spec":{"hostname":"h"}})", R"({"$patch":"delete"})", Pod(), R"({})");
}

TEST(StrategicMerge, ReplaceStrategyFieldIsReplacedWhole) {
  const schema::Type* pdb = schema::TypeForKind("policy", "v1", "PodDisruptionBudget");
  ASSERT_NE(pdb, nullptr);
  ExpectPatch(R"({"spec":{"minAvailable":1,"selector":{"matchLabels":{"a":"1"},"matchExpressions":[{"key":"k","operator":"Exists"}]}}})",
              R"({"spec":{"selector":{"matchLabels":{"b":"2"}}}})", pdb,
              R"({"spec":{"minAvailable":1,"selector":{"matchLabels":{"b":"2"}}}})");
  // A Deployment's selector has no strategy: it merges.
  ExpectPatch(R"({"spec":{"selector":{"matchLabels":{"a":"1"}}}})", R"({"spec":{"selector":{"matchLabels":{"b":"2"}}}})",
              Deployment(), R"({"spec":{"selector":{"matchLabels":{"a":"1","b":"2"}}}})");
}

TEST(StrategicMerge, ListsWithoutStrategyAreReplaced) {
  ExpectPatch(R"({"spec":{"tolerations":[{"key":"a","operator":"Exists"}],"containers":[{"name":"c","args":["x","y"]}]}})",
              R"({"spec":{"tolerations":[{"key":"b","operator":"Exists","effect":null}],"containers":[{"name":"c","args":["z"]}]}})",
              Pod(),
              R"({"spec":{"tolerations":[{"key":"b","operator":"Exists"}],"containers":[{"name":"c","args":["z"]}]}})");
}

// ---- lists of scalars ----

TEST(StrategicMerge, FinalizersUnionDeleteAndOrder) {
  ExpectPatch(R"({"metadata":{"finalizers":["a","b","c"]}})", R"({"metadata":{"finalizers":["d","a"]}})", Pod(),
              R"({"metadata":{"finalizers":["d","a","b","c"]}})");
  ExpectPatch(R"({"metadata":{"finalizers":["1","2","3"]}})", R"({"metadata":{"finalizers":["3","1"]}})", Pod(),
              R"({"metadata":{"finalizers":["2","3","1"]}})");
  ExpectPatch(R"({"metadata":{"finalizers":["a","b","c","b"]}})",
              R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["b","zzz"]}})", Pod(),
              R"({"metadata":{"finalizers":["a","c"]}})");
  // kubectl apply's form: order, deletions and additions together.
  ExpectPatch(R"({"metadata":{"finalizers":["1","2","3"]}})",
              R"({"metadata":{"$setElementOrder/finalizers":["1","2","4"],"$deleteFromPrimitiveList/finalizers":["3"],"finalizers":["4"]}})",
              Pod(), R"({"metadata":{"finalizers":["1","2","4"]}})");
  // The directive alone reorders; names it lists that are not there are ignored.
  ExpectPatch(R"({"metadata":{"finalizers":["1","3"]}})", R"({"metadata":{"$setElementOrder/finalizers":["3","2","1"]}})",
              Pod(), R"({"metadata":{"finalizers":["3","1"]}})");
  // Deleting from a list that is not there adds nothing.
  ExpectPatch(R"({"metadata":{"name":"p"}})", R"({"metadata":{"$deleteFromPrimitiveList/finalizers":["x"]}})", Pod(),
              R"({"metadata":{"name":"p"}})");
  // ... and works on lists without merge strategy too.
  ExpectPatch(R"({"spec":{"containers":[{"name":"c","args":["1","2","3"]}]}})",
              R"({"spec":{"containers":[{"name":"c","$deleteFromPrimitiveList/args":["2"]}]}})", Pod(),
              R"({"spec":{"containers":[{"name":"c","args":["1","3"]}]}})");
}

TEST(StrategicMerge, SetElementOrderOfObjects) {
  // Upstream's "merge lists of maps" case: new items placed where the order says.
  ExpectPatch(R"({"spec":{"containers":[{"name":"1","tty":true},{"name":"2","image":"2"}]}})",
              R"({"spec":{"$setElementOrder/containers":[{"name":"4"},{"name":"1"},{"name":"2"},{"name":"3"}],
                          "containers":[{"name":"4","image":"4"},{"name":"3","image":"3"}]}})",
              Pod(),
              R"({"spec":{"containers":[{"name":"4","image":"4"},{"name":"1","tty":true},{"name":"2","image":"2"},{"name":"3","image":"3"}]}})");
  // Items the directive does not name (added by the server) go before the first named item
  // that followed them in the original (upstream's mergeSortedSlice).
  ExpectPatch(R"({"spec":{"containers":[{"name":"a"},{"name":"injected"},{"name":"b"}]}})",
              R"({"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}]}})", Pod(),
              R"({"spec":{"containers":[{"name":"injected"},{"name":"b"},{"name":"a"}]}})");
  ExpectPatch(R"({"spec":{"containers":[{"name":"a"},{"name":"b"},{"name":"injected"}]}})",
              R"({"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}]}})", Pod(),
              R"({"spec":{"containers":[{"name":"b"},{"name":"a"},{"name":"injected"}]}})");
  // A list the original lacks.
  ExpectPatch(R"({"spec":{}})",
              R"({"spec":{"$setElementOrder/containers":[{"name":"b"},{"name":"a"}],"containers":[{"name":"b"},{"name":"a"}]}})",
              Pod(), R"({"spec":{"containers":[{"name":"b"},{"name":"a"}]}})");
}

// ---- $retainKeys ----

TEST(StrategicMerge, DeploymentStrategyToRecreateWithRetainKeys) {
  ExpectPatch(R"({"spec":{"replicas":1,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}}}})",
              R"({"spec":{"strategy":{"$retainKeys":["type"],"rollingUpdate":null,"type":"Recreate"}}})", Deployment(),
              R"({"spec":{"replicas":1,"strategy":{"type":"Recreate"}}})");
  ExpectPatch(R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})",
              R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}})", Deployment(),
              R"({"spec":{"strategy":{"type":"Recreate"}}})");
  // Without the directive the map just merges.
  ExpectPatch(R"({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}})",
              R"({"spec":{"strategy":{"type":"Recreate"}}})", Deployment(),
              R"({"spec":{"strategy":{"type":"Recreate","rollingUpdate":{"maxSurge":1}}}})");
}

TEST(StrategicMerge, VolumeSourceSwitchWithRetainKeys) {
  ExpectPatch(R"({"spec":{"volumes":[{"name":"data","emptyDir":{}},{"name":"other","secret":{"secretName":"s"}}]}})",
              R"({"spec":{"volumes":[{"$retainKeys":["configMap","name"],"configMap":{"name":"cm"},"name":"data"}]}})",
              Pod(),
              R"({"spec":{"volumes":[{"name":"data","configMap":{"name":"cm"}},{"name":"other","secret":{"secretName":"s"}}]}})");
  // The inline VolumeSource's fields merge like Volume's own.
  ExpectPatch(R"({"spec":{"volumes":[{"name":"v","configMap":{"name":"cm","items":[{"key":"a","path":"a"}]}}]}})",
              R"({"spec":{"volumes":[{"name":"v","configMap":{"defaultMode":420,"items":[{"key":"b","path":"b"}]}}]}})",
              Pod(),
              R"({"spec":{"volumes":[{"name":"v","configMap":{"name":"cm","defaultMode":420,"items":[{"key":"b","path":"b"}]}}]}})");
}

// ---- values the patch introduces ----

TEST(StrategicMerge, DirectivesNeverReachTheResult) {
  ExpectPatch(R"({"metadata":{"name":"d"}})",
              R"({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"},
                  "template":{"spec":{"$setElementOrder/containers":[{"name":"a"},{"name":"b"}],
                    "containers":[{"name":"a","$setElementOrder/env":[{"name":"E"}],"env":[{"name":"E","value":"1"}]},
                                  {"name":"b","ports":[{"containerPort":1},{"containerPort":2,"$patch":"delete"}]},
                                  {"name":"gone","$patch":"delete"}],
                    "nodeSelector":{"$patch":"replace","x":"y"},
                    "tolerations":[{"key":"t","$patch":"replace","value":null}],
                    "affinity":{"$patch":"delete"}}}}})",
              Deployment(), R"({"metadata":{"name":"d"},"spec":{"strategy":{"type":"Recreate"},
                  "template":{"spec":{"containers":[{"name":"a","env":[{"name":"E","value":"1"}]},
                                                    {"name":"b","ports":[{"containerPort":1}]}],
                    "nodeSelector":{"x":"y"},"tolerations":[{"key":"t"}]}}}})");
}

TEST(StrategicMerge, ValuesOfAnotherKindAreReplaced) {
  ExpectPatch(R"({"spec":{"hostname":{"odd":true},"subdomain":"s"}})", R"({"spec":{"hostname":"h","subdomain":{"a":null,"b":1}}})",
              Pod(), R"({"spec":{"hostname":"h","subdomain":{"b":1}}})");
}

// ---- schema-less objects ----

TEST(StrategicMerge, SchemaLessFallsBackToJsonMergePatch) {
  ExpectPatch(R"({"spec":{"a":{"b":1,"c":2},"list":[{"name":"x","v":1}],"keep":true,"drop":1}})",
              R"({"spec":{"a":{"c":3,"d":4},"list":[{"name":"x","w":2}],"drop":null,"new":{"n":null,"m":[1,null]}}})",
              nullptr,
              R"({"spec":{"a":{"b":1,"c":3,"d":4},"list":[{"name":"x","w":2}],"keep":true,"new":{"m":[1,null]}}})");
  // Directives still apply.
  ExpectPatch(R"({"a":{"b":1},"l":["x","y"]})", R"({"a":{"$patch":"replace","c":2},"$deleteFromPrimitiveList/l":["x"]})",
              nullptr, R"({"a":{"c":2},"l":["y"]})");
}

TEST(StrategicMerge, UnknownAndFreeFormFieldsHaveNoStrategy) {
  // A field the schema does not know (a newer API, or a typo the apiserver rejects later).
  ExpectPatch(R"({"spec":{"futureList":[{"name":"a"}],"containers":[{"name":"c","futureField":[1,2]}]}})",
              R"({"spec":{"futureList":[{"name":"b"}],"containers":[{"name":"c","futureField":[3]}]}})", Pod(),
              R"({"spec":{"futureList":[{"name":"b"}],"containers":[{"name":"c","futureField":[3]}]}})");
  // A ControllerRevision's data is a RawExtension: free-form JSON merged without strategies.
  const schema::Type* rev = schema::TypeForKind("apps", "v1", "ControllerRevision");
  ASSERT_NE(rev, nullptr);
  ExpectPatch(R"({"data":{"spec":{"template":{"spec":{"containers":[{"name":"a"}]}}},"x":1}})",
              R"({"data":{"spec":{"template":{"spec":{"containers":[{"name":"b"}]}}}}})", rev,
              R"({"data":{"spec":{"template":{"spec":{"containers":[{"name":"b"}]}}},"x":1}})");
}

TEST(StrategicMerge, MapsMergeAndMapsOfListsReplaceTheirValues) {
  ExpectPatch(R"({"metadata":{"labels":{"a":"1","b":"2"}}})", R"({"metadata":{"labels":{"b":null,"c":"3"}}})", Pod(),
              R"({"metadata":{"labels":{"a":"1","c":"3"}}})");
  const schema::Type* review = schema::TypeForKind("authentication.k8s.io", "v1", "TokenReview");
  ASSERT_NE(review, nullptr);
  ExpectPatch(R"({"status":{"user":{"extra":{"a":["x","y"],"b":["z"]}}}})", R"({"status":{"user":{"extra":{"a":["w"]}}}})",
              review, R"({"status":{"user":{"extra":{"a":["w"],"b":["z"]}}}})");
}

// ---- errors ----

TEST(StrategicMerge, TextFormErrors) {
  auto r = ApplyStrategicMergePatch(R"({"a":1})", "[1]", Pod());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "json: cannot unmarshal array into Go value of type map[string]interface {}");
  r = ApplyStrategicMergePatch(R"({"a":1})", R"("x")", Pod());
  EXPECT_EQ(r.status().message(), "json: cannot unmarshal string into Go value of type map[string]interface {}");
  r = ApplyStrategicMergePatch(R"({"a":1})", "5", Pod());
  EXPECT_EQ(r.status().message(), "json: cannot unmarshal number into Go value of type map[string]interface {}");
  r = ApplyStrategicMergePatch(R"({"a":1})", "{", Pod());
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  r = ApplyStrategicMergePatch("[]", "{}", Pod());
  EXPECT_EQ(r.status().message(), "invalid JSON document");
  r = ApplyStrategicMergePatch(R"({"a":1})", "null", Pod());  // Go decodes null into an empty map
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, Obj(R"({"a":1})"));
}

TEST(StrategicMerge, PatchDirectiveErrors) {
  ExpectError(R"({"spec":{}})", R"({"spec":{"$patch":"frob","x":1}})", Pod(), "unknown patch type: frob in map: map[$patch:frob x:1]");
  ExpectError(R"({})", R"({"$patch":5})", Pod(), "unknown patch type: %!s(int64=5) in map: map[$patch:5]");
  ExpectError(R"({})", R"({"$patch":1.5})", Pod(), "unknown patch type: %!s(float64=1.5) in map: map[$patch:1.5]");
  ExpectError(R"({})", R"({"$patch":null,"a":true})", Pod(), "unknown patch type: %!s(<nil>) in map: map[$patch:<nil> a:true]");
  // upstream rejects "merge" too: in an object as an unknown type, in a list explicitly.
  ExpectError(R"({"spec":{}})", R"({"spec":{"$patch":"merge"}})", Pod(), "unknown patch type: merge in map: map[$patch:merge]");
  ExpectError(R"({"spec":{"containers":[{"name":"a"}]}})", R"({"spec":{"containers":[{"name":"a","$patch":"merge"}]}})",
              Pod(), "merging lists cannot yet be specified in the patch");
  ExpectError(R"({"spec":{"containers":[{"name":"a"}]}})", R"({"spec":{"containers":[{"name":"a","$patch":"frob"}]}})",
              Pod(), "unknown patch type: frob in map: map[$patch:frob name:a]");
}

TEST(StrategicMerge, MergeKeyErrors) {
  ExpectError(R"({"spec":{"containers":[{"name":"a"}]}})", R"({"spec":{"containers":[{"image":"x"}]}})", Pod(),
              "map: map[image:x] does not contain declared merge key: name");
  ExpectError(R"({"spec":{"containers":[{"name":"a"}]}})", R"({"spec":{"containers":[{"$patch":"delete"}]}})", Pod(),
              "map: map[$patch:delete] does not contain declared merge key: name");
  // A list the original lacks is merged into an empty one, so it is checked as well.
  ExpectError(R"({"spec":{}})", R"({"spec":{"containers":[{"image":"x"}]}})", Pod(),
              "map: map[image:x] does not contain declared merge key: name");
  // The live object's items need the key too.
  ExpectError(R"({"spec":{"containers":[{"image":"old"}]}})", R"({"spec":{"containers":[{"name":"a"}]}})", Pod(),
              "map: map[image:old] does not contain declared merge key: name");
  // Go's %v rendering of numbers, nested maps and lists.
  ExpectError(R"({"spec":{"containers":[{"name":"a"}]}})",
              R"({"spec":{"containers":[{"a":1.5,"b":1e6,"c":100000.0,"d":0.00001,"e":-7,"f":[true,null],"g":{"z":1,"y":"s"}}]}})",
              Pod(), "map: map[a:1.5 b:1e+06 c:100000 d:1e-05 e:-7 f:[true <nil>] g:map[y:s z:1]] does not contain declared merge key: name");
}

TEST(StrategicMerge, SetElementOrderErrors) {
  ExpectError(R"({"spec":{"containers":[{"name":"a"}]}})", R"({"spec":{"$setElementOrder/containers":"a"}})", Pod(),
              "expected a []interface {}, but received a string");
  ExpectError(R"({"spec":{}})", R"({"spec":{"$setElementOrder":[]}})", Pod(), "invalid patch format of setElementOrder list");
  ExpectError(R"({"spec":{}})", R"({"spec":{"$setElementOrderX/containers":[]}})", Pod(),
              "invalid patch format of setElementOrder list");
  ExpectError(R"({"spec":{"containers":{"name":"a"}}})", R"({"spec":{"$setElementOrder/containers":[{"name":"a"}]}})", Pod(),
              "expected a []interface {}, but received a map[string]interface {}");
  ExpectError(R"({"spec":{}})", R"({"spec":{"$setElementOrder/containers":[{"name":"a"}],"containers":null}})", Pod(),
              "expected a []interface {}, but received a %!s(<nil>)");
  ExpectError(R"({"spec":{"containers":[{"name":"1"},{"name":"3"},{"name":"2"}]}})",
              R"({"spec":{"$setElementOrder/containers":[{"name":"1"},{"name":"2"},{"name":"3"}],
                          "containers":[{"name":"3","image":"3"},{"name":"1","image":"1"}]}})",
              Pod(),
              "The order in patch list:\n[map[image:3 name:3] map[image:1 name:1]]\n doesn't match $setElementOrder list:\n"
              "[map[name:1] map[name:2] map[name:3]]\n");
  ExpectError(R"({"metadata":{"finalizers":["1","3","2"]}})",
              R"({"metadata":{"$setElementOrder/finalizers":["1","2","3"],"finalizers":["3","1"]}})", Pod(),
              "The order in patch list:\n[3 1]\n doesn't match $setElementOrder list:\n[1 2 3]\n");
  ExpectError(R"({"spec":{"containers":[{"name":"a"}]}})", R"({"spec":{"$setElementOrder/containers":["a"],"containers":[{"name":"a"}]}})",
              Pod(), "expected a map[string]interface {}, but received a string");
}

TEST(StrategicMerge, RetainKeysErrors) {
  const char* original = R"({"spec":{"strategy":{"type":"RollingUpdate"}}})";
  ExpectError(original, R"({"spec":{"strategy":{"$retainKeys":"type","type":"Recreate"}}})", Deployment(),
              "invalid patch format of retainKeys");
  ExpectError(original, R"({"spec":{"strategy":{"$retainKeys":["type",1],"type":"Recreate"}}})", Deployment(),
              "invalid patch format of retainKeys");
  ExpectError(original, R"({"spec":{"strategy":{"$retainKeys":["rollingUpdate"],"type":"Recreate"}}})", Deployment(),
              "invalid patch format of retainKeys");
}

TEST(StrategicMerge, PrimitiveListErrors) {
  const char* original = R"({"metadata":{"finalizers":["a"]}})";
  ExpectError(original, R"({"metadata":{"$deleteFromPrimitiveList":["a"]}})", Pod(), "invalid patch format of primitive list");
  ExpectError(original, R"({"metadata":{"$deleteFromPrimitiveListX/finalizers":["a"]}})", Pod(),
              "invalid patch format of primitive list");
  ExpectError(original, R"({"metadata":{"$deleteFromPrimitiveList/finalizers":"a"}})", Pod(),
              "invalid patch format of primitive list");
  // Objects are no primitives (upstream would merge them into the list instead).
  ExpectError(R"({"spec":{"containers":[{"name":"a"}]}})",
              R"({"spec":{"$deleteFromPrimitiveList/containers":[{"name":"a"}]}})", Pod(),
              "invalid patch format of primitive list");
}

TEST(StrategicMerge, ListElementTypeErrors) {
  ExpectError(R"({"metadata":{"finalizers":["a"]}})", R"({"metadata":{"finalizers":[1]}})", Pod(),
              "list element types are not identical: [[a] [1]]");
  ExpectError(R"({"metadata":{}})", R"({"metadata":{"finalizers":[["a"]]}})", Pod(), "lists of lists are not supported");
  ExpectError(R"({"metadata":{"finalizers":[["a"]]}})", R"({"metadata":{"finalizers":["b"]}})", Pod(),
              "lists of lists are not supported");
  // Lists without merge strategy may hold anything.
  ExpectPatch(R"({"spec":{"containers":[{"name":"c","args":["a"]}]}})",
              R"({"spec":{"containers":[{"name":"c","args":[["x"],1,{"y":null}]}]}})", Pod(),
              R"({"spec":{"containers":[{"name":"c","args":[["x"],1,{}]}]}})");
}

TEST(StrategicMerge, NestingIsBounded) {
  json::object patch;
  json::object* cur = &patch;
  for (int i = 0; i < 1100; ++i) cur = &(*cur)["a"].emplace_object();
  auto r = ApplyStrategicMergePatch(json::object(), patch, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "strategic merge patch nests deeper than 1000 levels");
}

}  // namespace
}  // namespace kite::api
