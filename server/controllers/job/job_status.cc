// The Job controller's status bookkeeping (job_status.h).
#include "server/controllers/job/job_status.h"

#include "api/conditions.h"
#include "api/object.h"
#include "api/pod.h"
#include "api/time.h"
#include "server/controllers/job/job_math.h"

namespace kite::controllers::job {
namespace json = boost::json;

namespace {

std::set<std::string> StringSet(const json::object& o, const char* key) {
  std::set<std::string> out;
  for (const auto& v : api::GetArray(o, key)) {
    if (v.is_string()) out.insert(std::string(v.as_string()));
  }
  return out;
}

json::array ToArray(const std::set<std::string>& s) {
  json::array a;
  for (const auto& x : s) a.push_back(json::string(x));
  return a;
}

}  // namespace

json::object JobCondition(std::chrono::system_clock::time_point at, const std::string& type,
                          const std::string& status, const std::string& reason,
                          const std::string& message) {
  return api::NewCondition(type, status, reason, message, api::FormatTime(at), "lastProbeTime");
}

void SetJobCondition(json::object& status, json::object cond) {
  const json::object* cur = api::FindCondition(status, api::GetString(cond, "type"));
  if (cur && api::GetString(*cur, "status") == api::GetString(cond, "status")) return;
  api::SetCondition(status, std::move(cond));
}

bool HasTrackingFinalizer(const json::object& pod) {
  for (const auto& f : api::GetArray(pod, {"metadata", "finalizers"})) {
    if (f.is_string() && f.as_string() == kTrackingFinalizer) return true;
  }
  return false;
}

void ReadUncounted(JobSync& sync) {
  const auto& uncounted = api::GetObject(sync.status, "uncountedTerminatedPods");
  sync.unc_s = StringSet(uncounted, "succeeded");
  sync.unc_f = StringSet(uncounted, "failed");
  if (sync.indexed && sync.completions) {
    sync.done_indexes = ParseIndexes(api::GetString(sync.status, "completedIndexes"), *sync.completions);
  }
}

void WriteUncounted(const JobSync& sync, json::object& status) {
  json::object uncounted;
  if (!sync.unc_s.empty()) uncounted["succeeded"] = ToArray(sync.unc_s);
  if (!sync.unc_f.empty()) uncounted["failed"] = ToArray(sync.unc_f);
  status["uncountedTerminatedPods"] = std::move(uncounted);
  if (sync.indexed) {
    if (sync.done_indexes.empty()) status.erase("completedIndexes");
    else status["completedIndexes"] = FormatIndexes(sync.done_indexes);
  }
}

void CountRunningPods(JobSync& sync) {
  for (const auto& p : sync.pods) {
    if (api::IsPodActive(*p)) {
      sync.active.push_back(p);
      if (api::IsPodReady(*p)) ++sync.ready;
      for (const auto& cs : api::GetArray(*p, {"status", "containerStatuses"})) {
        if (cs.is_object()) sync.restarts += api::GetInt(cs.as_object(), "restartCount");
      }
    } else if (api::IsBeingDeleted(*p)) {
      const std::string phase = api::GetString(*p, {"status", "phase"});
      if (phase != "Succeeded" && phase != "Failed") ++sync.terminating;
    }
  }
  sync.pods_linger = !sync.unc_s.empty() || !sync.unc_f.empty();
  for (const auto& p : sync.pods) {
    sync.pods_linger = sync.pods_linger || (HasTrackingFinalizer(*p) && !sync.released.count(api::Uid(*p)));
  }
}

void JudgeFinished(JobSync& sync) {
  const json::object& spec = sync.spec;
  const json::object& status = sync.status;
  const int64_t backoff_limit = api::GetInt(spec, "backoffLimit", 6);
  const bool on_failure = api::GetString(spec, {"template", "spec", "restartPolicy"}) == "OnFailure";
  const int64_t failures = sync.failed + static_cast<int64_t>(sync.unc_f.size()) + (on_failure ? sync.restarts : 0);
  const json::object* target = api::FindCondition(status, "FailureTarget");
  if (target && api::GetString(*target, "status") == "True") {
    sync.fail_reason = api::GetString(*target, "reason");
    sync.fail_message = api::GetString(*target, "message");
  } else if (!sync.suspended && failures > backoff_limit) {
    sync.fail_reason = "BackoffLimitExceeded";
    sync.fail_message = "Job has reached the specified backoff limit";
  } else if (!sync.suspended && spec.contains("activeDeadlineSeconds")) {
    auto start = api::ParseTime(api::GetString(status, "startTime"));
    auto deadline = start ? *start + std::chrono::seconds(api::GetInt(spec, "activeDeadlineSeconds")) : sync.now;
    if (deadline <= sync.now) {
      sync.fail_reason = "DeadlineExceeded";
      sync.fail_message = "Job was active longer than specified deadline";
    } else {
      sync.requeue = std::chrono::duration_cast<std::chrono::seconds>(deadline - sync.now) + std::chrono::seconds(1);
    }
  }
  const bool failing = !sync.fail_reason.empty();
  if (!failing) {
    const int64_t succeeded = sync.succeeded + static_cast<int64_t>(sync.unc_s.size());
    if (sync.indexed && sync.completions) sync.success = sync.succeeded >= *sync.completions;
    else if (sync.completions) sync.success = succeeded >= *sync.completions;
    else sync.success = succeeded > 0 && sync.active.empty();
    sync.success = sync.success || api::IsConditionTrue(status, "SuccessCriteriaMet");
  }
}

void WriteActiveCounts(JobSync& sync) {
  json::object& status = sync.status;
  status["active"] = static_cast<int64_t>(sync.active.size()) + sync.created - sync.deleted;
  status["ready"] = sync.ready;
  status["terminating"] = sync.terminating;
  for (const char* f : {"active", "succeeded", "failed"}) {
    if (api::GetInt(status, f) == 0) status.erase(f);  // omitempty upstream
  }
}

}  // namespace kite::controllers::job
