// The local-path provisioner's Reconcile over the fake API: the class created once and then left
// to its user, provisioning only once a consumer pod has a node, the binding fields upstream's
// binder writes, a static volume bound by size and class, and a released claim's volume deleted.
#include "server/controllers/localpath/local_path_controller.h"
#include "server/controllers/localpath/helper_pod.h"

#include "tests/unit/server/controllers/controller_test_util.h"

namespace kite::controllers {
namespace {
using namespace testing;

const api::ResourceInfo& Classes() { return R("storage.k8s.io", "v1", "storageclasses"); }
const api::ResourceInfo& Claims() { return R("", "v1", "persistentvolumeclaims"); }
const api::ResourceInfo& Volumes() { return R("", "v1", "persistentvolumes"); }

constexpr const char kClass[] = R"({"apiVersion":"storage.k8s.io/v1","kind":"StorageClass",
  "metadata":{"name":"local-path","annotations":{"storageclass.kubernetes.io/is-default-class":"true"}},
  "provisioner":"rancher.io/local-path","reclaimPolicy":"Delete","volumeBindingMode":"WaitForFirstConsumer"})";

json::object Claim(const std::string& class_name = "local-path") {
  json::object c = J(R"({"apiVersion":"v1","kind":"PersistentVolumeClaim","metadata":{"name":"data","namespace":"default"},
    "spec":{"accessModes":["ReadWriteOnce"],"resources":{"requests":{"storage":"1Gi"}},"volumeMode":"Filesystem"},
    "status":{"phase":"Pending"}})");
  c["spec"].as_object()["storageClassName"] = class_name;
  return c;
}

json::object Consumer(const std::string& node) {
  Pod p("web");
  p.spec()["volumes"] = json::array{J(R"({"name":"d","persistentVolumeClaim":{"claimName":"data"}})")};
  if (!node.empty()) p.Node(node);
  p.Phase("Pending");
  return p;
}

class LocalPathReconcileTest : public ControllerTest {
 protected:
  void StartController(const std::string& helper_image = "") {
    Start(NewLocalPathController(client(), "/var/lib/kite/storage", helper_image, &clock_));
  }
  bool Bound() {
    auto c = fake().Get(Claims(), "default", "data");
    return c && At(*c, "status.phase") == json::value("Bound");
  }
};

TEST_F(LocalPathReconcileTest, ClassCreatedOnceAndThenLeftToItsUser) {
  StartController();
  ASSERT_TRUE(Reconcile("StorageClass").ok());
  json::object sc = Stored(Classes(), "", "local-path");
  EXPECT_EQ(At(sc, "provisioner"), json::value("rancher.io/local-path"));
  EXPECT_EQ(At(sc, "volumeBindingMode"), json::value("WaitForFirstConsumer"));
  EXPECT_EQ(At(sc, "reclaimPolicy"), json::value("Delete"));
  EXPECT_EQ(At(sc, "metadata.annotations"), json::value(json::object{{"storageclass.kubernetes.io/is-default-class", "true"}}));
  ASSERT_EQ(fake().Writes().size(), 1u);

  // A user makes it non-default: the next start keeps that.
  sc["metadata"].as_object()["annotations"] = json::object{{"storageclass.kubernetes.io/is-default-class", "false"}};
  ASSERT_TRUE(client()->Update(Classes(), "", sc).ok());
  Settle();
  fake().ClearActions();
  ASSERT_TRUE(Reconcile("StorageClass").ok());
  EXPECT_TRUE(fake().Writes().empty());
  EXPECT_EQ(At(Stored(Classes(), "", "local-path"), "metadata.annotations"),
            json::value(json::object{{"storageclass.kubernetes.io/is-default-class", "false"}}));
}

