// Owning dependents, as upstream's ControllerRefManager and the ReplicaSet controller's pod
// handlers do it: which of the objects a selector matches a controller may count as its own
// (claim: keep, adopt, release), and which controller a dependent's event wakes.
//
// Contract:
//  - Claim keeps a dependent controlled by the owner (same uid) that matches the selector;
//    releases one that is controlled by the owner but no longer matches (removes the owner's
//    reference, and the given finalizers, so nothing waits on the owner any more); adopts an
//    orphan that matches (the owner becomes its controller) unless the owner or the orphan is
//    being deleted; ignores dependents controlled by someone else.
//  - Adoption and release are strategic merge patches of metadata, pinned by the dependent's
//    uid: an object replaced under the same name is never touched. A dependent that is gone
//    (NotFound) is simply not claimed; other failures are returned (the first one), with the
//    dependents claimed so far, so the caller goes on with what it owns and retries later.
//  - DependentHandler's handlers only enqueue keys and lower expectations (informer rule).
// Thread-safety: a ControllerRefManager is for one Reconcile on one thread; the handlers run
// on the informer's thread.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/labels.h"
#include "client/client.h"
#include "client/expectations.h"
#include "client/informer.h"
#include "client/workqueue.h"

namespace kite::client {

class ControllerRefManager {
 public:
  // `owner` must outlive the manager. `dependents` is the resource of what is claimed (pods,
  // replicasets); `release_finalizers` are removed from a released dependent (the Job's pod
  // tracking finalizer).
  ControllerRefManager(const Client* client, const api::ResourceInfo& dependents, const boost::json::object& owner,
                       api::LabelSelector selector, std::vector<std::string> release_finalizers = {});

  // The candidates the owner may count as its own (adopted ones as the server returned them).
  std::vector<ObjectPtr> Claim(const std::vector<ObjectPtr>& candidates, Status* error);
  // Makes the owner the controller of an orphan; the updated object, or nullptr and *error.
  ObjectPtr Adopt(const boost::json::object& orphan, Status* error);
  // Removes the owner's reference (and the release finalizers) from a dependent. A dependent
  // already gone is not an error.
  Status Release(const boost::json::object& dependent);

 private:
  const Client* client_;
  const api::ResourceInfo& dependents_;
  const boost::json::object& owner_;
  const api::LabelSelector selector_;
  const std::vector<std::string> release_finalizers_;
  const std::string owner_uid_;
  const bool owner_deleting_;
};

// The queue key of the dependent's controller when it is of `kind` and `owners` (the owner
// kind's informer) holds it with the same uid (upstream's resolveControllerRef): a reference
// to a deleted and re-created owner of the same name resolves to nothing.
std::optional<std::string> ResolveControllerRef(const boost::json::object& dependent, std::string_view kind,
                                                const Informer& owners);

// What a controller's dependent informer needs to wake the right owner.
struct DependentEvents {
  WorkQueue* queue = nullptr;
  // May be null (a controller that does not count its creations and deletions).
  Expectations* expectations = nullptr;
  // The owner's queue key when the dependent's controller is one of this controller's objects
  // (api::ControllerKeyOf or ResolveControllerRef).
  std::function<std::optional<std::string>(const boost::json::object& dependent)> owner_key;
  // For an orphan: enqueue every owner whose selector matches it (they may adopt it). May be
  // null (a controller that never adopts).
  std::function<void(const boost::json::object& orphan)> enqueue_adopters;
};

// Upstream's addPod/updatePod/deletePod of the ReplicaSet controller, which every controller
// owning pods or ReplicaSets follows: a new dependent is an observed creation for its owner,
// one that starts being deleted (or disappears without having been seen being deleted) an
// observed deletion; a change of controller wakes both; an orphan wakes its possible adopters;
// an update that changes nothing (same resourceVersion, a relist) wakes nobody.
EventHandler DependentHandler(DependentEvents events);

}  // namespace kite::client
