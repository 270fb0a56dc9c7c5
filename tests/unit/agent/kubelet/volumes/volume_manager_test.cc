// The volume manager on a temporary root dir: every volume type, mounts for volumeMounts,
// updates in place, teardown and orphan cleanup. tmpfs cases need root and are skipped without.
#include "agent/kubelet/volumes/volume_manager.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "agent/kubelet/volumes/fs.h"

namespace kite::kubelet::volumes {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

json::object Parse(const std::string& s) { return json::parse(s).as_object(); }

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

uint32_t ModeOf(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 0xffffffff;
  return st.st_mode & 07777;
}

class VolumeManagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char templ[] = "/tmp/kite-volumes-XXXXXX";
    ASSERT_NE(mkdtemp(templ), nullptr);
    tmp_ = templ;
    root_ = tmp_ + "/kubelet";
    lookup_.config_maps["shop/cfg"] = Parse(R"({"metadata":{"name":"cfg"},"data":{"app.conf":"v1","other":"o"},
        "binaryData":{"blob":"AAEC"}})");
    lookup_.config_maps["shop/kube-root-ca.crt"] = Parse(R"({"metadata":{"name":"kube-root-ca.crt"},"data":{"ca.crt":"CA"}})");
    lookup_.secrets["shop/creds"] = Parse(R"({"metadata":{"name":"creds"},"data":{"password":"czNjcjN0"}})");
    lookup_.tokens["shop/robot"] = "tok-1";
    lookup_.now_unix = 1000;
  }
  void TearDown() override {
    if (vm_) {
      EXPECT_TRUE(vm_->Cleanup({}).ok());
    }
    EXPECT_TRUE(RemoveTree(tmp_).ok());
  }
  VolumeManager& Vm(bool tmpfs = false) {
    VolumeManager::Options o;
    o.root_dir = root_;
    o.tmpfs = tmpfs;
    o.node.allocatable_milli_cpu = 4000;
    o.node.cluster_domain = "cluster.local";
    o.now = [this] { return now_; };
    vm_ = std::make_unique<VolumeManager>(o, &lookup_);
    return *vm_;
  }
  json::object Pod(const std::string& volumes, const std::string& mounts = "[]", const std::string& uid = "u-1") {
    return Parse(R"({"metadata":{"name":"web","namespace":"shop","uid":")" + uid + R"(","labels":{"b":"2","a":"1"},
        "annotations":{"q":"say \"hi\""}},
        "spec":{"serviceAccountName":"robot","volumes":)" + volumes + R"(,
        "containers":[{"name":"app","image":"i","volumeMounts":)" + mounts + R"(,
          "resources":{"limits":{"cpu":"500m"}}}]}})");
  }
  const json::object& Container(const json::object& pod) { return pod.at("spec").at("containers").as_array()[0].as_object(); }
  std::string Dir(const std::string& plugin, const std::string& name, const std::string& uid = "u-1") {
    return root_ + "/pods/" + uid + "/volumes/" + plugin + "/" + name;
  }

  std::string tmp_, root_;
  int64_t now_ = 1000;
  MapLookup lookup_;
  std::unique_ptr<VolumeManager> vm_;
};

TEST_F(VolumeManagerTest, EmptyDirOnDisk) {
  auto& vm = Vm();
  auto pod = Pod(R"([{"name":"scratch","emptyDir":{}}])", R"([{"name":"scratch","mountPath":"/scratch"}])");
  ASSERT_TRUE(vm.SetUp(pod).ok());
  const std::string dir = Dir("kubernetes.io~empty-dir", "scratch");
  EXPECT_TRUE(fs::is_directory(dir));
  EXPECT_EQ(ModeOf(dir), 0777u);
  auto mounts = vm.MountsFor(pod, Container(pod));
  ASSERT_TRUE(mounts.ok());
  ASSERT_EQ(mounts->size(), 1u);
  EXPECT_EQ((*mounts)[0].container_path, "/scratch");
  EXPECT_EQ((*mounts)[0].host_path, dir);
  EXPECT_FALSE((*mounts)[0].readonly);
  ASSERT_TRUE(vm.SetUp(pod).ok());  // idempotent
}

