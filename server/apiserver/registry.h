// Registry: API objects in the datastore, with the generic object rules every kind shares.
//
// Storage: the object's JSON under /registry/<resource>/<namespace>/<name> (cluster-scoped:
// /registry/<resource>/<name>); resourceVersion is the key's mod_revision, a list's is the
// revision it was read at. Rules applied here, as upstream's generic registry does:
// - create: name or generateName (+5 random chars), DNS-1123 name checks (422 with causes),
//   namespace must exist, uid and creationTimestamp set, generation 1 for objects with a spec,
//   409 AlreadyExists;
// - update: optimistic concurrency on metadata.resourceVersion (409 Conflict), uid and
//   creationTimestamp kept, generation bumped only when spec changes;
// - delete: returns the deleted object (or a Success Status); 404 NotFound everywhere.
// Per-kind defaulting/validation, finalizers, graceful deletion, selectors and the watch cache
// plug in on top of this class.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include <string>

#include "api/resources.h"
#include "datastore/store.h"
#include "server/apiserver/status.h"

namespace kite::apiserver {

std::string StorageKey(const api::ResourceInfo& r, const std::string& ns, const std::string& name);
std::string StoragePrefix(const api::ResourceInfo& r, const std::string& ns);
// "configmaps" or "deployments.apps": how upstream names a resource in messages.
std::string QualifiedResource(const api::ResourceInfo& r);

ApiError NotFound(const api::ResourceInfo& r, const std::string& name);
ApiError AlreadyExists(const api::ResourceInfo& r, const std::string& name);
ApiError Conflict(const api::ResourceInfo& r, const std::string& name);

// A random (version 4) UID and the current time as RFC 3339, as metadata.uid and
// metadata.creationTimestamp carry them.
std::string NewUid();
std::string NowRfc3339();

// DNS-1123 checks with upstream's messages; empty when valid.
std::string ValidateDnsSubdomain(const std::string& value);
std::string ValidateDnsLabel(const std::string& value);

class Registry {
 public:
  explicit Registry(datastore::Store* store) : store_(store) {}

  boost::asio::awaitable<ApiOr<boost::json::object>> Get(const api::ResourceInfo& r, const std::string& ns,
                                                         const std::string& name);
  boost::asio::awaitable<ApiOr<boost::json::object>> List(const api::ResourceInfo& r, const std::string& ns);
  boost::asio::awaitable<ApiOr<boost::json::object>> Create(const api::ResourceInfo& r, const std::string& ns,
                                                            boost::json::object obj, bool dry_run);
  boost::asio::awaitable<ApiOr<boost::json::object>> Update(const api::ResourceInfo& r, const std::string& ns,
                                                            const std::string& name, boost::json::object obj,
                                                            bool dry_run);
  boost::asio::awaitable<ApiOr<boost::json::object>> Delete(const api::ResourceInfo& r, const std::string& ns,
                                                            const std::string& name, bool dry_run);

 private:
  boost::asio::awaitable<ApiOr<int64_t>> NamespaceUsable(const std::string& ns);
  datastore::Store* store_;
};

}  // namespace kite::apiserver
