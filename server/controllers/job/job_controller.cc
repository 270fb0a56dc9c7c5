#include "server/controllers/job/job_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "api/conditions.h"
#include "api/object.h"
#include "api/owner_references.h"
#include "api/pod.h"
#include "api/selectors.h"
#include "api/time.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/controller_ref_manager.h"
#include "client/event_recorder.h"
#include "client/expectations.h"
#include "client/informer.h"
#include "client/pod_control.h"
#include "client/slow_start.h"
#include "client/status_update.h"
#include "server/controllers/job/job_math.h"
#include "server/controllers/job/job_status.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace {

constexpr const char* kIndexKey = "batch.kubernetes.io/job-completion-index";
constexpr int kBurstPods = 500;

class JobController final : public client::Controller {
 public:
  explicit JobController(const client::Client* c, const kite::Clock* clock)
      : Controller("job", 5, clock),
        client_(c),
        job_r_(api::FindResource("batch", "v1", "jobs")),
        pods_r_(api::FindResource("", "v1", "pods")),
        expectations_(clock),
        recorder_(c, "job-controller", "", clock),
        pod_control_(c, &recorder_) {}

  void Init(client::InformerFactory& f) override {
    jobs_ = f.For(*job_r_);
    pods_ = f.For(*pods_r_);
    jobs_->AddHandler(client::EnqueueSelf(&queue_, &expectations_));
    client::EventHandler pods = client::DependentHandler({
        .queue = &queue_,
        .expectations = &expectations_,
        // By kind and name only: the pods of a Job that is gone still wake its key, whose
        // Reconcile then lets go of their finalizers.
        .owner_key = [](const json::object& pod) { return api::ControllerKeyOf(pod, "Job"); },
        .enqueue_adopters = [this](const json::object& pod) { EnqueueMatching(pod); },
    });
    // A pod whose finalizer is seen gone no longer waits for this controller's removal.
    pods.on_update = [this, next = std::move(pods.on_update)](const ObjectPtr& old_pod, const ObjectPtr& p) {
      if (!job::HasTrackingFinalizer(*p)) RemovalObserved(api::Uid(*p));
      next(old_pod, p);
    };
    pods.on_delete = [this, next = std::move(pods.on_delete)](const ObjectPtr& p) {
      RemovalObserved(api::Uid(*p));
      next(p);
    };
    pods_->AddHandler(std::move(pods));
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    ObjectPtr cached = jobs_->Get(ns, name);
    if (!cached) {
      expectations_.Delete(key);
      ForgetFailures(key);
      return ReleasePods(ns, name);
    }
    // Counting from a status older than our own last write would count pods twice (or start
    // pods already accounted for): wait for the watch to bring the write back.
    if (StaleStatus(key, api::ResourceVersion(*cached))) return Status::Ok();
    if (api::IsBeingDeleted(*cached)) return ReleasePods(ns, name);
    const json::object& old_status = api::GetObject(*cached, "status");
    if (api::IsConditionTrue(old_status, "Complete") || api::IsConditionTrue(old_status, "Failed")) {
      return ReleasePods(ns, name);  // nothing left to count: let go of stragglers
    }

    job::JobSync sync(key, cached, clock()->Now());
    Status claim;
    sync.pods = ClaimPods(*cached, &claim);
    if (auto s = TrackFinishedPods(sync); !s.ok()) return s;
    job::CountRunningPods(sync);
    ApplySuspension(sync);
    CheckFinished(sync);
    Status manage = ManagePods(sync);
    if (sync.requeue) queue_.AddAfter(key, *sync.requeue);
    if (auto s = UpdateFinalStatus(sync); !s.ok()) return s;
    if (!sync.release.ok()) return sync.release;
    if (!manage.ok()) return manage;
    return claim;
  }

 private:
  // The Job's pods: its own that match its selector, and orphans that match (adopted), as
  // upstream's Job controller claims them; a released pod also loses the tracking finalizer.
  std::vector<ObjectPtr> ClaimPods(const json::object& job, Status* error) {
    api::LabelSelector selector = api::SelectorOf(job);
    std::vector<ObjectPtr> pods = pods_->List(api::Namespace(job));
    if (selector.IsNothing()) {
      // No usable selector (the API server generates one, so only a hand-made Job lacks it):
      // count what the Job controls, release and adopt nothing.
      std::erase_if(pods, [&](const ObjectPtr& p) { return !api::IsControlledBy(*p, api::Uid(job)); });
      return pods;
    }
    client::ControllerRefManager refs(client_, *pods_r_, job, std::move(selector), {job::kTrackingFinalizer});
    return refs.Claim(pods, error);
  }

