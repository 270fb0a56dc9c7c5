// Controller history: the apps/v1 ControllerRevisions through which the DaemonSet and
// StatefulSet controllers remember every pod template they rolled out, as upstream's
// pkg/controller/history does, so `kubectl rollout history` lists them and `kubectl rollout
// undo` can patch an old template back in.
//
// A revision holds, in `data`, the strategic merge patch that restores its template:
// {"spec":{"template":{…,"$patch":"replace"}}}. It is named "<parent>-<hash>" where the hash
// covers `data` and the parent's status.collisionCount, carries the template's labels plus
// controller-revision-hash=<hash>, the parent's annotations (kubectl shows change-cause from
// them), and a controller reference to the parent. `revision` numbers grow: re-using an old
// template (a rollback) moves its revision to the top rather than making a duplicate.
//
// Threading: stateless functions; they call the client (blocking) and never touch caches.
#pragma once

#include <boost/json/object.hpp>

#include <set>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/informer.h"

namespace kite::controllers {

constexpr const char* kControllerRevisionHashLabel = "controller-revision-hash";

// {"spec":{"template":{…,"$patch":"replace"}}} for the parent's spec.template.
boost::json::object RevisionData(const boost::json::object& parent);
// The pod template a revision restores (its data.spec.template without the patch directive).
boost::json::object RevisionTemplate(const boost::json::object& revision);
int64_t RevisionNumber(const boost::json::object& revision);
// Hash of a revision's data and the collision count, in upstream's safe alphabet: FNV-1a over
// the JSON with object keys sorted (equal data hashes equally whatever its key order). The
// Deployment's pod-template-hash is the same function of its pod template (upstream's
// controller.ComputeHash).
std::string RevisionHash(const boost::json::object& data, int64_t collision_count);

// The ControllerRevisions controlled by `parent` (by uid), oldest revision first.
std::vector<boost::json::object> OwnedRevisions(const client::Informer& revisions, const boost::json::object& parent);

// The revision for the parent's current template: an existing equal one (renumbered to the
// top when it is not the newest) or a new one. A name taken by a different revision (hash
// collision) increments *collision_count and fails with Conflict: the caller persists the
// count in status and retries. `revisions` is updated to hold the result.
kite::Result<boost::json::object> EnsureRevision(const client::Client& client, const boost::json::object& parent,
                                                std::vector<boost::json::object>& revisions, int64_t* collision_count);

// Deletes the oldest revisions not named in `live` beyond `limit` (spec.revisionHistoryLimit).
void TruncateHistory(const client::Client& client, const std::vector<boost::json::object>& revisions,
                     const std::set<std::string>& live, int64_t limit);

}  // namespace kite::controllers