TEST_F(VolumeManagerTest, EmptyDirInMemoryIsATmpfsUnmountedAtTeardown) {
  if (geteuid() != 0) GTEST_SKIP() << "mounting tmpfs needs root";
  auto& vm = Vm(/*tmpfs=*/true);
  auto pod = Pod(R"([{"name":"mem","emptyDir":{"medium":"Memory","sizeLimit":"4Mi"}},{"name":"s","secret":{"secretName":"creds"}}])");
  ASSERT_TRUE(vm.SetUp(pod).ok());
  const std::string dir = Dir("kubernetes.io~empty-dir", "mem");
  EXPECT_TRUE(IsMountPoint(dir));
  EXPECT_TRUE(IsMountPoint(Dir("kubernetes.io~secret", "s")));  // secrets never touch the disk
  bool sized = false;
  for (std::ifstream in("/proc/self/mountinfo"); in;) {
    std::string line;
    std::getline(in, line);
    if (line.find(dir) != std::string::npos) sized = line.find("size=4096k") != std::string::npos;
  }
  EXPECT_TRUE(sized);
  ASSERT_TRUE(vm.SetUp(pod).ok());  // not mounted twice
  EXPECT_EQ(MountPointsUnder(dir).size(), 1u);
  std::ofstream(dir + "/f") << "data";
  ASSERT_TRUE(vm.TearDown("u-1").ok());
  EXPECT_TRUE(MountPointsUnder(root_).empty());
  EXPECT_FALSE(fs::exists(root_ + "/pods/u-1"));
  EXPECT_TRUE(vm.TearDown("u-1").ok());  // idempotent
}

TEST_F(VolumeManagerTest, HostPathTypes) {
  auto& vm = Vm();
  const std::string h = tmp_ + "/host";
  fs::create_directories(h + "/dir");
  std::ofstream(h + "/file") << "x";
  const std::string sock = h + "/s.sock";
  {
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr {};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", sock.c_str());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    close(fd);
  }
  struct Case {
    std::string path, type, error;  // error "": OK
  } cases[] = {
      {h + "/dir", "", ""},
      {h + "/nothing", "", ""},
      {h + "/dir", "Directory", ""},
      {h + "/file", "Directory", "hostPath type check failed: " + h + "/file is not a directory"},
      {h + "/nothing", "Directory", "hostPath type check failed: " + h + "/nothing is not a directory"},
      {h + "/new/deep", "DirectoryOrCreate", ""},
      {h + "/file", "DirectoryOrCreate", "hostPath type check failed: " + h + "/file is not a directory"},
      {h + "/file", "File", ""},
      {h + "/dir", "File", "hostPath type check failed: " + h + "/dir is not a file"},
      {h + "/made", "FileOrCreate", ""},
      {h + "/dir", "FileOrCreate", "hostPath type check failed: " + h + "/dir is not a file"},
      {sock, "Socket", ""},
      {h + "/file", "Socket", "hostPath type check failed: " + h + "/file is not a socket file"},
      {"/dev/null", "CharDevice", ""},
      {h + "/file", "CharDevice", "hostPath type check failed: " + h + "/file is not a character device"},
      {"/dev/null", "BlockDevice", "hostPath type check failed: /dev/null is not a block device"},
      {h + "/dir", "Weird", "Weird is an invalid volume type"},
  };
  for (const auto& tc : cases) {
    Status s = CheckHostPathType(tc.path, tc.type);
    if (tc.error.empty()) {
      EXPECT_TRUE(s.ok()) << tc.path << " " << tc.type << ": " << s.ToString();
    } else {
      EXPECT_EQ(s.message(), tc.error) << tc.type;
    }
  }
  EXPECT_TRUE(fs::is_directory(h + "/new/deep"));
  EXPECT_TRUE(fs::is_regular_file(h + "/made"));

  auto pod = Pod(R"([{"name":"h","hostPath":{"path":")" + h + R"(/file","type":"Directory"}}])");
  Status s = vm.SetUp(pod);
  EXPECT_EQ(s.message(), "MountVolume.SetUp failed for volume \"h\" : hostPath type check failed: " + h + "/file is not a directory");
  EXPECT_FALSE(vm.SetUp(Pod(R"([{"name":"h","hostPath":{"path":"relative"}}])")).ok());
  EXPECT_FALSE(vm.SetUp(Pod(R"([{"name":"h","hostPath":{"path":"/a/../etc"}}])")).ok());

  auto ok_pod = Pod(R"([{"name":"h","hostPath":{"path":")" + h + R"(/dir"}}])", R"([{"name":"h","mountPath":"/h","readOnly":true}])");
  ASSERT_TRUE(vm.SetUp(ok_pod).ok());
  auto mounts = vm.MountsFor(ok_pod, Container(ok_pod));
  ASSERT_TRUE(mounts.ok());
  EXPECT_EQ((*mounts)[0].host_path, h + "/dir");
  EXPECT_TRUE((*mounts)[0].readonly);
}

