#include "server/controllers/job/job_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "server/controllers/common/controller_utils.h"
#include "server/controllers/job/job_math.h"

namespace kite::controllers {
namespace {

constexpr const char* kTrackingFinalizer = "batch.kubernetes.io/job-tracking";
constexpr const char* kIndexKey = "batch.kubernetes.io/job-completion-index";
constexpr int kBurstPods = 500;

json::object Condition(const std::string& type, const std::string& status, const std::string& reason,
                       const std::string& message) {
  const std::string now = api::NowTime();
  return json::object{{"type", type},     {"status", status},   {"lastProbeTime", now},
                      {"lastTransitionTime", now}, {"reason", reason}, {"message", message}};
}

const json::object* FindCondition(const json::object& status, const std::string& type) {
  for (const auto& c : Arr(status, "conditions")) {
    if (c.is_object() && Str(c.as_object(), "type") == type) return &c.as_object();
  }
  return nullptr;
}

bool ConditionTrue(const json::object& status, const std::string& type) {
  const json::object* c = FindCondition(status, type);
  return c && Str(*c, "status") == "True";
}

// Replaces the condition of that type unless it already has this status (then it is kept,
// with its times), as upstream's Job condition updates do.
void SetCondition(json::object& status, json::object cond) {
  json::array out;
  for (const auto& c : Arr(status, "conditions")) {
    if (c.is_object() && Str(c.as_object(), "type") == Str(cond, "type")) {
      if (Str(c.as_object(), "status") == Str(cond, "status")) return;
      continue;
    }
    out.push_back(c);
  }
  out.push_back(std::move(cond));
  status["conditions"] = std::move(out);
}

bool HasFinalizer(const json::object& pod) {
  for (const auto& f : Arr(Obj(pod, "metadata"), "finalizers")) {
    if (f.is_string() && f.as_string() == kTrackingFinalizer) return true;
  }
  return false;
}

std::set<std::string> StringSet(const json::object& o, const char* key) {
  std::set<std::string> out;
  for (const auto& v : Arr(o, key)) {
    if (v.is_string()) out.insert(std::string(v.as_string()));
  }
  return out;
}

json::array ToArray(const std::set<std::string>& s) {
  json::array a;
  for (const auto& x : s) a.push_back(json::string(x));
  return a;
}

class JobController final : public client::Controller {
 public:
  explicit JobController(const client::Client* c)
      : Controller("job", 5),
        client_(c),
        job_r_(api::FindResource("batch", "v1", "jobs")),
        pods_r_(api::FindResource("", "v1", "pods")),
        recorder_(c, "job-controller") {}