  // An orphan pod wakes the Jobs that would adopt it.
  void EnqueueMatching(const json::object& pod) {
    for (const auto& job : jobs_->List(api::Namespace(pod))) {
      if (api::LabelsMatch(api::SelectorOf(*job), pod)) queue_.Add(client::Key(*job));
    }
  }

  // Step 1: finished pods are recorded as uncounted first (persisted), then their finalizer
  // is removed, then they are counted, so no pod is lost or counted twice.
  Status TrackFinishedPods(job::JobSync& sync) {
    const json::object old_status = sync.status;
    job::ReadUncounted(sync);
    bool new_failure = false;
    for (const auto& p : sync.pods) {
      if (!job::HasTrackingFinalizer(*p)) continue;
      const std::string pod_uid = api::Uid(*p);
      if (sync.unc_s.count(pod_uid) || sync.unc_f.count(pod_uid) || RemovalPending(pod_uid)) continue;
      const std::string outcome = TerminalOutcome(*p);
      if (outcome == "Succeeded") {
        sync.unc_s.insert(pod_uid);
        auto idx = CompletionIndex(*p);
        if (sync.indexed && idx && sync.completions && *idx < *sync.completions) sync.done_indexes.insert(*idx);
      } else if (outcome == "Failed") {
        sync.unc_f.insert(pod_uid);
        new_failure = true;
      }
    }
    if (new_failure) NoteFailure(sync.key, sync.now);
    job::WriteUncounted(sync, sync.status);
    if (sync.status != old_status) {
      // Persist "will be counted" before any finalizer goes.
      if (auto s = UpdateStatus(sync.job, sync.status); !s.ok()) return s;
    }
    std::map<std::string, ObjectPtr> by_uid;
    for (const auto& p : sync.pods) by_uid[api::Uid(*p)] = p;
    sync.succeeded = api::GetInt(sync.status, "succeeded");
    sync.failed = api::GetInt(sync.status, "failed");
    for (auto* set : {&sync.unc_s, &sync.unc_f}) {
      for (auto it = set->begin(); it != set->end();) {
        auto found = by_uid.find(*it);
        bool gone = found == by_uid.end() || !job::HasTrackingFinalizer(*found->second) || RemovalPending(*it);
        if (!gone) {
          auto s = RemoveFinalizer(*found->second);
          gone = s.ok();
          if (s.ok()) sync.released.insert(*it);
          else sync.release = s;
        }
        if (!gone) {
          ++it;
          continue;
        }
        (set == &sync.unc_s ? sync.succeeded : sync.failed) += 1;
        it = set->erase(it);
      }
    }
    if (sync.indexed) sync.succeeded = static_cast<int64_t>(sync.done_indexes.size());
    sync.status["succeeded"] = sync.succeeded;
    sync.status["failed"] = sync.failed;
    job::WriteUncounted(sync, sync.status);
    return Status::Ok();
  }

  // Step 3: suspension (its condition and events) and the start time.
  void ApplySuspension(job::JobSync& sync) {
    sync.suspended = api::GetBool(sync.spec, "suspend");
    json::object& status = sync.status;
    if (sync.suspended) {
      if (!api::IsConditionTrue(status, "Suspended")) {
        job::SetJobCondition(status, job::JobCondition(clock()->Now(), "Suspended", "True", "JobSuspended", "Job suspended"));
        recorder_.Normal(sync.job, "Suspended", "Job suspended");
      }
      sync.to_delete = sync.active;
      return;
    }
    if (api::IsConditionTrue(status, "Suspended")) {
      job::SetJobCondition(status, job::JobCondition(clock()->Now(), "Suspended", "False", "JobResumed", "Job resumed"));
      recorder_.Normal(sync.job, "Resumed", "Job resumed");
      status["startTime"] = api::FormatTime(sync.now);
    }
    if (!status.contains("startTime")) status["startTime"] = api::FormatTime(sync.now);
  }

