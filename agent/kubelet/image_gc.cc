#include "agent/kubelet/image_gc.h"

#include <algorithm>
#include <set>

#include "base/log.h"

namespace kite::kubelet {

ImageGC::ImageGC(cri::RuntimeService* runtime, cri::ImageService* images, Usage usage, Options opts)
    : Controller("image-gc", 1), runtime_(runtime), images_(images), usage_(std::move(usage)), opts_(std::move(opts)) {}

void ImageGC::Init(client::InformerFactory&) { queue_.AddAfter("gc", opts_.period); }

Status ImageGC::Reconcile(const std::string&) {
  queue_.AddAfter("gc", opts_.period);
  auto freed = Collect();
  if (!freed.ok()) KITE_LOG(0) << "image gc: " << freed.error().message();
  return Status::Ok();
}

Result<int64_t> ImageGC::Collect() {
  const auto [capacity, available] = usage_();
  if (capacity <= 0) return int64_t{0};
  const int64_t used = capacity - available;
  if (used * 100 < capacity * opts_.high_threshold_percent) return int64_t{0};
  const int64_t goal = used - capacity * opts_.low_threshold_percent / 100;  // bytes to free
  auto freed = Free(goal);
  if (freed.ok() && *freed < goal) {
    KITE_LOG(0) << "image gc: freed " << *freed << " of the " << goal << " bytes wanted; every other image is in use";
  }
  return freed;
}

Result<int64_t> ImageGC::Free(int64_t goal) {
  auto containers = runtime_->ListContainers({});
  if (!containers.ok()) return containers.error().Annotate("listing containers");
  std::set<std::string> in_use;
  for (const auto& c : *containers) {
    in_use.insert(c.image_ref);
    in_use.insert(c.image.image);
  }
  auto images = images_->ListImages();
  if (!images.ok()) return images.error().Annotate("listing images");
  std::vector<cri::Image> unused;
  for (const auto& img : *images) {
    bool used_now = in_use.contains(img.id);
    for (const auto& t : img.repo_tags) used_now = used_now || in_use.contains(t) || t == opts_.keep_image;
    if (!used_now) unused.push_back(img);
  }
  std::sort(unused.begin(), unused.end(), [](const cri::Image& a, const cri::Image& b) { return a.size > b.size; });
  int64_t freed = 0;
  for (const auto& img : unused) {
    if (freed >= goal) break;
    if (Status s = images_->RemoveImage(cri::ImageSpec{img.id}); !s.ok()) {
      KITE_LOG(0) << "image gc: removing " << img.id << ": " << s.message();
      continue;
    }
    freed += static_cast<int64_t>(img.size);
    KITE_LOG(0) << "image gc: removed " << (img.repo_tags.empty() ? img.id : img.repo_tags.front()) << " ("
                << img.size << " bytes) to free disk space";
  }
  return freed;
}

}  // namespace kite::kubelet
