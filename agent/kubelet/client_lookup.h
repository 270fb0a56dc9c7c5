// ClientLookup: Lookup (lookup.h) over the Kubernetes API, for the kubelet. Each kind is read
// from an informer when one is given and has synced (no request per container start), else
// with a GET/LIST through the client. RequestToken POSTs a TokenRequest
// (serviceaccounts/<sa>/token, bound to the pod); a server that does not serve that subresource
// (404/405) makes it kUnimplemented.
// Thread-safety: as Client and Informer, safe for concurrent calls.
#pragma once

#include "agent/kubelet/lookup.h"
#include "client/client.h"
#include "client/informer.h"

namespace kite::kubelet {

// The informers ClientLookup reads from; each optional, and must outlive the lookup.
struct LookupInformers {
  const client::Informer* config_maps = nullptr;
  const client::Informer* secrets = nullptr;
  const client::Informer* services = nullptr;
  const client::Informer* claims = nullptr;
  const client::Informer* volumes = nullptr;
};

class ClientLookup : public Lookup {
 public:
  explicit ClientLookup(const client::Client* client, LookupInformers informers = {})
      : client_(client), informers_(informers) {}

  Result<boost::json::object> GetConfigMap(const std::string& ns, const std::string& name) override;
  Result<boost::json::object> GetSecret(const std::string& ns, const std::string& name) override;
  Result<boost::json::object> GetPersistentVolumeClaim(const std::string& ns, const std::string& name) override;
  Result<boost::json::object> GetPersistentVolume(const std::string& name) override;
  // Always a GET (pods that name a RuntimeClass are few; upstream's kubelet keeps an informer).
  Result<boost::json::object> GetRuntimeClass(const std::string& name) override;
  Result<std::vector<boost::json::object>> ListServices(const std::string& ns) override;
  Result<ServiceAccountToken> RequestToken(const std::string& ns, const std::string& service_account,
                                           const std::string& audience, int64_t expiration_seconds,
                                           const boost::json::object& pod) override;

 private:
  Result<boost::json::object> Get(const client::Informer* informer, const char* resource, const std::string& ns,
                                  const std::string& name);
  const client::Client* client_;
  const LookupInformers informers_;
};

}  // namespace kite::kubelet
