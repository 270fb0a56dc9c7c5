// The merge of the kubelet's pod sources (pod_sources.h) and the file source's reading of its
// directory: static pods run with or without the API, mirror pods are never run, a key nobody
// knows before the API has listed is unknown (not gone), and what a change of the directory
// tells the subscribers.
#include "agent/kubelet/pod_sources.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>

#include "api/object.h"

namespace kite::kubelet {
namespace {

namespace json = boost::json;
using Kind = SourcedPod::Kind;

client::ObjectPtr Pod(const std::string& uid, const std::string& mirror = "") {
  json::object p{{"metadata", json::object{{"namespace", "default"}, {"name", "web-n1"}, {"uid", uid}}},
                 {"spec", json::object{{"nodeName", "n1"}}}};
  if (!mirror.empty()) {
    p["metadata"].as_object()["annotations"] =
        json::object{{"kubernetes.io/config.source", "file"}, {"kubernetes.io/config.mirror", mirror}};
  }
  return std::make_shared<const json::object>(std::move(p));
}

TEST(PodSourcesTest, AStaticPodRunsWithoutTheApi) {
  const auto file = Pod("hash1");
  for (bool synced : {false, true}) {
    SourcedPod s = MergePodSources(file, nullptr, synced);
    EXPECT_EQ(s.kind, Kind::kRun);
    EXPECT_EQ(s.pod, file);
    EXPECT_TRUE(s.is_static);
  }
}

TEST(PodSourcesTest, TheStaticPodIsRunNotItsMirror) {
  const auto file = Pod("hash2");
  for (const auto& api : {Pod("api-uid", "hash2"), Pod("api-uid", "hash1")}) {  // current mirror, stale mirror
    SourcedPod s = MergePodSources(file, api, true);
    EXPECT_EQ(s.kind, Kind::kRun);
    EXPECT_EQ(s.pod, file);
    EXPECT_TRUE(s.is_static);
  }
}

TEST(PodSourcesTest, AMirrorWithoutItsManifestIsGone) {
  for (bool synced : {false, true}) EXPECT_EQ(MergePodSources(nullptr, Pod("api-uid", "hash1"), synced).kind, Kind::kGone);
}

TEST(PodSourcesTest, AnApiPodRuns) {
  const auto api = Pod("api-uid");
  SourcedPod s = MergePodSources(nullptr, api, true);
  EXPECT_EQ(s.kind, Kind::kRun);
  EXPECT_EQ(s.pod, api);
  EXPECT_FALSE(s.is_static);
}

TEST(PodSourcesTest, NoPodIsUnknownUntilTheApiHasListedThenGone) {
  EXPECT_EQ(MergePodSources(nullptr, nullptr, false).kind, Kind::kUnknown);
  EXPECT_EQ(MergePodSources(nullptr, nullptr, true).kind, Kind::kGone);
}

TEST(PodSourcesTest, IsMirrorPod) {
  EXPECT_TRUE(IsMirrorPod(*Pod("u", "h")));
  EXPECT_FALSE(IsMirrorPod(*Pod("u")));
}

// The file source alone (no API attached: a kubelet whose server never answered).
class FileSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("kite-file-source-" + std::to_string(::getpid()) + "-" + ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void Write(const std::string& file, const std::string& image) {
    std::ofstream(dir_ / file) << "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: kube-system}\n"
                               << "spec: {containers: [{name: c, image: " << image << "}]}\n";
  }
  std::filesystem::path dir_;
};

TEST_F(FileSourceTest, AddChangeAndRemovalReachTheSubscribersAndTheMerge) {
  FilePodSource file(dir_.string(), "n1");
  PodSources sources(&file);
  std::vector<std::string> seen;  // "key uid"
  sources.Subscribe([&](const client::ObjectPtr& p) { seen.push_back(api::Namespace(*p) + "/" + api::Name(*p) + " " + api::Uid(*p)); });
  const std::string key = "kube-system/web-n1";

  Write("web.yaml", "busybox:1");
  std::ofstream(dir_ / "notes.txt") << "not a manifest";
  std::ofstream(dir_ / "bad.yaml") << "kind: Service";
  file.Scan();
  ASSERT_EQ(seen.size(), 1u);
  SourcedPod s = sources.Get(key);
  ASSERT_EQ(s.kind, Kind::kRun);
  EXPECT_TRUE(s.is_static);
  const std::string first = api::Uid(*s.pod);
  EXPECT_EQ(seen[0], key + " " + first);

  file.Scan();  // nothing changed: nothing said
  EXPECT_EQ(seen.size(), 1u);

  Write("web.yaml", "busybox:2");
  file.Scan();
  ASSERT_EQ(seen.size(), 2u);
  s = sources.Get(key);
  ASSERT_EQ(s.kind, Kind::kRun);
  EXPECT_NE(api::Uid(*s.pod), first);
  EXPECT_EQ(seen[1], key + " " + api::Uid(*s.pod));

  std::filesystem::remove(dir_ / "web.yaml");
  file.Scan();
  ASSERT_EQ(seen.size(), 3u);
  EXPECT_EQ(seen[2], key + " " + api::Uid(*s.pod));  // the last one, removed
  EXPECT_EQ(sources.Get(key).kind, Kind::kUnknown);  // no API attached: never listed
}

TEST_F(FileSourceTest, TheWatchSeesAnEditWithoutWaitingForTheInterval) {
  FilePodSource file(dir_.string(), "n1", std::chrono::hours(1));
  std::mutex mu;
  std::condition_variable cv;
  int changes = 0;
  file.Subscribe([&](const std::string&, const FilePodSource::PodPtr&) {
    std::lock_guard<std::mutex> lock(mu);
    ++changes;
    cv.notify_all();
  });
  file.Start();
  Write("web.yaml", "busybox:1");
  std::unique_lock<std::mutex> lock(mu);
  EXPECT_TRUE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return changes >= 1; }));
  lock.unlock();
  file.Stop();
}

}  // namespace
}  // namespace kite::kubelet