  void Init(client::InformerFactory& f) override {
    jobs_ = f.For(*job_r_);
    pods_ = f.For(*pods_r_);
    jobs_->AddHandler(client::EventHandler{
        [this](const ObjectPtr& o) { queue_.Add(KeyOf(*o)); },
        [this](const ObjectPtr&, const ObjectPtr& o) { queue_.Add(KeyOf(*o)); },
        [this](const ObjectPtr& o) {
          expectations_.Delete(KeyOf(*o));
          queue_.Add(KeyOf(*o));
        }});
    pods_->AddHandler(client::EventHandler{
        [this](const ObjectPtr& p) {
          if (auto k = OwnerKey(*p)) {
            expectations_.CreationObserved(*k);
            queue_.Add(*k);
          }
        },
        [this](const ObjectPtr& old_pod, const ObjectPtr& p) {
          if (!HasFinalizer(*p)) RemovalObserved(Str(Obj(*p, "metadata"), "uid"));
          auto k = OwnerKey(*p);
          if (!k) return;
          if (Obj(*p, "metadata").contains("deletionTimestamp") && !Obj(*old_pod, "metadata").contains("deletionTimestamp")) {
            expectations_.DeletionObserved(*k);
          }
          queue_.Add(*k);
        },
        [this](const ObjectPtr& p) {
          RemovalObserved(Str(Obj(*p, "metadata"), "uid"));
          auto k = OwnerKey(*p);
          if (!k) return;
          if (!Obj(*p, "metadata").contains("deletionTimestamp")) expectations_.DeletionObserved(*k);
          queue_.Add(*k);
        }});
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = SplitKey(key);
    ObjectPtr jobp = jobs_->Get(ns, name);
    if (!jobp) {
      expectations_.Delete(key);
      ForgetFailures(key);
      return ReleasePods(ns, name);
    }
    json::object job = *jobp;  // updated by each status write, so the next one is not a conflict
    const auto& meta = Obj(*jobp, "metadata");
    // Counting from a status older than our own last write would count pods twice (or start
    // pods already accounted for): wait for the watch to bring the write back.
    if (StaleStatus(key, Str(meta, "resourceVersion"))) return Status::Ok();
    const std::string uid = Str(meta, "uid");
    if (meta.contains("deletionTimestamp")) return ReleasePods(ns, name);
    const json::object old_status = Obj(job, "status");
    if (ConditionTrue(old_status, "Complete") || ConditionTrue(old_status, "Failed")) {
      return ReleasePods(ns, name);  // nothing left to count: let go of stragglers
    }

    std::vector<ObjectPtr> pods;
    for (const auto& p : pods_->List(ns)) {
      if (IsControlledBy(*p, uid)) pods.push_back(p);
    }
    const auto& spec = Obj(*jobp, "spec");
    const bool indexed = Str(spec, "completionMode") == "Indexed";
    std::optional<int64_t> completions;
    if (auto* c = spec.if_contains("completions"); c && (c->is_int64() || c->is_uint64())) completions = Int(spec, "completions");
    const int64_t parallelism = Int(spec, "parallelism", 1);
    const auto now = std::chrono::system_clock::now();
    json::object status = old_status;

    // 1. Track finished pods: uncounted first, then finalizer removed, then counted.
    const auto& uncounted = Obj(old_status, "uncountedTerminatedPods");
    std::set<std::string> unc_s = StringSet(uncounted, "succeeded"), unc_f = StringSet(uncounted, "failed");
    std::set<int64_t> done_indexes;
    if (indexed && completions) done_indexes = ParseIndexes(Str(old_status, "completedIndexes"), *completions);
    bool new_failure = false;
    for (const auto& p : pods) {
      if (!HasFinalizer(*p)) continue;
      const std::string pod_uid = Str(Obj(*p, "metadata"), "uid");
      if (unc_s.count(pod_uid) || unc_f.count(pod_uid) || RemovalPending(pod_uid)) continue;
      const std::string outcome = TerminalOutcome(*p);
      if (outcome == "Succeeded") {
        unc_s.insert(pod_uid);
        if (auto idx = CompletionIndex(*p); indexed && idx && completions && *idx < *completions) done_indexes.insert(*idx);
      } else if (outcome == "Failed") {
        unc_f.insert(pod_uid);
        new_failure = true;
      }
    }
    if (new_failure) NoteFailure(key, now);
    auto write_uncounted = [&](json::object& st) {
      st["uncountedTerminatedPods"] = json::object();
      if (!unc_s.empty()) st["uncountedTerminatedPods"].as_object()["succeeded"] = ToArray(unc_s);
      if (!unc_f.empty()) st["uncountedTerminatedPods"].as_object()["failed"] = ToArray(unc_f);
      if (indexed) {
        if (done_indexes.empty()) st.erase("completedIndexes");
        else st["completedIndexes"] = FormatIndexes(done_indexes);
      }
    };
    write_uncounted(status);
    if (status != old_status) {
      // Persist "will be counted" before any finalizer goes, so no pod is lost or counted twice.
      auto s = WriteStatus(job, status);
      if (!s.ok()) return s;
    }
    std::map<std::string, ObjectPtr> by_uid;
    for (const auto& p : pods) by_uid[Str(Obj(*p, "metadata"), "uid")] = p;
    int64_t succeeded = Int(status, "succeeded"), failed = Int(status, "failed");
    Status release;
    std::set<std::string> released;  // finalizers removed in this pass (the cache still shows them)
    for (auto* set : {&unc_s, &unc_f}) {
      for (auto it = set->begin(); it != set->end();) {
        auto found = by_uid.find(*it);
        bool gone = found == by_uid.end() || !HasFinalizer(*found->second) || RemovalPending(*it);
        if (!gone) {
          auto s = RemoveFinalizer(*found->second);
          gone = s.ok();
          if (s.ok()) released.insert(*it);
          else release = s;
        }
        if (!gone) {
          ++it;
          continue;
        }
        (set == &unc_s ? succeeded : failed) += 1;
        it = set->erase(it);
      }
    }
    if (indexed) succeeded = static_cast<int64_t>(done_indexes.size());
    status["succeeded"] = succeeded;
    status["failed"] = failed;
    write_uncounted(status);

    // 2. What is running.
    std::vector<ObjectPtr> active;
    int64_t ready = 0, terminating = 0, restarts = 0;
    for (const auto& p : pods) {
      if (IsPodActive(*p)) {
        active.push_back(p);
        if (IsPodReady(*p)) ++ready;
        for (const auto& cs : Arr(Obj(*p, "status"), "containerStatuses")) {
          if (cs.is_object()) restarts += Int(cs.as_object(), "restartCount");
        }
      } else if (Obj(*p, "metadata").contains("deletionTimestamp")) {
        const std::string phase = Str(Obj(*p, "status"), "phase");
        if (phase != "Succeeded" && phase != "Failed") ++terminating;
      }
    }
    bool pods_linger = !unc_s.empty() || !unc_f.empty();
    for (const auto& p : pods) {
      pods_linger = pods_linger || (HasFinalizer(*p) && !released.count(Str(Obj(*p, "metadata"), "uid")));
    }

    // 3. Suspension and start time.
    const bool suspended = Bool(spec, "suspend");
    std::vector<ObjectPtr> to_delete;
    if (suspended) {
      if (!ConditionTrue(status, "Suspended")) {
        SetCondition(status, Condition("Suspended", "True", "JobSuspended", "Job suspended"));
        recorder_.Normal(job, "Suspended", "Job suspended");
      }
      to_delete = active;
    } else {
      if (ConditionTrue(status, "Suspended")) {
        SetCondition(status, Condition("Suspended", "False", "JobResumed", "Job resumed"));
        recorder_.Normal(job, "Resumed", "Job resumed");
        status["startTime"] = api::FormatTime(now);
      }
      if (!status.contains("startTime")) status["startTime"] = api::FormatTime(now);
    }

    // 4. Finished? Failure first, as upstream.
    const int64_t backoff_limit = Int(spec, "backoffLimit", 6);
    const bool on_failure = Str(Obj(Obj(spec, "template"), "spec"), "restartPolicy") == "OnFailure";
    const int64_t failures = failed + static_cast<int64_t>(unc_f.size()) + (on_failure ? restarts : 0);
    std::optional<std::chrono::seconds> requeue;
    const json::object* target = FindCondition(status, "FailureTarget");
    std::string fail_reason, fail_message;
    if (target && Str(*target, "status") == "True") {
      fail_reason = Str(*target, "reason");
      fail_message = Str(*target, "message");
    } else if (!suspended && failures > backoff_limit) {
      fail_reason = "BackoffLimitExceeded";
      fail_message = "Job has reached the specified backoff limit";
    } else if (!suspended && spec.contains("activeDeadlineSeconds")) {
      auto start = api::ParseTime(Str(status, "startTime"));
      auto deadline = start ? *start + std::chrono::seconds(Int(spec, "activeDeadlineSeconds")) : now;
      if (deadline <= now) {
        fail_reason = "DeadlineExceeded";
        fail_message = "Job was active longer than specified deadline";
      } else {
        requeue = std::chrono::duration_cast<std::chrono::seconds>(deadline - now) + std::chrono::seconds(1);
      }
    }
    bool success = false;
    if (fail_reason.empty()) {
      if (indexed && completions) {
        success = succeeded >= *completions;
      } else if (completions) {
        success = succeeded + static_cast<int64_t>(unc_s.size()) >= *completions;
      } else {
        success = succeeded + static_cast<int64_t>(unc_s.size()) > 0 && active.empty();
      }
      success = success || ConditionTrue(status, "SuccessCriteriaMet");
    }

    if (!fail_reason.empty() || success) {
      to_delete = active;
      if (!fail_reason.empty()) {
        SetCondition(status, Condition("FailureTarget", "True", fail_reason, fail_message));
      } else {
        SetCondition(status, Condition("SuccessCriteriaMet", "True", "CompletionsReached",
                                       "Reached expected number of succeeded pods"));
      }
      if (active.empty() && !pods_linger) {
        if (!fail_reason.empty()) {
          SetCondition(status, Condition("Failed", "True", fail_reason, fail_message));
          recorder_.Warning(job, fail_reason, fail_message);
        } else {
          SetCondition(status, Condition("Complete", "True", "CompletionsReached",
                                         "Reached expected number of succeeded pods"));
          status["completionTime"] = api::FormatTime(now);
          recorder_.Normal(job, "Completed", "Job completed");
        }
      } else if (active.empty()) {
        queue_.AddAfter(key, std::chrono::seconds(1));  // finalizers still to go
      }
    }

    // 5. Pods to start or stop.
    Status manage;
    int64_t created = 0, deleted = 0;
    if (expectations_.Satisfied(key)) {
      std::vector<json::object> to_create;
      if (fail_reason.empty() && !success && !suspended) {
        Plan(job, active, done_indexes, succeeded + static_cast<int64_t>(unc_s.size()), completions, parallelism, indexed,
             &to_create, &to_delete);
      }
      auto delay = BackoffRemaining(key, failed + static_cast<int64_t>(unc_f.size()), now);
      if (!to_create.empty() && delay.count() > 0) {
        to_create.clear();
        requeue = requeue ? std::min(*requeue, delay) : delay;
      }
      manage = Sync(key, job, to_create, to_delete, &created, &deleted);
    }
    if (requeue) queue_.AddAfter(key, *requeue);

    status["active"] = static_cast<int64_t>(active.size()) + created - deleted;
    status["ready"] = ready;
    status["terminating"] = terminating;
    for (const char* f : {"active", "succeeded", "failed"}) {
      if (Int(status, f) == 0) status.erase(f);  // omitempty upstream
    }
    if (status != Obj(job, "status")) {
      auto s = WriteStatus(job, status);
      if (!s.ok()) return s;
    }
    if (!release.ok()) return release;
    return manage;
  }