TEST_F(LocalPathReconcileTest, ProvisionsOnlyOnceAConsumerHasANodeAndBindsAsUpstream) {
  Seed(kClass);
  json::object claim = Seed(Claim());
  Seed(Consumer(""));
  StartController();
  ASSERT_TRUE(Reconcile("default/data").ok());
  EXPECT_TRUE(fake().Writes().empty()) << "no node yet: WaitForFirstConsumer";

  ASSERT_TRUE(client()->Delete(Pods(), "default", "web").ok());
  Seed(Consumer("node-1"));
  Settle();
  ASSERT_TRUE(ReconcileUntil("default/data", [&] { return Bound(); }));

  const std::string uid = api::Uid(claim);
  const std::string pv_name = "pvc-" + uid;
  json::object pv = Stored(Volumes(), "", pv_name);
  EXPECT_EQ(At(pv, "spec.hostPath"),
            json::value(json::object{{"path", "/var/lib/kite/storage/" + pv_name + "_default_data"}, {"type", "DirectoryOrCreate"}}));
  EXPECT_EQ(At(pv, "spec.capacity"), json::value(json::object{{"storage", "1Gi"}}));
  EXPECT_EQ(At(pv, "spec.accessModes"), json::value(json::array{"ReadWriteOnce"}));
  EXPECT_EQ(At(pv, "spec.storageClassName"), json::value("local-path"));
  EXPECT_EQ(At(pv, "spec.persistentVolumeReclaimPolicy"), json::value("Delete"));
  EXPECT_EQ(At(pv, "metadata.annotations"), json::value(json::object{{"pv.kubernetes.io/provisioned-by", "rancher.io/local-path"}}));
  const json::value terms = At(pv, "spec.nodeAffinity.required.nodeSelectorTerms");
  EXPECT_EQ(terms, json::parse(R"([{"matchExpressions":[{"key":"kubernetes.io/hostname","operator":"In","values":["node-1"]}]}])"));
  EXPECT_EQ(At(pv, "spec.claimRef.uid"), json::value(uid));
  EXPECT_EQ(At(pv, "spec.claimRef.name"), json::value("data"));
  EXPECT_EQ(At(pv, "status.phase"), json::value("Bound"));

  json::object bound = Stored(Claims(), "default", "data");
  EXPECT_EQ(At(bound, "spec.volumeName"), json::value(pv_name));
  EXPECT_EQ(At(bound, "status.capacity"), json::value(json::object{{"storage", "1Gi"}}));
  EXPECT_EQ(At(bound, "status.accessModes"), json::value(json::array{"ReadWriteOnce"}));
  EXPECT_EQ(At(bound, "metadata.annotations"),
            json::value(json::object{{"pv.kubernetes.io/bind-completed", "yes"}, {"pv.kubernetes.io/bound-by-controller", "yes"}}));

  // Level-triggered: nothing more to do.
  Settle();
  fake().ClearActions();
  ASSERT_TRUE(Reconcile("default/data").ok());
  ASSERT_TRUE(Reconcile(pv_name).ok());
  EXPECT_TRUE(fake().Writes().empty());
}

TEST_F(LocalPathReconcileTest, DeletedClaimDeletesItsProvisionedVolume) {
  Seed(kClass);
  json::object claim = Seed(Claim());
  Seed(Consumer("node-1"));
  StartController();
  ASSERT_TRUE(ReconcileUntil("default/data", [&] { return Bound(); }));
  const std::string pv_name = "pvc-" + api::Uid(claim);
  ASSERT_TRUE(client()->Delete(Claims(), "default", "data").ok());
  Settle();
  fake().ClearActions();
  ASSERT_TRUE(Reconcile(pv_name).ok());
  EXPECT_EQ(Names(fake().Writes("delete", "persistentvolumes")), std::vector<std::string>{pv_name});
  EXPECT_FALSE(fake().Get(Volumes(), "", pv_name).has_value());
}

// With a helper image: the directory goes first (a helper pod on the volume's node), then the PV.
TEST_F(LocalPathReconcileTest, DeletedClaimsDirectoryIsRemovedByAHelperPodBeforeItsVolumeGoes) {
  Seed(kClass);
  Seed(R"({"apiVersion":"v1","kind":"Node","metadata":{"name":"node-1"}})");
  json::object claim = Seed(Claim());
  Seed(Consumer("node-1"));
  StartController("kite.local/local-path-helper:test");
  ASSERT_TRUE(ReconcileUntil("default/data", [&] { return Bound(); }));
  const std::string pv_name = "pvc-" + api::Uid(claim);
  ASSERT_TRUE(client()->Delete(Claims(), "default", "data").ok());
  Settle();
  ASSERT_TRUE(Reconcile(pv_name).ok());
  ASSERT_TRUE(fake().Get(Volumes(), "", pv_name).has_value());  // not before its directory is gone
  const std::string helper = "helper-pod-delete-" + pv_name;
  auto pod = fake().Get(Pods(), "kube-system", helper);
  ASSERT_TRUE(pod.has_value());
  EXPECT_EQ(At(*pod, "spec.nodeName"), json::value("node-1"));
  EXPECT_EQ(At(*pod, "spec.restartPolicy"), json::value("Never"));
  EXPECT_EQ(json::value(*pod).at_pointer("/spec/volumes/0/hostPath/path"), json::value("/var/lib/kite/storage"));
  EXPECT_EQ(json::value(*pod).at_pointer("/spec/containers/0/command"),
            json::value(json::array{"/kite-local-path-helper", "delete", "/data/" + pv_name + "_default_data"}));
  EXPECT_EQ(json::value(*pod).at_pointer("/metadata/ownerReferences/0/name"), json::value(pv_name));

  // Running: nothing yet. Failed: a new pod later, the volume stays.
  json::object p = *pod;
  p["status"] = J(R"({"phase":"Failed"})");
  ASSERT_TRUE(client()->UpdateStatus(Pods(), "kube-system", p).ok());
  Settle();
  ASSERT_TRUE(Reconcile(pv_name).ok());
  EXPECT_TRUE(fake().Get(Volumes(), "", pv_name).has_value());
  EXPECT_FALSE(fake().Get(Pods(), "kube-system", helper).has_value());
  Settle();
  ASSERT_TRUE(Reconcile(pv_name).ok());
  pod = fake().Get(Pods(), "kube-system", helper);
  ASSERT_TRUE(pod.has_value());

  p = *pod;
  p["status"] = J(R"({"phase":"Succeeded"})");
  ASSERT_TRUE(client()->UpdateStatus(Pods(), "kube-system", p).ok());
  Settle();
  ASSERT_TRUE(Reconcile(pv_name).ok());
  EXPECT_FALSE(fake().Get(Volumes(), "", pv_name).has_value());
  EXPECT_FALSE(fake().Get(Pods(), "kube-system", helper).has_value());
}

