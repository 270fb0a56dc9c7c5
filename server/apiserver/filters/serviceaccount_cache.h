// ServiceAccountObjectCache: what the service-account authenticator reads about ServiceAccounts,
// Pods, Secrets and Nodes, kept in memory (upstream's authenticator reads them through
// informers' listers too). A request with a service-account token used to make two datastore
// reads (the account, then the bound pod); now it makes two hash lookups.
//
// Contents: for every object under /registry/{serviceaccounts,pods,secrets,nodes}/ a trimmed copy
// holding what serviceaccount_authn.h checks — metadata.name, uid, deletionTimestamp, the
// kubernetes.io/service-account.name annotation, and for kubernetes.io/service-account-token
// Secrets their type and data.token. Only the metadata of pods, accounts and nodes is decoded
// (stored_json.h finds it), so following a busy cluster's pod writes costs little.
//
// Freshness: a KeyFollower (rbac/key_follower.h) applies each write after it commits, on its own
// thread, typically within a millisecond; a deleted pod's tokens stop working once the delete
// is applied. A key the cache does not hold is read from the datastore (`fallback`), as
// upstream's getter falls back to a live GET on a lister miss, so an object created a moment
// ago is never refused for being new.
//
// Thread-safe; `Get` never blocks on the follower.
#pragma once

#include <boost/json/object.hpp>

#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "datastore/store.h"
#include "server/apiserver/filters/serviceaccount_authn.h"
#include "server/apiserver/rbac/key_follower.h"

namespace kite::apiserver {

class ServiceAccountObjectCache {
 public:
  // Loads the four prefixes before returning. `store` must outlive this (or Stop() first).
  ServiceAccountObjectCache(datastore::Store* store, ServiceAccountAuthenticator::Getter fallback);
  ~ServiceAccountObjectCache();

  // The authenticator's Getter: the trimmed object, or the fallback's answer on a miss.
  Result<boost::json::object> Get(const std::string& resource, const std::string& ns, const std::string& name) const;

  // Stops following (before the store closes); lookups then use what was loaded, plus fallback.
  void Stop() { follower_->Stop(); }
  // Waits (bounded) until the writes made so far are applied (tests).
  void Sync() { follower_->WaitForCurrent(2000); }

  // The trimmed form of a stored object (exposed for tests); nullopt when `stored` is not an
  // object of that resource as kite stores it.
  static std::optional<boost::json::object> Trim(const std::string& resource, std::string_view stored);

 private:
  void Apply(const std::string& key, const datastore::Value& value);

  ServiceAccountAuthenticator::Getter fallback_;
  mutable std::shared_mutex mu_;
  // "resource/ns/name" (nodes: "nodes//name") → trimmed object. Guarded by mu_.
  std::unordered_map<std::string, std::shared_ptr<const boost::json::object>> objects_;
  std::unique_ptr<KeyFollower> follower_;
};

}  // namespace kite::apiserver
