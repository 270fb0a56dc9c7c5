// IngressWatch: keeps kite-ingress's RouteTable current and writes our Ingresses' status.
// Informers (client/informer.h) watch Ingresses, IngressClasses, Services and Secrets (those the
// Ingresses' spec.tls names carry the certificates); on any change the RebuildLoop
// (client/rebuild_loop.h) rebuilds the table from the informers' caches on its own thread and
// hands it, with the TLS contexts (certs.h), to `publish` (the proxy keeps answering from the
// previous ones meanwhile). After each rebuild every Ingress of ours gets, as its
// status.loadBalancer.ingress, that of the published Service (Traefik's publishedService: the
// LoadBalancer Service in front of kite-ingress, whose addresses ServiceLB fills in), written
// only when it differs (client/status_update.h).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "addons/ingress/certs.h"
#include "addons/ingress/routes.h"
#include "client/informer.h"
#include "client/rebuild_loop.h"

namespace kite::ingress {

class IngressWatch {
 public:
  using Publish = std::function<void(std::shared_ptr<const RouteTable>, std::shared_ptr<const TlsConfig>)>;
  // `published_service`: "namespace/name" of the Service whose addresses our Ingresses report
  // (empty: their status is left alone).
  IngressWatch(const client::Client* client, Options options, std::string published_service, Publish publish);

  void Start() { loop_->Start(); }
  void Stop() { loop_->Stop(); }
  // True once every informer has listed and the first table from them was published (/ping).
  bool Ready() const { return loop_->Ready(); }

 private:
  void Rebuild();
  void WriteStatuses(const RouteTable& table);

  const client::Client* client_;
  Options options_;
  std::string published_;
  Publish publish_;
  client::InformerFactory informers_;
  client::Informer* ingresses_;
  client::Informer* classes_;
  client::Informer* services_;
  client::Informer* secrets_;
  TlsCertificates certificates_;               // the loop thread's
  std::unique_ptr<client::RebuildLoop> loop_;  // last: stopped before the rest goes
};

}  // namespace kite::ingress
