// Per-kind rules of upstream's registry strategies that the generic code (registry.cc,
// handlers.cc) applies to built-in kinds.
#pragma once

#include <boost/json/object.hpp>

#include <string>

#include "api/resources.h"

namespace kite::apiserver {

// A kind's status before anyone writes it, as upstream serializes its zero value: `{}` plus the
// members its Go type never omits (typed clients require them: the Python client's
// V1ReplicaSetStatus refuses a status without `replicas`). Services: {"loadBalancer": {}}.
boost::json::object EmptyStatus(const api::ResourceInfo& r);

// Whether metadata.generation counts spec changes. Upstream's strategies set it for most kinds
// with a spec; a Lease's does not (leader election renews it every few seconds, and its spec is
// not a desired state anyone observes).
bool TracksGeneration(const api::ResourceInfo& r);

// The propagation policy of a delete that names none (upstream's per-kind
// DefaultGarbageCollectionPolicy): Orphan for v1 ReplicationControllers and batch/v1 Jobs,
// Background for everything else.
std::string DefaultPropagationPolicy(const api::ResourceInfo& r);

}  // namespace kite::apiserver