  // Step 4: finished? Failure first (a FailureTarget, the backoff limit, the deadline), as
  // upstream; then success. A finished Job stops its pods and gets its final condition once
  // no pod is left to count.
  void CheckFinished(job::JobSync& sync) {
    job::JudgeFinished(sync);
    json::object& status = sync.status;
    const bool failing = !sync.fail_reason.empty();
    if (!failing && !sync.success) return;

    sync.to_delete = sync.active;
    if (failing) {
      job::SetJobCondition(status, job::JobCondition(clock()->Now(), "FailureTarget", "True", sync.fail_reason, sync.fail_message));
    } else {
      job::SetJobCondition(status, job::JobCondition(clock()->Now(), "SuccessCriteriaMet", "True", "CompletionsReached",
                                                     "Reached expected number of succeeded pods"));
    }
    if (!sync.active.empty()) return;
    if (sync.pods_linger) {
      queue_.AddAfter(sync.key, std::chrono::seconds(1));  // finalizers still to go
      return;
    }
    if (failing) {
      job::SetJobCondition(status, job::JobCondition(clock()->Now(), "Failed", "True", sync.fail_reason, sync.fail_message));
      recorder_.Warning(sync.job, sync.fail_reason, sync.fail_message);
    } else {
      job::SetJobCondition(status, job::JobCondition(clock()->Now(), "Complete", "True", "CompletionsReached",
                                                     "Reached expected number of succeeded pods"));
      status["completionTime"] = api::FormatTime(sync.now);
      recorder_.Normal(sync.job, "Completed", "Job completed");
    }
  }

  // Step 5: pods to start (within parallelism and the failure back-off) or stop, once the
  // previous pass's creations and deletions were observed.
  Status ManagePods(job::JobSync& sync) {
    if (!expectations_.Satisfied(sync.key)) return Status::Ok();
    std::vector<json::object> to_create;
    if (sync.fail_reason.empty() && !sync.success && !sync.suspended) {
      Plan(sync.job, sync.active, sync.done_indexes, sync.succeeded + static_cast<int64_t>(sync.unc_s.size()),
           sync.completions, sync.parallelism, sync.indexed, &to_create, &sync.to_delete);
    }
    auto delay = BackoffRemaining(sync.key, sync.failed + static_cast<int64_t>(sync.unc_f.size()), sync.now);
    if (!to_create.empty() && delay.count() > 0) {
      to_create.clear();
      sync.requeue = sync.requeue ? std::min(*sync.requeue, delay) : delay;
    }
    return CreateAndDeletePods(sync.key, sync.job, to_create, sync.to_delete, &sync.created, &sync.deleted);
  }

  // The counts of running pods, then the status write when anything changed.
  Status UpdateFinalStatus(job::JobSync& sync) {
    job::WriteActiveCounts(sync);
    if (sync.status == api::GetObject(sync.job, "status")) return Status::Ok();
    return UpdateStatus(sync.job, sync.status);
  }

  // Writes `status`; `job` becomes what the server returned.
  Status UpdateStatus(json::object& job, const json::object& status) {
    std::optional<json::object> written;
    if (auto s = client::UpdateStatusIfChanged(*client_, *job_r_, job, status, &written); !s.ok()) return s;
    if (!written) return Status::Ok();  // unchanged, or the job is gone
    {
      std::lock_guard<std::mutex> lock(mu_);
      stale_versions_[client::Key(job)].insert(api::ResourceVersion(job));
    }
    job = std::move(*written);
    return Status::Ok();
  }