 private:
  std::optional<std::string> OwnerKey(const json::object& pod) const {
    const json::object* ref = ControllerOf(pod);
    if (!ref || Str(*ref, "kind") != "Job") return std::nullopt;
    return Str(Obj(pod, "metadata"), "namespace") + "/" + Str(*ref, "name");
  }

  // Writes `status`; `job` becomes what the server returned.
  Status WriteStatus(json::object& job, const json::object& status) {
    json::object next = job;
    next["status"] = status;
    const std::string before = Str(Obj(job, "metadata"), "resourceVersion");
    auto r = client_->UpdateStatus(*job_r_, Str(Obj(job, "metadata"), "namespace"), next);
    if (r.ok()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        stale_versions_[KeyOf(job)].insert(before);
      }
      job = std::move(r.value());
      return Status::Ok();
    }
    if (r.NotFound()) return Status::Ok();
    return Status(Code::kAborted, "updating job status: " + r.error().message());
  }

  // Removes the tracking finalizer (test-and-remove, so a concurrent change retries; the
  // whole list goes when it was the only one, as upstream's empty list is never stored).
  Status RemoveFinalizer(const json::object& pod) {
    const auto& pm = Obj(pod, "metadata");
    const std::string pod_uid = Str(pm, "uid");
    const auto& fins = Arr(pm, "finalizers");
    for (size_t i = 0; i < fins.size(); ++i) {
      if (!fins[i].is_string() || fins[i].as_string() != kTrackingFinalizer) continue;
      json::array patch;
      if (fins.size() == 1) {
        patch = json::array{json::object{{"op", "test"}, {"path", "/metadata/finalizers"}, {"value", fins}},
                            json::object{{"op", "remove"}, {"path", "/metadata/finalizers"}}};
      } else {
        const std::string path = "/metadata/finalizers/" + std::to_string(i);
        patch = json::array{json::object{{"op", "test"}, {"path", path}, {"value", kTrackingFinalizer}},
                            json::object{{"op", "remove"}, {"path", path}}};
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        removing_.insert(pod_uid);
      }
      auto r = client_->Patch(*pods_r_, Str(pm, "namespace"), Str(pm, "name"), client::PatchType::kJson,
                              json::serialize(patch));
      if (r.ok() || r.NotFound()) return Status::Ok();
      RemovalObserved(pod_uid);
      return Status(Code::kUnavailable, "removing finalizer of " + Str(pm, "name") + ": " + r.error().message());
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
      const json::object* ref = ControllerOf(*p);
      if (!ref || Str(*ref, "kind") != "Job" || Str(*ref, "name") != name || !HasFinalizer(*p)) continue;
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
          if (IsPodReady(*a) != IsPodReady(*b)) return !IsPodReady(*a);
          return Str(Obj(*a, "metadata"), "creationTimestamp") > Str(Obj(*b, "metadata"), "creationTimestamp");
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
    const auto& jm = Obj(job, "metadata");
    const std::string name = Str(jm, "name");
    json::object pod = PodFromTemplate(Obj(Obj(job, "spec"), "template"), job,
                                       index ? name + "-" + std::to_string(*index) + "-" : name + "-");
    auto& meta = pod["metadata"].as_object();
    json::object labels = Obj(meta, "labels");
    labels["batch.kubernetes.io/controller-uid"] = Str(jm, "uid");
    labels["batch.kubernetes.io/job-name"] = name;
    labels["controller-uid"] = Str(jm, "uid");
    labels["job-name"] = name;
    json::array finalizers = Arr(meta, "finalizers");
    finalizers.push_back(kTrackingFinalizer);
    meta["finalizers"] = std::move(finalizers);
    if (index) {
      labels[kIndexKey] = std::to_string(*index);
      json::object ann = Obj(meta, "annotations");
      ann[kIndexKey] = std::to_string(*index);
      meta["annotations"] = std::move(ann);
      auto& spec = pod["spec"].as_object();
      if (Str(spec, "hostname").empty()) spec["hostname"] = name + "-" + std::to_string(*index);
    }
    meta["labels"] = std::move(labels);
    return pod;
  }

  Status Sync(const std::string& key, const json::object& job, std::vector<json::object> to_create,
              const std::vector<ObjectPtr>& to_delete, int64_t* created, int64_t* deleted) {
    if (to_create.size() > kBurstPods) to_create.resize(kBurstPods);
    if (to_create.empty() && to_delete.empty()) return Status::Ok();
    const std::string ns = Str(Obj(job, "metadata"), "namespace");
    expectations_.Expect(key, static_cast<int>(to_create.size()), static_cast<int>(to_delete.size()));
    Status result;
    size_t next = 0;
    // Slow start: batches of 1, 2, 4, …; the first failing batch stops the rest.
    for (size_t batch = 1; next < to_create.size(); batch *= 2) {
      size_t end = std::min(to_create.size(), next + batch);
      bool failed = false;
      for (; next < end; ++next) {
        auto r = client_->Create(*pods_r_, ns, to_create[next]);
        if (r.ok()) {
          ++*created;
          recorder_.Normal(job, "SuccessfulCreate", "Created pod: " + Str(Obj(*r, "metadata"), "name"));
          continue;
        }
        failed = true;
        expectations_.CreationObserved(key);
        recorder_.Warning(job, "FailedCreate", "Error creating: " + r.error().message());
        result = Status(Code::kUnavailable, "creating pod: " + r.error().message());
      }
      if (failed) {
        for (; next < to_create.size(); ++next) expectations_.CreationObserved(key);
      }
    }
    for (const auto& p : to_delete) {
      const std::string pod_name = Str(Obj(*p, "metadata"), "name");
      auto r = client_->Delete(*pods_r_, ns, pod_name);
      if (r.ok()) {
        ++*deleted;
        recorder_.Normal(job, "SuccessfulDelete", "Deleted pod: " + pod_name);
      } else {
        expectations_.DeletionObserved(key);
        if (!r.NotFound()) result = Status(Code::kUnavailable, "deleting pod: " + r.error().message());
      }
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
  Expectations expectations_;
  EventRecorder recorder_;
  std::mutex mu_;  // guards the three below (workers reconcile different Jobs at once)
  std::map<std::string, std::chrono::system_clock::time_point> last_failure_;
  std::map<std::string, std::set<std::string>> stale_versions_;  // Job key → resourceVersions we wrote over
  std::set<std::string> removing_;                               // pod uids
};

}  // namespace

std::unique_ptr<client::Controller> NewJobController(const client::Client* client) {
  return std::make_unique<JobController>(client);
}

}  // namespace kite::controllers
