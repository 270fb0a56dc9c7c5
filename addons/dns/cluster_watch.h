// ClusterWatch: keeps kite-dns's Zone current. Informers (client/informer.h) watch Services,
// EndpointSlices and (in "verified" pod mode) Pods; on any change the RebuildLoop
// (client/rebuild_loop.h) rebuilds the whole Zone from the informers' caches on its own thread
// and hands it to `publish`; the DNS thread keeps answering from the previous Zone meanwhile.
#pragma once

#include <functional>
#include <memory>

#include "addons/dns/zone.h"
#include "client/informer.h"
#include "client/rebuild_loop.h"

namespace kite::dns {

class ClusterWatch {
 public:
  using Publish = std::function<void(std::shared_ptr<const Zone>)>;
  ClusterWatch(const client::Client* client, ZoneConfig config, Publish publish);

  void Start() { loop_->Start(); }
  void Stop() { loop_->Stop(); }
  // True once every informer has listed and the first Zone from them was published (/ready).
  bool Ready() const { return loop_->Ready(); }

 private:
  void Rebuild();

  ZoneConfig config_;
  Publish publish_;
  client::InformerFactory informers_;
  client::Informer* services_;
  client::Informer* slices_;
  client::Informer* pods_ = nullptr;
  std::unique_ptr<client::RebuildLoop> loop_;  // last: stopped before the rest goes
};

}  // namespace kite::dns