  // Removes the tracking finalizer (test-and-remove, so a concurrent change retries; the
  // whole list goes when it was the only one, as upstream's empty list is never stored).
  Status RemoveFinalizer(const json::object& pod) {
    const auto& pm = api::Metadata(pod);
    const std::string pod_uid = api::GetString(pm, "uid");
    const auto& fins = api::GetArray(pm, "finalizers");
    for (size_t i = 0; i < fins.size(); ++i) {
      if (!fins[i].is_string() || fins[i].as_string() != job::kTrackingFinalizer) continue;
      json::array patch;
      if (fins.size() == 1) {
        patch = json::array{json::object{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", fins}},
                            json::object{{"op", "remove"}, {"path", "/metadata/finalizers"}}};
      } else {
        const std::string path = "/metadata/finalizers/" + std::to_string(i);
        patch = json::array{json::object{{"op", "test"}, {"path", path}, {"value", job::kTrackingFinalizer}},
                            json::object{{"op", "remove"}, {"path", path}}};
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        removing_.insert(pod_uid);
      }
      auto r = client_->Patch(*pods_r_, api::GetString(pm, "namespace"), api::GetString(pm, "name"), client::PatchType::kJson,
                              json::serialize(patch));
      if (r.ok() || r.NotFound()) return Status::Ok();
      RemovalObserved(pod_uid);
      return r.error().Annotate("removing finalizer of " + api::GetString(pm, "name"));
    }
    return Status::Ok();
  }

  // Pods whose finalizer this controller removed but whose update the cache has not shown
  // yet: a stale copy must not be counted again.
  bool RemovalPending(const std::string& pod_uid) {
    std::lock_guard<std::mutex> lock(mu_);
    return removing_.count(pod_uid) > 0;
  }
  void RemovalObserved(const std::string& pod_uid) {
    std::lock_guard<std::mutex> lock(mu_);
    removing_.erase(pod_uid);
  }
  // Whether the cached Job is one this controller already replaced by a status write.
  bool StaleStatus(const std::string& key, const std::string& rv) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = stale_versions_.find(key);
    if (it == stale_versions_.end()) return false;
    if (it->second.count(rv)) return true;
    stale_versions_.erase(it);  // the cache caught up
    return false;
  }

  // Lets go of the pods of a Job that is gone, being deleted or finished (and of any older
  // Job of the same name): nothing will count them any more.
  Status ReleasePods(const std::string& ns, const std::string& name) {
    Status result;
    for (const auto& p : pods_->List(ns)) {
      const json::object* ref = api::ControllerOf(*p);
      if (!ref || api::GetString(*ref, "kind") != "Job" || api::GetString(*ref, "name") != name || !job::HasTrackingFinalizer(*p)) continue;
      if (auto s = RemoveFinalizer(*p); !s.ok()) result = s;
    }
    return result;
  }

