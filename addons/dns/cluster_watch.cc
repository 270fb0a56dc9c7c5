#include "addons/dns/cluster_watch.h"

#include "base/log.h"

namespace kite::dns {

ClusterWatch::ClusterWatch(const client::Client* client, ZoneConfig config, Publish publish)
    : config_(std::move(config)), publish_(std::move(publish)), informers_(client) {
  services_ = informers_.For("", "v1", "services");
  slices_ = informers_.For("discovery.k8s.io", "v1", "endpointslices");
  if (config_.pods == ZoneConfig::Pods::kVerified) pods_ = informers_.For("", "v1", "pods");
  client::EventHandler h;
  h.on_add = [this](const client::ObjectPtr&) { MarkDirty(); };
  h.on_update = [this](const client::ObjectPtr&, const client::ObjectPtr&) { MarkDirty(); };
  h.on_delete = [this](const client::ObjectPtr&) { MarkDirty(); };
  services_->AddHandler(h);
  slices_->AddHandler(h);
  if (pods_) pods_->AddHandler(h);
}

ClusterWatch::~ClusterWatch() { Stop(); }

void ClusterWatch::Start() {
  informers_.Start();
  thread_ = std::thread([this] { Run(); });
}

void ClusterWatch::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  informers_.Stop();
  if (thread_.joinable()) thread_.join();
}

void ClusterWatch::MarkDirty() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    dirty_ = true;
  }
  cv_.notify_one();
}

void ClusterWatch::Run() {
  // The first Zone only once every informer has its first list: an answer from a half-listed
  // cluster would be a wrong NXDOMAIN.
  while (!informers_.WaitForSync(std::chrono::seconds(1))) {
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
    const auto start = std::chrono::steady_clock::now();
    auto zone = Zone::Build(config_, services_->List(), slices_->List(), pods_ ? pods_->List() : Zone::Objects{});
    KITE_LOG(2) << "kite-dns: zone rebuilt: " << zone->names() << " names in "
                << std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count()
                << " us";
    publish_(std::move(zone));
    if (!ready_.exchange(true)) KITE_LOG(0) << "kite-dns: cluster zone " << config_.domain << " ready";
  }
}

}  // namespace kite::dns