TEST_F(VolumeManagerTest, ConfigMapItemsModesAndUpdateInPlace) {
  auto& vm = Vm();
  auto pod = Pod(R"([{"name":"c","configMap":{"name":"cfg","defaultMode":288}},
      {"name":"i","configMap":{"name":"cfg","items":[{"key":"app.conf","path":"conf/app.conf","mode":384}]}}])",
                 R"([{"name":"c","mountPath":"/etc/app"}])");
  ASSERT_TRUE(vm.SetUp(pod).ok());
  const std::string c = Dir("kubernetes.io~configmap", "c"), i = Dir("kubernetes.io~configmap", "i");
  EXPECT_EQ(Read(c + "/app.conf"), "v1");
  EXPECT_EQ(Read(c + "/other"), "o");
  EXPECT_EQ(Read(c + "/blob"), std::string("\0\1\2", 3));
  EXPECT_EQ(ModeOf(c + "/app.conf"), 0440u);  // defaultMode 288
  EXPECT_EQ(Read(i + "/conf/app.conf"), "v1");
  EXPECT_EQ(ModeOf(i + "/conf/app.conf"), 0600u);
  EXPECT_FALSE(fs::exists(i + "/other"));
  auto mounts = vm.MountsFor(pod, Container(pod));
  ASSERT_TRUE(mounts.ok());
  EXPECT_TRUE((*mounts)[0].readonly);  // API data volumes are read-only

  const std::string old_ts = fs::read_symlink(c + "/..data");
  lookup_.config_maps["shop/cfg"] = Parse(R"({"metadata":{"name":"cfg"},"data":{"app.conf":"v2"}})");
  ASSERT_TRUE(vm.Update(pod).ok());
  EXPECT_EQ(Read(c + "/app.conf"), "v2");
  EXPECT_FALSE(fs::exists(fs::symlink_status(c + "/other")));
  EXPECT_FALSE(fs::exists(c + "/" + old_ts));
  EXPECT_EQ(Read(i + "/conf/app.conf"), "v2");
}

// A configMap handler's Update and the pod worker's SetUp at once: serialised per pod, so every
// call succeeds and one payload directory remains.
TEST_F(VolumeManagerTest, ConcurrentCallsForOnePod) {
  auto& vm = Vm();
  auto pod = Pod(R"([{"name":"c","configMap":{"name":"cfg"}},{"name":"d","downwardAPI":{"items":[
      {"path":"name","fieldRef":{"fieldPath":"metadata.name"}}]}}])");
  auto other = Pod(R"([{"name":"c","configMap":{"name":"cfg"}}])", "[]", "u-2");
  other["metadata"].as_object()["labels"] = json::object{{"x", "y"}};
  std::atomic<int> failures{0};
  auto run = [&](bool update, const json::object& p) {
    for (int i = 0; i < 40; ++i) {
      json::object changed = p;  // a new label each time: the downwardAPI files change
      changed["metadata"].as_object()["labels"].as_object()["n"] = std::to_string(i) + (update ? "u" : "s");
      Status s = update ? vm.Update(changed) : vm.SetUp(changed);
      if (!s.ok()) ++failures;
    }
  };
  std::thread a(run, true, pod), b(run, false, pod), c(run, true, other);
  a.join();
  b.join();
  c.join();
  EXPECT_EQ(failures.load(), 0);
  int stamped = 0;
  for (const auto& e : fs::directory_iterator(Dir("kubernetes.io~configmap", "c"))) {
    const std::string n = e.path().filename();
    if (n.starts_with("..") && n != "..data") ++stamped;
  }
  EXPECT_EQ(stamped, 1);
  EXPECT_EQ(Read(Dir("kubernetes.io~configmap", "c") + "/app.conf"), "v1");
}

TEST_F(VolumeManagerTest, PodVolumesUse) {
  auto pod = Pod(R"([{"name":"a","configMap":{"name":"cfg"}},{"name":"b","secret":{"secretName":"creds"}},
      {"name":"p","projected":{"sources":[{"configMap":{"name":"kube-root-ca.crt"}},{"secret":{"name":"tls"}}]}}])");
  EXPECT_TRUE(PodVolumesUse(pod, false, "cfg"));
  EXPECT_TRUE(PodVolumesUse(pod, false, "kube-root-ca.crt"));
  EXPECT_TRUE(PodVolumesUse(pod, true, "creds"));
  EXPECT_TRUE(PodVolumesUse(pod, true, "tls"));
  EXPECT_FALSE(PodVolumesUse(pod, true, "cfg"));
  EXPECT_FALSE(PodVolumesUse(pod, false, "creds"));
  EXPECT_FALSE(PodVolumesUse(Pod("[]"), false, "cfg"));
}