  void Plan(const json::object& job, const std::vector<ObjectPtr>& active, const std::set<int64_t>& done,
            int64_t succeeded, std::optional<int64_t> completions, int64_t parallelism, bool indexed,
            std::vector<json::object>* to_create, std::vector<ObjectPtr>* to_delete) {
    if (!indexed || !completions) {
      const int64_t want = WantActive(completions, parallelism, succeeded, static_cast<int64_t>(active.size()));
      int64_t diff = static_cast<int64_t>(active.size()) - want;
      if (diff > 0) {
        std::vector<ObjectPtr> order = active;
        // Not ready before ready, newest before oldest.
        std::sort(order.begin(), order.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
          if (api::IsPodReady(*a) != api::IsPodReady(*b)) return !api::IsPodReady(*a);
          return api::GetString(*a, {"metadata", "creationTimestamp"}) > api::GetString(*b, {"metadata", "creationTimestamp"});
        });
        to_delete->insert(to_delete->end(), order.begin(), order.begin() + diff);
      }
      for (int64_t i = diff; i < 0; ++i) to_create->push_back(NewPod(job, std::nullopt));
      return;
    }
    std::set<int64_t> running;
    int64_t kept = 0;
    for (const auto& p : active) {
      auto idx = CompletionIndex(*p);
      // Out of range, duplicate or already completed indexes have no business running.
      if (!idx || *idx >= *completions || done.count(*idx) || !running.insert(*idx).second) {
        to_delete->push_back(p);
      } else {
        ++kept;
      }
    }
    for (int64_t i = 0; i < *completions && kept < parallelism; ++i) {
      if (done.count(i) || running.count(i)) continue;
      to_create->push_back(NewPod(job, i));
      ++kept;
    }
  }

  json::object NewPod(const json::object& job, std::optional<int64_t> index) {
    const auto& jm = api::Metadata(job);
    const std::string name = api::GetString(jm, "name");
    json::object pod = api::PodFromTemplate(api::GetObject(job, {"spec", "template"}), job,
                                       index ? name + "-" + std::to_string(*index) + "-" : name + "-");
    auto& meta = pod["metadata"].as_object();
    json::object labels = api::GetObject(meta, "labels");
    labels["batch.kubernetes.io/controller-uid"] = api::GetString(jm, "uid");
    labels["batch.kubernetes.io/job-name"] = name;
    labels["controller-uid"] = api::GetString(jm, "uid");
    labels["job-name"] = name;
    json::array finalizers = api::GetArray(meta, "finalizers");
    finalizers.push_back(job::kTrackingFinalizer);
    meta["finalizers"] = std::move(finalizers);
    if (index) {
      labels[kIndexKey] = std::to_string(*index);
      json::object ann = api::GetObject(meta, "annotations");
      ann[kIndexKey] = std::to_string(*index);
      meta["annotations"] = std::move(ann);
      auto& spec = pod["spec"].as_object();
      if (api::GetString(spec, "hostname").empty()) spec["hostname"] = name + "-" + std::to_string(*index);
    }
    meta["labels"] = std::move(labels);
    return pod;
  }

  // Creates to_create (at most kBurstPods, in slow-start batches) and deletes to_delete,
  // expecting to observe each; *created and *deleted count what the server accepted.
  Status CreateAndDeletePods(const std::string& key, const json::object& job, std::vector<json::object> to_create,
                             const std::vector<ObjectPtr>& to_delete, int64_t* created, int64_t* deleted) {
    if (to_create.size() > kBurstPods) to_create.resize(kBurstPods);
    if (to_create.empty() && to_delete.empty()) return Status::Ok();
    expectations_.Expect(key, static_cast<int>(to_create.size()), static_cast<int>(to_delete.size()));
    Status result;
    const int want = static_cast<int>(to_create.size());
    const int made = client::SlowStartBatch(want, 1, [&](int i) {
      auto r = pod_control_.CreatePod(job, to_create[static_cast<size_t>(i)]);
      return r.ok() ? Status::Ok() : r.error().Annotate("creating pod");
    }, &result);
    *created += made;
    // The pods not created will never be observed: stop expecting them.
    for (int i = made; i < want; ++i) expectations_.CreationObserved(key);
    for (const auto& p : to_delete) {
      auto r = pod_control_.DeletePod(job, *p);
      if (r.ok()) {
        ++*deleted;
        continue;
      }
      expectations_.DeletionObserved(key);  // a pod not deleted will never be observed going
      if (!r.NotFound()) result = r.error().Annotate("deleting pod");
    }
    return result;
  }

  // Failure times are kept in memory: after a restart a Job starts over without delay.
  void NoteFailure(const std::string& key, std::chrono::system_clock::time_point at) {
    std::lock_guard<std::mutex> lock(mu_);
    last_failure_[key] = at;
  }
  void ForgetFailures(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    last_failure_.erase(key);
    stale_versions_.erase(key);
  }
  std::chrono::seconds BackoffRemaining(const std::string& key, int64_t failures, std::chrono::system_clock::time_point now) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = last_failure_.find(key);
    if (it == last_failure_.end()) return std::chrono::seconds(0);
    auto ready_at = it->second + BackoffDelay(failures);
    if (ready_at <= now) return std::chrono::seconds(0);
    return std::chrono::duration_cast<std::chrono::seconds>(ready_at - now) + std::chrono::seconds(1);
  }

  const client::Client* client_;
  const api::ResourceInfo* job_r_;
  const api::ResourceInfo* pods_r_;
  client::Informer* jobs_ = nullptr;
  client::Informer* pods_ = nullptr;
  client::Expectations expectations_;
  client::EventRecorder recorder_;
  client::PodControl pod_control_;
  std::mutex mu_;  // guards the three below (workers reconcile different Jobs at once)
  std::map<std::string, std::chrono::system_clock::time_point> last_failure_;
  std::map<std::string, std::set<std::string>> stale_versions_;  // Job key → resourceVersions we wrote over
  std::set<std::string> removing_;                               // pod uids
};

}  // namespace

std::unique_ptr<client::Controller> NewJobController(const client::Client* client, const kite::Clock* clock) {
  return std::make_unique<JobController>(client, clock);
}

}  // namespace kite::controllers
