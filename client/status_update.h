// UpdateStatusIfChanged: the status write at the end of a controller's sync, as upstream's
// controllers make it (updateReplicaSetStatus, storeDaemonSetStatus, updatePdbStatus, …): build
// the status, compare it with the stored one, write it through the status subresource only when
// it differs.
//
// Contract:
//  - Nothing is sent when `status` equals obj's stored status (a sync that changed nothing makes
//    no write, so it makes no watch event that would sync the object again).
//  - The object gone (NotFound) is not an error: its deletion reaches the controller through
//    its informer. Every other error is the client's own (kite::Status with its Kubernetes reason
//    and code: a Conflict means a newer object is on its way, and the key's back-off retries),
//    annotated "updating <resource>/status".
//  - `obj` is the object as last read (its resourceVersion is the write's precondition, as an
//    Update's); only its status is replaced.
// Thread-safety: as the Client (any thread).
#pragma once

#include <boost/json/object.hpp>

#include <optional>

#include "api/resources.h"
#include "base/status.h"
#include "client/client.h"

namespace kite::client {

// Writes `status` as obj's status when it differs from the stored one. `written`, if given,
// receives the object the server answered when a write succeeded (nullopt otherwise: nothing
// to write, or the object is gone).
Status UpdateStatusIfChanged(const Client& client, const api::ResourceInfo& r, const boost::json::object& obj,
                             boost::json::object status, std::optional<boost::json::object>* written = nullptr);

}  // namespace kite::client