// What a container sees: the runtime bind-mounts the volume directory; an update in place
// reaches the files behind the mount (the ..data swap happens inside the bound directory).
TEST_F(VolumeManagerTest, UpdateSeenThroughABindMount) {
  if (geteuid() != 0) GTEST_SKIP() << "bind mounts need root";
  auto& vm = Vm();
  auto pod = Pod(R"([{"name":"c","configMap":{"name":"cfg"}}])", R"([{"name":"c","mountPath":"/etc/app"}])");
  ASSERT_TRUE(vm.SetUp(pod).ok());
  auto mounts = vm.MountsFor(pod, Container(pod));
  ASSERT_TRUE(mounts.ok());
  const std::string target = tmp_ + "/container-etc-app";
  fs::create_directories(target);
  ASSERT_EQ(mount((*mounts)[0].host_path.c_str(), target.c_str(), nullptr, MS_BIND, nullptr), 0) << std::strerror(errno);
  EXPECT_EQ(Read(target + "/app.conf"), "v1");
  lookup_.config_maps["shop/cfg"] = Parse(R"({"metadata":{"name":"cfg"},"data":{"app.conf":"v2","new":"n"}})");
  ASSERT_TRUE(vm.Update(pod).ok());
  EXPECT_EQ(Read(target + "/app.conf"), "v2");
  EXPECT_EQ(Read(target + "/new"), "n");
  EXPECT_FALSE(fs::exists(fs::symlink_status(target + "/other")));
  ASSERT_EQ(umount(target.c_str()), 0);
}

TEST_F(VolumeManagerTest, MissingObjectsKeysAndOptional) {
  auto& vm = Vm();
  EXPECT_EQ(vm.SetUp(Pod(R"([{"name":"c","configMap":{"name":"ghost"}}])")).message(),
            "MountVolume.SetUp failed for volume \"c\" : configmap \"ghost\" not found");
  EXPECT_TRUE(vm.SetUp(Pod(R"([{"name":"c","configMap":{"name":"ghost"}}])")).IsNotFound());
  EXPECT_EQ(vm.SetUp(Pod(R"([{"name":"s","secret":{"secretName":"ghost"}}])")).message(),
            "MountVolume.SetUp failed for volume \"s\" : secret \"ghost\" not found");
  EXPECT_EQ(vm.SetUp(Pod(R"([{"name":"c","configMap":{"name":"cfg","items":[{"key":"nope","path":"x"}]}}])")).message(),
            "MountVolume.SetUp failed for volume \"c\" : configmap references non-existent config key: nope");
  EXPECT_TRUE(vm.SetUp(Pod(R"([{"name":"c","configMap":{"name":"ghost","optional":true}}])")).ok());
  EXPECT_TRUE(fs::is_directory(Dir("kubernetes.io~configmap", "c")));
  EXPECT_TRUE(vm.SetUp(Pod(R"([{"name":"c2","configMap":{"name":"cfg","optional":true,"items":[{"key":"nope","path":"x"}]}}])")).ok());
  // Bad items are refused without writing outside the volume.
  EXPECT_FALSE(vm.SetUp(Pod(R"([{"name":"c3","configMap":{"name":"cfg","items":[{"key":"other","path":"../../escape"}]}}])")).ok());
  EXPECT_FALSE(fs::exists(root_ + "/pods/u-1/volumes/escape"));
  EXPECT_FALSE(vm.SetUp(Pod(R"([{"name":"c4","configMap":{"name":"cfg","defaultMode":4096}}])")).ok());
  // Unknown and bad volumes.
  EXPECT_EQ(vm.SetUp(Pod(R"([{"name":"n","nfs":{"server":"x","path":"/"}}])")).message(),
            "MountVolume.SetUp failed for volume \"n\" : unsupported volume type (nfs)");
  EXPECT_FALSE(vm.SetUp(Pod(R"([{"name":"../x","emptyDir":{}}])")).ok());
  EXPECT_FALSE(vm.SetUp(Pod(R"([{"name":"e","emptyDir":{"medium":"HugePages"}}])")).ok());
  EXPECT_FALSE(vm.SetUp(Pod("[]", "[]", "../../etc")).ok());
  EXPECT_FALSE(vm.SetUp(json::object{}).ok());
}

TEST_F(VolumeManagerTest, SecretAndDownwardAPI) {
  auto& vm = Vm();
  auto pod = Pod(R"([{"name":"s","secret":{"secretName":"creds","defaultMode":256}},
      {"name":"d","downwardAPI":{"items":[{"path":"labels","fieldRef":{"fieldPath":"metadata.labels"}},
        {"path":"annotations","fieldRef":{"fieldPath":"metadata.annotations"}},
        {"path":"name","fieldRef":{"fieldPath":"metadata.name"}},
        {"path":"cpu","resourceFieldRef":{"containerName":"app","resource":"limits.cpu","divisor":"1m"}}]}}])");
  ASSERT_TRUE(vm.SetUp(pod).ok());
  EXPECT_EQ(Read(Dir("kubernetes.io~secret", "s") + "/password"), "s3cr3t");
  EXPECT_EQ(ModeOf(Dir("kubernetes.io~secret", "s") + "/password"), 0400u);
  const std::string d = Dir("kubernetes.io~downward-api", "d");
  EXPECT_EQ(Read(d + "/labels"), "a=\"1\"\nb=\"2\"");
  EXPECT_EQ(Read(d + "/annotations"), "q=\"say \\\"hi\\\"\"");
  EXPECT_EQ(Read(d + "/name"), "web");
  EXPECT_EQ(Read(d + "/cpu"), "500");
  EXPECT_FALSE(vm.SetUp(Pod(R"([{"name":"d","downwardAPI":{"items":[{"path":"ip","fieldRef":{"fieldPath":"status.podIP"}}]}}])")).ok());
}

