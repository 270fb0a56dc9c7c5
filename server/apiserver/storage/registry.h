// Registry: API objects in the datastore, with the generic object rules every kind shares.
//
// Storage: the object's JSON under /registry/<resource>/<namespace>/<name> (cluster-scoped:
// /registry/<resource>/<name>); resourceVersion is the key's mod_revision, a list's is the
// revision it was read at. Rules applied here, as upstream's generic registry does:
// - create: name or generateName (+5 random chars), DNS-1123 name checks (422 with causes),
//   namespace must exist, uid and creationTimestamp set, the kind's generated fields, generation
//   1 for objects with a spec (not Leases), built-in kinds with a status get their empty status,
//   409 AlreadyExists;
// - update: a uid in the body must be the stored one (409 Conflict, CheckUidPrecondition),
//   optimistic concurrency on metadata.resourceVersion (409 Conflict), uid and
//   creationTimestamp kept, generation bumped only when spec changes;
// - delete: preconditions (uid, resourceVersion; a concurrent write is retried against the
//   fresh object, only a failed precondition is 409); objects with finalizers (plus "orphan" or
//   "foregroundDeletion" for those propagation policies) get deletionTimestamp and stay until
//   the finalizers are removed (an update that removes the last one deletes the object); pods
//   bound to a node are deleted gracefully (deletionTimestamp + grace, the kubelet finishes) and
//   namespaces wait for their spec.finalizers;
//   404 NotFound everywhere.
// - list: label/field selectors, limit/continue at a pinned revision, resourceVersion(Match).
// - get and list return Events in the version asked for (event_conversion.h) and custom
//   resources with their schema's defaults (crd_defaults.h); watches do the same
//   (watch_transform.h).
// What differs per kind (name rules, generated fields, empty status, generation, status kept on
// update, graceful deletion and finalizing) is the kind's Strategy's (strategy/strategy.h).
// Defaulting, schema checks and validation run before these calls (handlers/handlers.cc).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include <string>

#include <optional>

#include "api/object.h"
#include "api/resources.h"
#include "datastore/store.h"
#include "server/apiserver/storage/list_options.h"
#include "server/apiserver/status.h"

namespace kite::apiserver {

std::string StorageKey(const api::ResourceInfo& r, const std::string& ns, const std::string& name);
std::string StoragePrefix(const api::ResourceInfo& r, const std::string& ns);
// "configmaps" or "deployments.apps": how upstream names a resource in messages.
std::string QualifiedResource(const api::ResourceInfo& r);

Status NotFound(const api::ResourceInfo& r, const std::string& name);
Status AlreadyExists(const api::ResourceInfo& r, const std::string& name);
Status Conflict(const api::ResourceInfo& r, const std::string& name);
// An update whose body names a metadata.uid makes it a precondition on the stored object (as
// upstream's registry takes the new object's uid as the update's Preconditions.UID and checks it
// before anything else): another uid, that of an object since deleted and recreated under the
// same name, is 409 Conflict with upstream's storage error text, "Operation cannot be fulfilled
// on <resource> \"<name>\": StorageError: invalid object, Code: 4, Key: <storage key>,
// ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: <body's>,
// UID in object meta: <stored>". A body without a uid, or with the stored one, passes (nullopt).
std::optional<Status> CheckUidPrecondition(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                           const boost::json::object& obj, const boost::json::object& stored);

// A random (version 4) UID, as metadata.uid carries it. (Timestamps: api/time.h.)
std::string NewUid();

struct UpdateOptions {
  bool dry_run = false;
  // kMain: the object minus its status (for kinds with a status subresource the stored status
  // is kept, as upstream's strategies do); kStatus: only the status changes (…/status);
  // kWhole: spec and status as given (pods/binding sets spec.nodeName and a condition at once).
  enum class Scope { kMain, kStatus, kWhole } scope = Scope::kMain;
  // The stored object as the caller has just read it (Get), or null. Update takes it (moves from
  // it) instead of reading the object again, so the write is conditional on that version: a
  // concurrent change gives 409 Conflict, which the caller retries (patches do) or returns (as for
  // a body that pins that resourceVersion). Callers whose body does not pin a version and who do
  // not retry leave it null, so that Update reads the latest.
  boost::json::object* current = nullptr;
};

struct DeleteOptions {
  bool dry_run = false;
  std::optional<int64_t> grace_period_seconds;
  std::string propagation_policy;  // "", Background, Foreground, Orphan
  std::string precondition_uid, precondition_resource_version;
};

struct DeleteResult {
  boost::json::object object;
  bool gone = false;  // false: deletion is pending (finalizers or a graceful pod)
};

class Registry {
 public:
  explicit Registry(datastore::Store* store) : store_(store) {}

  boost::asio::awaitable<Result<boost::json::object>> Get(const api::ResourceInfo& r, const std::string& ns,
                                                         const std::string& name);
  // Get without a coroutine, for synchronous callers (the service-account authenticator): the
  // datastore's point reads never wait behind writes.
  Result<boost::json::object> Read(const api::ResourceInfo& r, const std::string& ns, const std::string& name) const;
  boost::asio::awaitable<Result<boost::json::object>> List(const api::ResourceInfo& r, const std::string& ns,
                                                          const ListOptions& o);
  boost::asio::awaitable<Result<boost::json::object>> Create(const api::ResourceInfo& r, const std::string& ns,
                                                            boost::json::object obj, bool dry_run);
  boost::asio::awaitable<Result<boost::json::object>> Update(const api::ResourceInfo& r, const std::string& ns,
                                                            const std::string& name, boost::json::object obj,
                                                            UpdateOptions o);
  boost::asio::awaitable<Result<DeleteResult>> Delete(const api::ResourceInfo& r, const std::string& ns,
                                                     const std::string& name, DeleteOptions o);

 private:
  boost::asio::awaitable<Result<int64_t>> NamespaceUsable(const std::string& ns);
  // One read-decide-write round of Delete; nullopt when the object changed in between.
  boost::asio::awaitable<Result<std::optional<DeleteResult>>> DeleteOnce(const api::ResourceInfo& r, const std::string& ns,
                                                         const std::string& name, const DeleteOptions& o);
  static constexpr int kDeleteRetries = 100;
  datastore::Store* store_;
};

}  // namespace kite::apiserver
