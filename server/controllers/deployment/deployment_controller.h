// The Deployment controller: rolls a Deployment's pod template out through ReplicaSets.
// - The new ReplicaSet is the one whose template equals the Deployment's (ignoring the
//   pod-template-hash label); it is created as "<deployment>-<hash>" with the pod-template-hash
//   label in its selector and template, and the revision annotations upstream uses
//   (deployment.kubernetes.io/revision, desired-replicas, max-replicas).
// - RollingUpdate honours maxSurge/maxUnavailable; Recreate scales the old ReplicaSets to zero,
//   waits for their pods to go, then scales the new one up. Paused Deployments only scale.
// - A resize (spec.replicas differs from an active ReplicaSet's desired-replicas annotation)
//   while several ReplicaSets are active is spread over them proportionally, as upstream.
// - Old ReplicaSets beyond revisionHistoryLimit are deleted once the rollout completes.
// - Status (replicas, updated/ready/available/unavailableReplicas, observedGeneration) and the
//   Available and Progressing conditions with upstream's reasons and messages, including
//   ProgressDeadlineExceeded, so `kubectl rollout status` reads them as it reads upstream's
//   (computed by NextDeploymentStatus, below).
// `kubectl rollout undo` works client-side (it copies an old ReplicaSet's template into the
// Deployment); this controller then sees that ReplicaSet become the new one again.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewDeploymentController(const client::Client* client,
                                                            const Clock* clock = Clock::Real());

// The pod-template-hash for a template and collision count (FNV-1a over the template's
// canonical JSON, encoded in the alphabet upstream uses for generated names).
std::string PodTemplateHash(const boost::json::object& pod_template, int64_t collision_count);

// maxSurge / maxUnavailable resolved against `replicas` (percentages: surge rounds up,
// unavailable rounds down; both zero would stall, so unavailable becomes 1, as upstream).
std::pair<int64_t, int64_t> ResolveSurgeUnavailable(const boost::json::object& deployment);

// Proportional scaling (upstream's DeploymentController.scale for RollingUpdate): when a
// Deployment is resized while several ReplicaSets are active, the change is spread over them
// in proportion to their size, relative to the max-replicas each was last sized for.
struct ActiveReplicaSet {
  int64_t replicas = 0;                    // spec.replicas (> 0: the set is active)
  std::optional<int64_t> max_replicas;     // deployment.kubernetes.io/max-replicas
  std::string creation_timestamp;          // RFC 3339 (orders sets of equal size)
};
// New sizes, in the order of `sets`. `allowed` is replicas + maxSurge (0 when replicas is 0);
// `deployment_replicas` is spec.replicas, `status_replicas` the Deployment's status.replicas
// (the fallback for a set without the annotation).
std::vector<int64_t> ProportionalSizes(const std::vector<ActiveReplicaSet>& sets, int64_t deployment_replicas,
                                       int64_t allowed, int64_t status_replicas);

// --- status (deployment_status.cc)

// A DeploymentCondition at `at`: metav1's fields plus lastUpdateTime.
boost::json::object DeploymentCondition(Clock::WallTime at, const std::string& type, const std::string& status,
                                        const std::string& reason, const std::string& message);
// Upstream's SetDeploymentCondition on `status`: a condition with the same status and reason is
// kept (but a ReplicaSetUpdated progress is always refreshed); the same status keeps its
// transition time.
void SetDeploymentCondition(boost::json::object& status, boost::json::object cond);

// The status a sync writes (upstream's calculateStatus and syncRolloutStatus): the replica counts
// over `sets` (`nrs`, the new ReplicaSet among them, may be null), zero counts omitted, and the
// Available and Progressing conditions at `clock`'s time, with upstream's reasons (including
// DeploymentPaused/Resumed and, with spec.progressDeadlineSeconds, ProgressDeadlineExceeded).
// `progress_noted` is asked at most once, only when no count shows progress: whether a new
// ReplicaSet was created since the last status. `requeue`: when the progress deadline falls due.
struct DeploymentStatusUpdate {
  boost::json::object status;
  std::optional<std::chrono::seconds> requeue;
};
DeploymentStatusUpdate NextDeploymentStatus(const boost::json::object& d, const std::vector<boost::json::object>& sets,
                                            const boost::json::object* nrs, const Clock& clock,
                                            const std::function<bool()>& progress_noted);

}  // namespace kite::controllers