TEST_F(VolumeManagerTest, ProjectedWithTokenCaAndNamespace) {
  auto& vm = Vm();
  auto pod = Pod(R"([{"name":"kube-api-access","projected":{"defaultMode":420,"sources":[
      {"serviceAccountToken":{"expirationSeconds":3607,"path":"token","audience":"api"}},
      {"configMap":{"name":"kube-root-ca.crt","items":[{"key":"ca.crt","path":"ca.crt"}]}},
      {"downwardAPI":{"items":[{"path":"namespace","fieldRef":{"fieldPath":"metadata.namespace"}}]}},
      {"secret":{"name":"creds","items":[{"key":"password","path":"pw","mode":256}]}}]}}])",
                 R"([{"name":"kube-api-access","mountPath":"/var/run/secrets/kubernetes.io/serviceaccount"}])");
  ASSERT_TRUE(vm.SetUp(pod).ok());
  const std::string p = Dir("kubernetes.io~projected", "kube-api-access");
  EXPECT_EQ(Read(p + "/token"), "tok-1");
  EXPECT_EQ(Read(p + "/ca.crt"), "CA");
  EXPECT_EQ(Read(p + "/namespace"), "shop");
  EXPECT_EQ(Read(p + "/pw"), "s3cr3t");
  EXPECT_EQ(ModeOf(p + "/token"), 0644u);
  EXPECT_EQ(ModeOf(p + "/pw"), 0400u);

  // The token is kept until 80% of its life, then renewed in place.
  lookup_.tokens["shop/robot"] = "tok-2";
  now_ = 1000 + 2000;
  ASSERT_TRUE(vm.Update(pod).ok());
  EXPECT_EQ(Read(p + "/token"), "tok-1");
  now_ = 1000 + 3607 * 8 / 10 + 1;
  ASSERT_TRUE(vm.Update(pod).ok());
  EXPECT_EQ(Read(p + "/token"), "tok-2");

  // No TokenRequest on the server: a clear error.
  lookup_.tokens.clear();
  Status s = vm.SetUp(Pod(R"([{"name":"t","projected":{"sources":[{"serviceAccountToken":{"path":"token"}}]}}])", "[]", "u-2"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Code::kUnimplemented);
  EXPECT_NE(s.message().find("does not serve serviceaccounts/robot/token (TokenRequest)"), std::string::npos) << s.message();
  EXPECT_FALSE(vm.SetUp(Pod(R"([{"name":"t","projected":{"sources":[{"clusterTrustBundle":{}}]}}])")).ok());
  EXPECT_FALSE(vm.SetUp(Pod(R"([{"name":"t","projected":{"sources":[{"serviceAccountToken":{"path":"t","expirationSeconds":60}}]}}])")).ok());
}

TEST_F(VolumeManagerTest, PersistentVolumeClaims) {
  auto& vm = Vm();
  const std::string data = tmp_ + "/pv-data";
  lookup_.claims["shop/data"] = Parse(R"({"metadata":{"name":"data","uid":"c-1"},"spec":{"volumeName":"pv-1"},"status":{"phase":"Bound"}})");
  lookup_.volumes["pv-1"] = Parse(R"({"metadata":{"name":"pv-1"},"spec":{"hostPath":{"path":")" + data +
                                  R"(","type":"DirectoryOrCreate"},"claimRef":{"namespace":"shop","name":"data","uid":"c-1"}}})");
  lookup_.claims["shop/pending"] = Parse(R"({"metadata":{"name":"pending"},"spec":{},"status":{"phase":"Pending"}})");
  lookup_.claims["shop/local"] = Parse(R"({"metadata":{"name":"local"},"spec":{"volumeName":"pv-2"},"status":{"phase":"Bound"}})");
  lookup_.volumes["pv-2"] = Parse(R"({"metadata":{"name":"pv-2"},"spec":{"local":{"path":")" + tmp_ + R"(/no-such-dir"}}})");
  lookup_.claims["shop/stolen"] = Parse(R"({"metadata":{"name":"stolen"},"spec":{"volumeName":"pv-1"},"status":{"phase":"Bound"}})");

  auto pod = Pod(R"([{"name":"d","persistentVolumeClaim":{"claimName":"data"}}])",
                 R"([{"name":"d","mountPath":"/data"},{"name":"d","mountPath":"/sub","subPath":"a/b"}])");
  ASSERT_TRUE(vm.SetUp(pod).ok());
  EXPECT_TRUE(fs::is_directory(data));
  auto mounts = vm.MountsFor(pod, Container(pod));
  ASSERT_TRUE(mounts.ok()) << mounts.error().ToString();
  EXPECT_EQ((*mounts)[0].host_path, data);
  EXPECT_FALSE((*mounts)[0].readonly);
  EXPECT_EQ((*mounts)[1].host_path, data + "/a/b");
  EXPECT_TRUE(fs::is_directory(data + "/a/b"));

  Status pending = vm.SetUp(Pod(R"([{"name":"d","persistentVolumeClaim":{"claimName":"pending"}}])"));
  EXPECT_EQ(pending.code(), Code::kFailedPrecondition);
  EXPECT_EQ(pending.message(), "MountVolume.SetUp failed for volume \"d\" : PVC shop/pending has non-bound phase (\"Pending\") "
                               "or empty pvc.Spec.VolumeName (\"\")");
  EXPECT_TRUE(vm.SetUp(Pod(R"([{"name":"d","persistentVolumeClaim":{"claimName":"ghost"}}])")).IsNotFound());
  EXPECT_FALSE(vm.SetUp(Pod(R"([{"name":"d","persistentVolumeClaim":{"claimName":"local"}}])")).ok());
  EXPECT_FALSE(vm.SetUp(Pod(R"([{"name":"d","persistentVolumeClaim":{"claimName":"stolen"}}])")).ok());
  // After the teardown of the pod the PV's data stays.
  std::ofstream(data + "/keep") << "k";
  ASSERT_TRUE(vm.TearDown("u-1").ok());
  EXPECT_TRUE(fs::exists(data + "/keep"));
}

