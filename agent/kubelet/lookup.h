// Lookup: the objects the kubelet reads while it turns a pod spec into what the runtime gets
// (env from configMaps and secrets, configMap/secret/projected volumes, PVC → PV, service
// account tokens, the RuntimeClass of spec.runtimeClassName). A seam: the kubelet backs it with informers or its client, tests with maps
// (MapLookup below).
//
// Contract:
//  - Get* return the object (its JSON, as the API serves it) or a NotFound Status when it does
//    not exist; any other error (the server is unreachable) is returned as it is, and callers
//    retry later. Returned objects are the caller's copies.
//  - RequestToken asks for a bound service account token (upstream's TokenRequest,
//    POST serviceaccounts/<sa>/token) for `pod`; kUnimplemented when the server cannot issue
//    one (kite's API server does not serve the TokenRequest subresource yet).
// Thread-safety: implementations must allow concurrent calls (pod workers run in parallel).
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"

namespace kite::kubelet {

struct ServiceAccountToken {
  std::string token;
  int64_t expiration_unix = 0;  // status.expirationTimestamp, seconds since the epoch
};

class Lookup {
 public:
  virtual ~Lookup() = default;
  virtual Result<boost::json::object> GetConfigMap(const std::string& ns, const std::string& name) = 0;
  virtual Result<boost::json::object> GetSecret(const std::string& ns, const std::string& name) = 0;
  virtual Result<boost::json::object> GetPersistentVolumeClaim(const std::string& ns, const std::string& name) = 0;
  virtual Result<boost::json::object> GetPersistentVolume(const std::string& name) = 0;
  // A RuntimeClass (node.k8s.io/v1): its handler is what the pod's sandbox runs with.
  virtual Result<boost::json::object> GetRuntimeClass(const std::string& name) = 0;
  // The Services of a namespace (for the docker-link env vars of enableServiceLinks).
  virtual Result<std::vector<boost::json::object>> ListServices(const std::string& ns) = 0;
  virtual Result<ServiceAccountToken> RequestToken(const std::string& ns, const std::string& service_account,
                                                   const std::string& audience, int64_t expiration_seconds,
                                                   const boost::json::object& pod) = 0;
};

// A Lookup over maps keyed "ns/name" (PVs: "name"), for tests and for pods that need no API
// (static pods). RequestToken answers from `tokens` keyed "ns/sa" (expiry: now + the request's),
// else kUnimplemented. Not thread-safe for writes: fill it before use.
class MapLookup : public Lookup {
 public:
  std::map<std::string, boost::json::object> config_maps, secrets, claims, volumes;
  std::map<std::string, boost::json::object> runtime_classes;  // by name
  std::map<std::string, std::vector<boost::json::object>> services;  // by namespace
  std::map<std::string, std::string> tokens;
  int64_t now_unix = 0;  // RequestToken's "now"; 0: the real clock

  Result<boost::json::object> GetConfigMap(const std::string& ns, const std::string& name) override;
  Result<boost::json::object> GetSecret(const std::string& ns, const std::string& name) override;
  Result<boost::json::object> GetPersistentVolumeClaim(const std::string& ns, const std::string& name) override;
  Result<boost::json::object> GetPersistentVolume(const std::string& name) override;
  Result<boost::json::object> GetRuntimeClass(const std::string& name) override;
  Result<std::vector<boost::json::object>> ListServices(const std::string& ns) override;
  Result<ServiceAccountToken> RequestToken(const std::string& ns, const std::string& service_account,
                                           const std::string& audience, int64_t expiration_seconds,
                                           const boost::json::object& pod) override;
};

}  // namespace kite::kubelet
