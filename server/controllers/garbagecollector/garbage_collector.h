// The garbage collector (upstream's "garbagecollector" controller): deletes objects whose owners
// are gone and carries out the propagation policies the API server only records.
//
// It keeps a graph of owner references over every sweepable resource (served_resources.h),
// custom resources included, fed by informers. Work items are object uids in two kinds:
// - "delete" (attemptToDelete): an object whose owners may be gone. Its owners are looked up
//   live; each is solid (exists), dangling (absent, or another uid under that name) or waiting
//   (being deleted with the foregroundDeletion finalizer). With a solid owner left, the dangling
//   and waiting references are removed from the object; otherwise the object is deleted —
//   Foreground if an owner waits for it and it has dependents of its own, else in the policy its
//   own finalizers ask for (orphan, foregroundDeletion) or Background.
//   An object being deleted with foregroundDeletion instead waits until no dependent with
//   blockOwnerDeletion remains, then loses that finalizer (and the API server deletes it).
// - "orphan" (attemptToOrphan): an object being deleted with the `orphan` finalizer; its
//   reference is removed from every dependent, then the finalizer.
// Writes use merge patches pinned to the resourceVersion read, so a concurrent change makes
// the item retry with fresh data rather than overwrite it.
#pragma once

#include <boost/json/object.hpp>

#include <memory>
#include <string>
#include <vector>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewGarbageCollector(const client::Client* client,
                                                        const Clock* clock = Clock::Real());

namespace gc {

struct OwnerRef {
  std::string uid, api_version, kind, name;
  bool block = false;  // blockOwnerDeletion
};
std::vector<OwnerRef> OwnerRefsOf(const boost::json::object& obj);

enum class OwnerState { kSolid, kDangling, kWaiting };

struct Decision {
  enum class Action { kNothing, kRemoveRefs, kDelete } action = Action::kNothing;
  std::vector<std::string> remove_uids;  // kRemoveRefs: owner uids to drop from the object
  std::string policy;                    // kDelete: Background, Foreground or Orphan
  bool unblock = false;                  // kDelete: first set blockOwnerDeletion=false on waiting refs
};

// What to do with `item` given the state of each of its owners (same order as OwnerRefsOf).
// `has_dependents`: something refers to the item; `dependent_deleting_dependents`: one of those
// is itself being deleted in the foreground (a possible cycle).
Decision Decide(const boost::json::object& item, const std::vector<OwnerRef>& owners,
                const std::vector<OwnerState>& states, bool has_dependents, bool dependent_deleting_dependents);

bool HasFinalizer(const boost::json::object& obj, const char* finalizer);

// A merge patch body that sets metadata.<field> to `value` (null removes it) and pins
// metadata.resourceVersion to the object's.
std::string PinnedMetaPatch(const boost::json::object& obj, const char* field, boost::json::value value);

}  // namespace gc
}  // namespace kite::controllers
