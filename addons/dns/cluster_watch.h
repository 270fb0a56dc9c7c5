// ClusterWatch: keeps kite-dns's Zone current. Informers (client/informer.h) watch Services,
// EndpointSlices and (in "verified" pod mode) Pods; any change marks the zone dirty and the
// watch's own thread rebuilds the whole Zone from the informers' caches and hands it to
// `publish`. Changes arriving while a rebuild runs are folded into the next one, so a burst of
// events costs one or two rebuilds, and the DNS thread never waits for a rebuild (it keeps
// answering from the previous Zone until the new one is published).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "addons/dns/zone.h"
#include "client/informer.h"

namespace kite::dns {

class ClusterWatch {
 public:
  using Publish = std::function<void(std::shared_ptr<const Zone>)>;
  ClusterWatch(const client::Client* client, ZoneConfig config, Publish publish);
  ~ClusterWatch();  // Stop()

  void Start();
  void Stop();
  // True once every informer has listed and the first Zone from them was published (/ready).
  bool Ready() const { return ready_.load(); }

 private:
  void Run();
  void MarkDirty();

  ZoneConfig config_;
  Publish publish_;
  client::InformerFactory informers_;
  client::Informer* services_;
  client::Informer* slices_;
  client::Informer* pods_ = nullptr;
  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = true, stopping_ = false;  // guarded by mu_
  std::atomic<bool> ready_{false};
  std::thread thread_;
};

}  // namespace kite::dns
