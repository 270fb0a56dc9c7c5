#include "client/rebuild_loop.h"

namespace kite::client {

RebuildLoop::RebuildLoop(InformerFactory* informers, const std::vector<Informer*>& watched,
                         std::function<void()> rebuild)
    : informers_(informers), rebuild_(std::move(rebuild)) {
  EventHandler h;
  h.on_add = [this](const ObjectPtr&) { MarkDirty(); };
  h.on_update = [this](const ObjectPtr&, const ObjectPtr&) { MarkDirty(); };
  h.on_delete = [this](const ObjectPtr&) { MarkDirty(); };
  for (Informer* inf : watched) inf->AddHandler(h);
}

RebuildLoop::~RebuildLoop() { Stop(); }

void RebuildLoop::Start() {
  informers_->Start();
  thread_ = std::thread([this] { Run(); });
}

void RebuildLoop::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  informers_->Stop();
  if (thread_.joinable()) thread_.join();
}

void RebuildLoop::MarkDirty() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_ = true;
  }
  cv_.notify_one();
}

void RebuildLoop::Run() {
  while (!informers_->WaitForSync(std::chrono::seconds(1))) {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
  }
  while (true) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [this] { return dirty_ || stopping_; });
      if (stopping_) return;
      dirty_ = false;
    }
    rebuild_();
    ready_.store(true);
  }
}

}  // namespace kite::client
