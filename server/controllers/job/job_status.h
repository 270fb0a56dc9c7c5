// The Job controller's status bookkeeping (job_controller.h), apart from its API calls: what one
// Reconcile of a Job works on from step to step (JobSync), and the steps that only compute —
// the uncounted-pods record, the running counts, the verdict (failed? succeeded?) and the
// conditions. The controller (job_controller.cc) claims pods, writes the status, removes
// finalizers, starts and stops pods, and records events around them.
//
// Internal to the Job controller; the names live in controllers::job.
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "api/object.h"
#include "base/status.h"
#include "client/informer.h"

namespace kite::controllers::job {

// The finalizer a Job's pods carry until their outcome is counted (upstream's).
inline constexpr const char* kTrackingFinalizer = "batch.kubernetes.io/job-tracking";

// Whether `pod` still carries kTrackingFinalizer.
bool HasTrackingFinalizer(const boost::json::object& pod);

// A JobCondition at `at`: metav1's fields plus lastProbeTime.
boost::json::object JobCondition(std::chrono::system_clock::time_point at, const std::string& type,
                                 const std::string& status, const std::string& reason, const std::string& message);
// Upstream's Job condition update on `status`: a condition that already has this status is
// kept whole (with its times and reason); otherwise it is replaced.
void SetJobCondition(boost::json::object& status, boost::json::object cond);

// What one Reconcile of a Job works on, from step to step: the cached Job (kept alive), the
// status being built, and what each step found. Not shared between threads.
struct JobSync {
  JobSync(const std::string& k, const client::ObjectPtr& cached, std::chrono::system_clock::time_point at)
      : key(k),
        job(*cached),
        spec(api::GetObject(*cached, "spec")),
        status(api::GetObject(*cached, "status")),
        indexed(api::GetString(spec, "completionMode") == "Indexed"),
        parallelism(api::GetInt(spec, "parallelism", 1)),
        now(at),
        cached_(cached) {
    if (auto* c = spec.if_contains("completions"); c && (c->is_int64() || c->is_uint64())) {
      completions = api::GetInt(spec, "completions");
    }
  }
  const std::string key;
  boost::json::object job;          // updated by each status write, so the next one is not a conflict
  const boost::json::object& spec;  // of the cached Job (cached_ keeps it alive)
  boost::json::object status;       // being built
  const bool indexed;
  std::optional<int64_t> completions;
  const int64_t parallelism;
  const std::chrono::system_clock::time_point now;
  std::vector<client::ObjectPtr> pods;  // the Job's, claimed

  // TrackFinishedPods: finished pods not yet counted (uncountedTerminatedPods), the counts.
  std::set<std::string> unc_s, unc_f;
  std::set<int64_t> done_indexes;
  int64_t succeeded = 0, failed = 0;
  std::set<std::string> released;  // finalizers removed in this pass (the cache still shows them)
  Status release;                  // the last failed finalizer removal
  // CountRunningPods.
  std::vector<client::ObjectPtr> active;
  int64_t ready = 0, terminating = 0, restarts = 0;
  bool pods_linger = false;  // finalizers still to remove
  // ApplySuspension and CheckFinished.
  bool suspended = false;
  std::vector<client::ObjectPtr> to_delete;
  std::string fail_reason, fail_message;
  bool success = false;
  std::optional<std::chrono::seconds> requeue;
  // ManagePods.
  int64_t created = 0, deleted = 0;

 private:
  client::ObjectPtr cached_;
};

// sync's sets of finished pods not yet counted (unc_s, unc_f) and, for Indexed Jobs, the
// completed indexes, as sync.status records them.
void ReadUncounted(JobSync& sync);
// status.uncountedTerminatedPods (and, for Indexed Jobs, completedIndexes) from sync's sets.
void WriteUncounted(const JobSync& sync, boost::json::object& status);
// What is running (active, ready, restarts), terminating, and whether any pod still waits for
// its finalizer to go (pods_linger).
void CountRunningPods(JobSync& sync);
// Whether the Job has failed (a FailureTarget condition, the backoff limit, activeDeadlineSeconds:
// fail_reason/fail_message; requeue when the deadline is still ahead) or, failing not, succeeded
// (success), as upstream decides, failure first. Changes no condition.
void JudgeFinished(JobSync& sync);
// The final counts of the pass: active (with this pass's creations and deletions), ready and
// terminating; zero active/succeeded/failed omitted, as upstream's omitempty.
void WriteActiveCounts(JobSync& sync);

}  // namespace kite::controllers::job
