// IngressWatch: keeps kite-ingress's RouteTable current and writes our Ingresses' status.
// Informers (client/informer.h) watch Ingresses, IngressClasses, Services and Secrets (those the
// Ingresses' spec.tls names carry the certificates); any change marks the table dirty and the
// watch's own thread rebuilds it from the informers' caches and hands it, with the TLS contexts
// (certs.h), to `publish` (the proxy keeps answering from the previous ones meanwhile; a burst
// of events costs one or two rebuilds). After each rebuild every Ingress of ours gets, as its
// status.loadBalancer.ingress, that of the published Service (Traefik's publishedService: the
// LoadBalancer Service in front of kite-ingress, whose addresses ServiceLB fills in), written
// only when it differs (client/status_update.h).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "addons/ingress/certs.h"
#include "addons/ingress/routes.h"
#include "client/informer.h"

namespace kite::ingress {

class IngressWatch {
 public:
  using Publish = std::function<void(std::shared_ptr<const RouteTable>, std::shared_ptr<const TlsConfig>)>;
  // `published_service`: "namespace/name" of the Service whose addresses our Ingresses report
  // (empty: their status is left alone).
  IngressWatch(const client::Client* client, Options options, std::string published_service, Publish publish);
  ~IngressWatch();  // Stop()

  void Start();
  void Stop();
  // True once every informer has listed and the first table from them was published (/ping).
  bool Ready() const { return ready_.load(); }

 private:
  void Run();
  void MarkDirty();
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
  TlsCertificates certificates_;  // the watch thread's
  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = true, stopping_ = false;  // guarded by mu_
  std::atomic<bool> ready_{false};
  std::thread thread_;
};

}  // namespace kite::ingress
