// ImageGC: unused images go, largest first, only above the high threshold and until under the
// low one; images of containers (running or exited) and the pause image stay.
#include "agent/kubelet/image_gc.h"

#include <gtest/gtest.h>

#include <map>

#include "agent/hollow/hollow_runtime.h"

namespace kite::kubelet {
namespace {

// Images by id; removing one frees its size on the fake disk.
class FakeImages final : public cri::ImageService {
 public:
  std::map<std::string, cri::Image> images;
  int64_t used = 0;
  void Add(const std::string& id, const std::string& tag, uint64_t size) {
    images[id] = cri::Image{.id = id, .repo_tags = {tag}, .repo_digests = {}, .size = size, .uid = std::nullopt, .username = ""};
    used += static_cast<int64_t>(size);
  }
  Result<std::string> PullImage(const cri::ImageSpec& i, const std::optional<cri::AuthConfig>&,
                                const cri::PodSandboxConfig&) override {
    return i.image;
  }
  Result<std::optional<cri::Image>> ImageStatus(const cri::ImageSpec&) override { return std::optional<cri::Image>(); }
  Result<std::vector<cri::Image>> ListImages() override {
    std::vector<cri::Image> out;
    for (const auto& [id, img] : images) out.push_back(img);
    return out;
  }
  Status RemoveImage(const cri::ImageSpec& i) override {
    if (auto it = images.find(i.image); it != images.end()) {
      used -= static_cast<int64_t>(it->second.size);
      images.erase(it);
    }
    return Status::Ok();
  }
};

TEST(ImageGCTest, RemovesUnusedImagesLargestFirstUntilUnderTheLowThreshold) {
  hollow::HollowRuntime rt("10.64.0.0/24", nullptr);
  FakeImages images;
  images.Add("sha256:pause", "kite.local/pause:3.9", 1);
  images.Add("sha256:used", "example/used:1", 10);
  images.Add("sha256:big", "example/big:1", 8);
  images.Add("sha256:mid", "example/mid:1", 5);
  images.Add("sha256:small", "example/small:1", 2);
  cri::PodSandboxConfig sb;
  sb.metadata = {"p", "uid", "ns", 0};
  auto sandbox = rt.RunPodSandbox(sb);
  ASSERT_TRUE(sandbox.ok());
  cri::ContainerConfig c;
  c.metadata.name = "c";
  c.image.image = "example/used:1";
  ASSERT_TRUE(rt.CreateContainer(*sandbox, c, sb).ok());  // created, not running: still in use

  const int64_t capacity = 30;  // used 26 of 30: 86% > 85%; goal: under 80% = 24
  ImageGC::Options o;
  o.keep_image = "kite.local/pause:3.9";
  ImageGC gc(&rt, &images, [&] { return std::make_pair(capacity, capacity - images.used); }, o);
  auto freed = gc.Collect();
  ASSERT_TRUE(freed.ok()) << freed.error().message();
  EXPECT_EQ(*freed, 8);  // the largest unused one was enough
  EXPECT_FALSE(images.images.contains("sha256:big"));
  EXPECT_TRUE(images.images.contains("sha256:used"));
  EXPECT_TRUE(images.images.contains("sha256:pause"));
  EXPECT_TRUE(images.images.contains("sha256:mid"));
  EXPECT_EQ(*gc.Collect(), 0);  // 18 of 30: under the high threshold, nothing to do
}

TEST(ImageGCTest, NothingToRemoveBelowTheHighThresholdOrOnAnUnknownDisk) {
  hollow::HollowRuntime rt("10.64.0.0/24", nullptr);
  FakeImages images;
  images.Add("sha256:a", "example/a:1", 10);
  ImageGC below(&rt, &images, [] { return std::make_pair(int64_t{100}, int64_t{50}); }, {});
  EXPECT_EQ(*below.Collect(), 0);
  ImageGC unknown(&rt, &images, [] { return std::make_pair(int64_t{0}, int64_t{0}); }, {});
  EXPECT_EQ(*unknown.Collect(), 0);
  EXPECT_TRUE(images.images.contains("sha256:a"));
}

}  // namespace
}  // namespace kite::kubelet
