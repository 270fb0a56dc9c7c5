// What a StatefulSet should do next with its pods, as a pure function of what exists: the
// ordering rules of upstream's StatefulSet controller, kept apart from the API calls so they
// can be tested alone.
//
// Members are ordinals [start, start+replicas); pods with other ordinals are condemned.
// - OrderedReady ("monotonic"): walk members in ascending order; a Failed/Succeeded pod is
//   deleted (it comes back on a later pass), a missing pod is created, and the walk stops at
//   the first pod just created, deleted, terminating or not yet Running and Ready (available
//   for minReadySeconds) — so ordinal i starts only once 0..i-1 are ready. Then condemned pods
//   go one at a time from the highest ordinal, only while every member is healthy.
// - Parallel: every missing member is created and every condemned pod deleted at once.
// - RollingUpdate, after the above made no blocking change: from the highest member down to
//   start+partition, the first pod not at the update revision is deleted (it is recreated at
//   the update revision), one at a time, waiting for each to be Running and Ready again.
// New pods below start+partition are created at the current revision, the others at the
// update revision (with OnDelete: always the update revision).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace kite::controllers {

// The ordinal of a pod named "<set>-<n>", if it is one.
std::optional<int64_t> ParseOrdinal(const std::string& set_name, const std::string& pod_name);

struct StatefulPodState {
  bool terminating = false;  // deletionTimestamp set
  bool finished = false;     // phase Failed or Succeeded
  bool healthy = false;      // Running, Ready (for minReadySeconds), not terminating
  std::string revision;      // its controller-revision-hash label
};

struct StatefulSetPlanInput {
  int64_t start = 0;  // spec.ordinals.start
  int64_t replicas = 0;
  bool parallel = false;  // podManagementPolicy Parallel
  bool rolling = true;    // updateStrategy RollingUpdate (else OnDelete)
  int64_t partition = 0;
  std::string current_revision, update_revision;
  std::map<int64_t, StatefulPodState> pods;  // by ordinal
};

struct StatefulSetAction {
  enum Kind { kCreate, kDelete } kind;
  int64_t ordinal;
  std::string revision;  // kCreate: the revision to create it at
  bool operator==(const StatefulSetAction&) const = default;
};

std::vector<StatefulSetAction> PlanStatefulSet(const StatefulSetPlanInput& in);

}  // namespace kite::controllers