// No node to clean (it left the cluster), or a path the provisioner did not make: no helper pod.
TEST_F(LocalPathReconcileTest, NoHelperPodWithoutItsNodeOrForAForeignPath) {
  Seed(kClass);
  json::object claim = Seed(Claim());
  Seed(Consumer("node-1"));
  StartController("kite.local/local-path-helper:test");
  ASSERT_TRUE(ReconcileUntil("default/data", [&] { return Bound(); }));
  const std::string pv_name = "pvc-" + api::Uid(claim);
  ASSERT_TRUE(client()->Delete(Claims(), "default", "data").ok());
  Settle();
  ASSERT_TRUE(Reconcile(pv_name).ok());  // node-1 is not a Node: nothing to clean
  EXPECT_FALSE(fake().Get(Volumes(), "", pv_name).has_value());
  EXPECT_TRUE(fake().Writes("create", "pods").empty());

  json::object pv = J(R"({"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"v","uid":"u1"},
    "spec":{"hostPath":{"path":"/etc"},"nodeAffinity":{"required":{"nodeSelectorTerms":[{"matchExpressions":[
      {"key":"kubernetes.io/hostname","operator":"In","values":["node-1"]}]}]}}}})");
  EXPECT_FALSE(localpath::DeleteHelperPod(pv, "/var/lib/kite/storage", "img").ok());
  pv["spec"].as_object()["hostPath"] = J(R"({"path":"/var/lib/kite/storage/../x"})");
  EXPECT_FALSE(localpath::DeleteHelperPod(pv, "/var/lib/kite/storage", "img").ok());
  pv["spec"].as_object()["hostPath"] = J(R"({"path":"/var/lib/kite/storage/pvc-1_ns_x"})");
  auto ok = localpath::DeleteHelperPod(pv, "/var/lib/kite/storage/", "img");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(json::value(*ok).at_pointer("/spec/containers/0/command/2"), json::value("/data/pvc-1_ns_x"));
}

TEST_F(LocalPathReconcileTest, StaticVolumeOfTheClassBindsAndIsReleasedNotDeleted) {
  Seed(J(R"({"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"small"},
    "spec":{"capacity":{"storage":"100Mi"},"accessModes":["ReadWriteOnce"],"storageClassName":"manual",
            "hostPath":{"path":"/srv/small"},"persistentVolumeReclaimPolicy":"Retain"},"status":{"phase":"Available"}})"));
  Seed(J(R"({"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"big"},
    "spec":{"capacity":{"storage":"5Gi"},"accessModes":["ReadWriteOnce","ReadOnlyMany"],"storageClassName":"manual",
            "hostPath":{"path":"/srv/big"},"persistentVolumeReclaimPolicy":"Retain"},"status":{"phase":"Available"}})"));
  Seed(Claim("manual"));
  StartController();
  ASSERT_TRUE(ReconcileUntil("default/data", [&] { return Bound(); }));
  EXPECT_EQ(At(Stored(Claims(), "default", "data"), "spec.volumeName"), json::value("big"));
  EXPECT_EQ(At(Stored(Claims(), "default", "data"), "status.capacity.storage"), json::value("5Gi"));
  EXPECT_EQ(At(Stored(Volumes(), "", "big"), "metadata.annotations"),
            json::value(json::object{{"pv.kubernetes.io/bound-by-controller", "yes"}}));

  ASSERT_TRUE(client()->Delete(Claims(), "default", "data").ok());
  Settle();
  ASSERT_TRUE(Reconcile("big").ok());
  EXPECT_EQ(At(Stored(Volumes(), "", "big"), "status.phase"), json::value("Released"));
}

TEST_F(LocalPathReconcileTest, ClaimNamingAVolumeIsBoundToIt) {
  Seed(J(R"({"apiVersion":"v1","kind":"PersistentVolume","metadata":{"name":"mine"},
    "spec":{"capacity":{"storage":"1Gi"},"accessModes":["ReadWriteOnce"],"storageClassName":"",
            "hostPath":{"path":"/srv/mine"}},"status":{"phase":"Available"}})"));
  json::object c = Claim("");
  c["spec"].as_object()["volumeName"] = "mine";
  Seed(c);
  StartController();
  ASSERT_TRUE(ReconcileUntil("default/data", [&] { return Bound(); }));
  EXPECT_EQ(At(Stored(Volumes(), "", "mine"), "spec.claimRef.name"), json::value("data"));
  EXPECT_EQ(At(Stored(Volumes(), "", "mine"), "status.phase"), json::value("Bound"));
}

}  // namespace
}  // namespace kite::controllers
