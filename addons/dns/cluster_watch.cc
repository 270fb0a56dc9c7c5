#include "addons/dns/cluster_watch.h"

#include "base/log.h"

namespace kite::dns {

ClusterWatch::ClusterWatch(const client::Client* client, ZoneConfig config, Publish publish)
    : config_(std::move(config)), publish_(std::move(publish)), informers_(client) {
  services_ = informers_.For("", "v1", "services");
  slices_ = informers_.For("discovery.k8s.io", "v1", "endpointslices");
  if (config_.pods == ZoneConfig::Pods::kVerified) pods_ = informers_.For("", "v1", "pods");
  std::vector<client::Informer*> watched{services_, slices_};
  if (pods_) watched.push_back(pods_);
  loop_ = std::make_unique<client::RebuildLoop>(&informers_, watched, [this] { Rebuild(); });
}

void ClusterWatch::Rebuild() {
  const auto start = std::chrono::steady_clock::now();
  auto zone = Zone::Build(config_, services_->List(), slices_->List(), pods_ ? pods_->List() : Zone::Objects{});
  KITE_LOG(2) << "kite-dns: zone rebuilt: " << zone->names() << " names in "
              << std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count()
              << " us";
  publish_(std::move(zone));
  if (!Ready()) KITE_LOG(0) << "kite-dns: cluster zone " << config_.domain << " ready";
}

}  // namespace kite::dns
