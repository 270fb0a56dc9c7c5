// The namespace controller (upstream's "namespace"): finishes deleting a namespace. The API
// server marks a deleted namespace Terminating (deletionTimestamp, spec.finalizers
// ["kubernetes"]); this controller deletes every namespaced object in it — each sweepable
// built-in resource and every custom resource its CRDs serve, with propagationPolicy
// Background — and looks again until nothing is left. Objects held by finalizers may linger:
// the namespace's status conditions say what remains, in upstream's words
// (NamespaceContentRemaining, NamespaceFinalizersRemaining, NamespaceDeletionContentFailure,
// NamespaceDeletionDiscoveryFailure, NamespaceDeletionGroupVersionParsingFailure). When the
// namespace is empty, "kubernetes" is removed through namespaces/<name>/finalize and the API
// server deletes the namespace.
#pragma once

#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <string>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewNamespaceController(const client::Client* client,
                                                           const Clock* clock = Clock::Real());

namespace ns {

// What a content sweep found still present: resource ("pods.", "widgets.example.com") → count,
// finalizer → count of objects carrying it, and resources whose delete/list failed.
struct Remaining {
  std::map<std::string, int64_t> resources;
  std::map<std::string, int64_t> finalizers;
  std::map<std::string, std::string> failures;  // resource → error
};

// The namespace status conditions for a sweep's outcome, upstream's types, reasons and
// messages; `now` becomes lastTransitionTime of conditions that change against `current`
// (the namespace's status.conditions).
boost::json::array DeletionConditions(const Remaining& r, const boost::json::array& current, const std::string& now);

}  // namespace ns
}  // namespace kite::controllers
