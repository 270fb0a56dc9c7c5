// ImageGC: the kubelet's image garbage collection by disk usage, as upstream's image manager
// does it (--image-gc-high-threshold 85, --image-gc-low-threshold 80): when the filesystem that
// holds the images is fuller than the high threshold, images that no container uses (running or
// exited) are removed until it is below the low one. The sandbox (pause) image stays. Upstream
// removes the least recently used first; the runtime does not say when an image was last used,
// so here the largest go first (the fewest removals for the space).
// One pass runs every `period` on the controller runner (a single key).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>

#include "agent/cri/runtime.h"
#include "client/controller.h"

namespace kite::kubelet {

class ImageGC final : public client::Controller {
 public:
  struct Options {
    int high_threshold_percent = 85;
    int low_threshold_percent = 80;
    std::string keep_image;  // the pause image
    std::chrono::milliseconds period{std::chrono::minutes(5)};
  };
  // (capacity, available) bytes of the image filesystem.
  using Usage = std::function<std::pair<int64_t, int64_t>()>;

  ImageGC(cri::RuntimeService* runtime, cri::ImageService* images, Usage usage, Options opts);

  void Init(client::InformerFactory& informers) override;
  Status Reconcile(const std::string& key) override;

  // One pass: the bytes of the images removed (0 when under the threshold).
  Result<int64_t> Collect();
  // Removes unused images, largest first, until `goal` bytes are freed or none is left (the
  // eviction manager's node-level reclaim); the bytes freed.
  Result<int64_t> Free(int64_t goal);

 private:
  cri::RuntimeService* runtime_;
  cri::ImageService* images_;
  Usage usage_;
  const Options opts_;
};

}  // namespace kite::kubelet