TEST_F(VolumeManagerTest, MountsSubPathPropagationAndBadMounts) {
  auto& vm = Vm();
  const std::string outside = tmp_ + "/outside";
  fs::create_directories(outside);
  auto pod = Pod(R"([{"name":"e","emptyDir":{}}])");
  ASSERT_TRUE(vm.SetUp(pod).ok());
  fs::create_directory_symlink(outside, Dir("kubernetes.io~empty-dir", "e") + "/evil");
  auto mounts_of = [&](const std::string& mounts, bool privileged = false) {
    auto p = Pod(R"([{"name":"e","emptyDir":{}}])", mounts);
    if (privileged) p["spec"].as_object()["containers"].as_array()[0].as_object()["securityContext"] = json::object{{"privileged", true}};
    return vm.MountsFor(p, Container(p));
  };
  auto ok = mounts_of(R"([{"name":"e","mountPath":"/a","subPath":"x/y","mountPropagation":"HostToContainer"}])");
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  EXPECT_EQ((*ok)[0].host_path, Dir("kubernetes.io~empty-dir", "e") + "/x/y");
  EXPECT_EQ((*ok)[0].propagation, cri::MountPropagation::kHostToContainer);
  auto escape = mounts_of(R"([{"name":"e","mountPath":"/a","subPath":"evil"}])");
  ASSERT_FALSE(escape.ok());
  EXPECT_NE(escape.error().message().find("points outside the volume"), std::string::npos);
  // A subPath to create through a symlink the container made: refused, nothing made outside.
  auto through = mounts_of(R"([{"name":"e","mountPath":"/a","subPath":"evil/newdir"}])");
  ASSERT_FALSE(through.ok());
  EXPECT_FALSE(fs::exists(outside + "/newdir"));
  EXPECT_FALSE(mounts_of(R"([{"name":"e","mountPath":"/a","subPath":"../x"}])").ok());
  EXPECT_FALSE(mounts_of(R"([{"name":"e","mountPath":"/a","subPath":"/etc"}])").ok());
  EXPECT_FALSE(mounts_of(R"([{"name":"nope","mountPath":"/a"}])").ok());
  EXPECT_FALSE(mounts_of(R"([{"name":"e","mountPath":"relative"}])").ok());
  EXPECT_FALSE(mounts_of(R"~([{"name":"e","mountPath":"/a","subPathExpr":"$(POD)"}])~").ok());  // no env given
  {
    auto p = Pod(R"([{"name":"e","emptyDir":{}}])", R"~([{"name":"e","mountPath":"/a","subPathExpr":"logs/$(POD)"},
        {"name":"e","mountPath":"/b","subPathExpr":"$(EMPTY)x"},{"name":"e","mountPath":"/c","subPathExpr":"$(UP)"}])~");
    VolumeManager::Env env{{"POD", "web-1"}, {"EMPTY", ""}, {"UP", ".."}};
    auto& c = p["spec"].as_object()["containers"].as_array()[0].as_object();
    json::array only_first{c["volumeMounts"].as_array()[0]};
    json::array all = c["volumeMounts"].as_array();
    c["volumeMounts"] = only_first;
    auto expanded = vm.MountsFor(p, Container(p), {}, &env);
    ASSERT_TRUE(expanded.ok()) << expanded.error().ToString();
    EXPECT_EQ((*expanded)[0].host_path, Dir("kubernetes.io~empty-dir", "e") + "/logs/web-1");
    c["volumeMounts"] = json::array{all[1]};
    auto empty = vm.MountsFor(p, Container(p), {}, &env);
    ASSERT_FALSE(empty.ok());
    EXPECT_NE(empty.error().message().find("missing value for EMPTY"), std::string::npos);
    c["volumeMounts"] = json::array{all[2]};
    EXPECT_FALSE(vm.MountsFor(p, Container(p), {}, &env).ok());  // expands to ".."
  }
  EXPECT_FALSE(mounts_of(R"([{"name":"e","mountPath":"/a","mountPropagation":"Bidirectional"}])").ok());
  auto bidi = mounts_of(R"([{"name":"e","mountPath":"/a","mountPropagation":"Bidirectional"}])", true);
  ASSERT_TRUE(bidi.ok());
  EXPECT_EQ((*bidi)[0].propagation, cri::MountPropagation::kBidirectional);
  EXPECT_FALSE(mounts_of(R"([{"name":"e","mountPath":"/a","mountPropagation":"Sideways"}])").ok());
}

TEST_F(VolumeManagerTest, FSGroupOwnsWrittenVolumesAndEmptyDirs) {
  if (geteuid() != 0) GTEST_SKIP() << "giving files to another group needs root";
  auto& vm = Vm();
  auto pod = Parse(R"({"metadata":{"name":"web","namespace":"shop","uid":"u-1"},
      "spec":{"securityContext":{"fsGroup":2345},"volumes":[{"name":"s","secret":{"secretName":"creds","defaultMode":256}},
        {"name":"c","configMap":{"name":"cfg","items":[{"key":"app.conf","path":"sub/app.conf"}]}},{"name":"e","emptyDir":{}}],
      "containers":[{"name":"app"}]}})");
  ASSERT_TRUE(vm.SetUp(pod).ok());
  struct stat st {};
  const std::string secret = Dir("kubernetes.io~secret", "s");
  ASSERT_EQ(stat((secret + "/password").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 2345u);
  EXPECT_EQ(st.st_mode & 07777, 0440u);  // 0400 plus the group's read
  ASSERT_EQ(stat((secret + "/..data").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 2345u);
  EXPECT_EQ(st.st_mode & 07777, 02755u);
  ASSERT_EQ(stat((Dir("kubernetes.io~configmap", "c") + "/sub").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 2345u);
  EXPECT_EQ(st.st_mode & 07777, 02755u);
  ASSERT_EQ(stat(Dir("kubernetes.io~empty-dir", "e").c_str(), &st), 0);
  EXPECT_EQ(st.st_gid, 2345u);
  EXPECT_EQ(st.st_mode & 07777, 02777u);
  // Nothing changed: nothing rewritten.
  const std::string ts = fs::read_symlink(secret + "/..data");
  ASSERT_TRUE(vm.Update(pod).ok());
  EXPECT_EQ(fs::read_symlink(secret + "/..data"), ts);
}

TEST_F(VolumeManagerTest, ManagedEtcHosts) {
  auto& vm = Vm();
  auto pod = Parse(R"({"metadata":{"name":"web","namespace":"shop","uid":"u-1"},
      "spec":{"hostname":"db","subdomain":"dbs","hostAliases":[{"ip":"10.1.1.1","hostnames":["foo","foo.local"]}],
      "volumes":[{"name":"e","emptyDir":{}}],
      "containers":[{"name":"app","volumeMounts":[{"name":"e","mountPath":"/e"}]},
                    {"name":"own","volumeMounts":[{"name":"e","mountPath":"/etc/hosts","subPath":"hosts"}]}]}})");
  ASSERT_TRUE(vm.SetUp(pod).ok());
  const auto& containers = pod.at("spec").at("containers").as_array();
  auto mounts = vm.MountsFor(pod, containers[0].as_object(), {"10.42.0.7"});
  ASSERT_TRUE(mounts.ok()) << mounts.error().ToString();
  ASSERT_EQ(mounts->size(), 2u);
  EXPECT_EQ((*mounts)[1].container_path, "/etc/hosts");
  EXPECT_EQ((*mounts)[1].host_path, root_ + "/pods/u-1/etc-hosts");
  EXPECT_EQ(Read((*mounts)[1].host_path),
            "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
            "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
            "10.42.0.7\tdb.dbs.shop.svc.cluster.local\tdb\n"
            "\n# Entries added by HostAliases.\n10.1.1.1\tfoo\tfoo.local\n");
  // No IP yet: no hosts file; a container that mounts /etc/hosts itself keeps its own.
  auto no_ip = vm.MountsFor(pod, containers[0].as_object());
  ASSERT_TRUE(no_ip.ok());
  EXPECT_EQ(no_ip->size(), 1u);
  auto own = vm.MountsFor(pod, containers[1].as_object(), {"10.42.0.7"});
  ASSERT_TRUE(own.ok());
  ASSERT_EQ(own->size(), 1u);
  EXPECT_EQ((*own)[0].container_path, "/etc/hosts");

  // The host's network: the node's hosts file.
  std::ofstream(tmp_ + "/node-hosts") << "127.0.0.1 localhost\n192.168.1.5 node1\n";
  VolumeManager::Options o;
  o.root_dir = root_;
  o.tmpfs = false;
  o.host_hosts_file = tmp_ + "/node-hosts";
  VolumeManager host_vm(o, &lookup_);
  auto hn = Parse(R"({"metadata":{"name":"h","namespace":"shop","uid":"u-9"},"spec":{"hostNetwork":true,"containers":[{"name":"c"}]}})");
  auto hm = host_vm.MountsFor(hn, hn.at("spec").at("containers").as_array()[0].as_object(), {"192.168.1.5"});
  ASSERT_TRUE(hm.ok());
  ASSERT_EQ(hm->size(), 1u);
  EXPECT_EQ(Read((*hm)[0].host_path), "# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n192.168.1.5 node1\n");
  ASSERT_TRUE(host_vm.TearDown("u-9").ok());
}

// Volumes and mounts of the wrong shape: Statuses, never a crash, nothing outside the root.
TEST_F(VolumeManagerTest, MalformedInputNeverCrashes) {
  auto& vm = Vm();
  auto pod = Pod(R"([1,"x",{"name":5},{"name":"a","configMap":5},{"name":"b","projected":{"sources":"x"}},
      {"name":"c","hostPath":{"path":5}},{"name":"d","downwardAPI":{"items":[1,{"path":5,"fieldRef":{"fieldPath":5}}]}},
      {"name":"e","emptyDir":{"sizeLimit":[]}},{"name":"f","secret":{"items":5}},{"name":"g","persistentVolumeClaim":{"claimName":5}},
      {"name":"h","configMap":{"name":"cfg","items":[{"key":"other","path":5,"mode":"x"}]}}])",
                 R"([1,{"name":5},{"name":"a","mountPath":5},{"name":"e","mountPath":"/e","subPath":5,"mountPropagation":1}])");
  EXPECT_FALSE(vm.SetUp(pod).ok());
  EXPECT_FALSE(vm.Update(pod).ok());
  (void)vm.MountsFor(pod, Container(pod), {"10.0.0.1"});
  (void)vm.TerminationLogFile(pod, "", 0);
  auto junk = Parse(R"({"metadata":{"uid":"u-5"},"spec":{"volumes":"x","hostAliases":5,"containers":[{"volumeMounts":"y"}]}})");
  EXPECT_TRUE(vm.SetUp(junk).ok());
  (void)vm.MountsFor(junk, Container(junk), {"10.0.0.1"});
  for (const auto& e : fs::directory_iterator(tmp_)) EXPECT_EQ(e.path().filename(), "kubelet");
}

TEST_F(VolumeManagerTest, TerminationLogTearDownAndCleanup) {
  auto& vm = Vm();
  auto pod = Pod(R"([{"name":"e","emptyDir":{}},{"name":"c","configMap":{"name":"cfg"}}])");
  ASSERT_TRUE(vm.SetUp(pod).ok());
  auto log = vm.TerminationLogFile(pod, "app", 2);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(*log, root_ + "/pods/u-1/containers/app/2");
  EXPECT_EQ(ModeOf(*log), 0666u);
  EXPECT_FALSE(vm.TerminationLogFile(pod, "../x", 0).ok());

  ASSERT_TRUE(vm.SetUp(Pod(R"([{"name":"e","emptyDir":{}}])", "[]", "u-2")).ok());
  ASSERT_TRUE(vm.SetUp(Pod(R"([{"name":"e","emptyDir":{}}])", "[]", "u-3")).ok());
  // A symlink out of the pod dir is removed, not followed.
  const std::string outside = tmp_ + "/precious";
  fs::create_directories(outside);
  std::ofstream(outside + "/f") << "keep";
  fs::create_directory_symlink(outside, Dir("kubernetes.io~empty-dir", "e", "u-2") + "/link");
  ASSERT_TRUE(vm.Cleanup({"u-1"}).ok());
  EXPECT_TRUE(fs::exists(root_ + "/pods/u-1"));
  EXPECT_FALSE(fs::exists(root_ + "/pods/u-2"));
  EXPECT_FALSE(fs::exists(root_ + "/pods/u-3"));
  EXPECT_TRUE(fs::exists(outside + "/f"));
  ASSERT_TRUE(vm.TearDown("u-1").ok());
  EXPECT_FALSE(fs::exists(root_ + "/pods/u-1"));
  EXPECT_TRUE(vm.TearDown("u-1").ok());
  EXPECT_FALSE(vm.TearDown("..").ok());
  EXPECT_FALSE(vm.TearDown("").ok());
}

}  // namespace
}  // namespace kite::kubelet::volumes
