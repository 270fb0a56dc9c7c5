#include "server/controllers/cronjob/cronjob_controller.h"

#include <boost/json.hpp>

#include <algorithm>
#include <ctime>

#include "api/object.h"
#include "api/owner_references.h"
#include "api/time.h"
#include "client/controller.h"
#include "client/event_recorder.h"
#include "client/informer.h"
#include "client/status_update.h"
#include "server/controllers/cronjob/cron_schedule.h"
#include "server/controllers/cronjob/time_zone.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
namespace {

constexpr const char* kScheduledTimestamp = "batch.kubernetes.io/cronjob-scheduled-timestamp";
// Upstream wakes a little after the activation so the clock is surely past it.
constexpr auto kNextScheduleDelta = std::chrono::milliseconds(100);

int64_t ToUnix(api::Timestamp t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}
std::string UtcTime(int64_t t) { return api::FormatTime(api::Timestamp(std::chrono::seconds(t))); }

// RFC 3339 with the zone's offset ("2024-03-01T10:00:00+01:00"), as Go formats a local time.
std::string LocalRfc3339(int64_t t, const TimeZone& tz) {
  const int64_t off = tz.OffsetAt(t);
  const int64_t local = t + off;
  const int64_t days = local / 86400 - (local % 86400 < 0 ? 1 : 0);
  const int64_t sod = local - days * 86400;
  int64_t y;
  int m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[64];
  if (off == 0) {
    std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02lld:%02lld:%02lldZ", static_cast<long long>(y), m, d,
                  static_cast<long long>(sod / 3600), static_cast<long long>(sod % 3600 / 60),
                  static_cast<long long>(sod % 60));
  } else {
    const int64_t a = off < 0 ? -off : off;
    std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02lld:%02lld:%02lld%c%02lld:%02lld", static_cast<long long>(y), m,
                  d, static_cast<long long>(sod / 3600), static_cast<long long>(sod % 3600 / 60),
                  static_cast<long long>(sod % 60), off < 0 ? '-' : '+', static_cast<long long>(a / 3600),
                  static_cast<long long>(a % 3600 / 60));
  }
  return buf;
}

// RFC 1123 with numeric zone, in UTC ("Mon, 02 Jan 2006 15:04:05 +0000"), for MissSchedule.
std::string Rfc1123Z(int64_t t) {
  // std::chrono's calendar, not gmtime_r: 32-bit ARM's time_t ends in 2038.
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::chrono::sys_seconds secs{std::chrono::seconds(t)};
  const auto day = std::chrono::floor<std::chrono::days>(secs);
  const std::chrono::year_month_day ymd{day};
  const std::chrono::hh_mm_ss hms{secs - day};
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d +0000",
                kDays[std::chrono::weekday{day}.c_encoding()], static_cast<unsigned>(ymd.day()),
                kMonths[static_cast<unsigned>(ymd.month()) - 1], static_cast<int>(ymd.year()),
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

// "Complete" or "Failed" when the Job finished, else "".
std::string Finished(const json::object& job) {
  for (const auto& c : api::GetArray(job, {"status", "conditions"})) {
    if (!c.is_object() || api::GetString(c.as_object(), "status") != "True") continue;
    const std::string type = api::GetString(c.as_object(), "type");
    if (type == "Complete" || type == "Failed") return type;
  }
  return "";
}

class CronJobController final : public client::Controller {
 public:
  explicit CronJobController(const client::Client* c, const kite::Clock* clock)
      : Controller("cronjob", 2, clock),
        client_(c),
        cj_r_(api::FindResource("batch", "v1", "cronjobs")),
        job_r_(api::FindResource("batch", "v1", "jobs")),
        recorder_(c, "cronjob-controller", "", clock) {}

  void Init(client::InformerFactory& f) override {
    cronjobs_ = f.For(*cj_r_);
    jobs_ = f.For(*job_r_);
    cronjobs_->AddHandler(client::EnqueueSelf(&queue_));
    auto owner = [this](const ObjectPtr& j) {
      const json::object* ref = api::ControllerOf(*j);
      if (ref && api::GetString(*ref, "kind") == "CronJob") queue_.Add(api::Namespace(*j) + "/" + api::GetString(*ref, "name"));
    };
    jobs_->AddHandler(client::EventHandler{owner, [owner](const ObjectPtr&, const ObjectPtr& j) { owner(j); }, owner});
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    ObjectPtr cjp = cronjobs_->Get(ns, name);
    if (!cjp) return Status::Ok();
    json::object cj = *cjp;
    const std::string uid = api::Uid(cj);
    std::vector<ObjectPtr> jobs;
    for (const auto& j : jobs_->List(ns)) {
      if (api::IsControlledBy(*j, uid)) jobs.push_back(j);
    }
    json::object status = api::GetObject(cj, "status");
    std::optional<std::chrono::milliseconds> requeue;
    Status result = Sync(cj, jobs, status, &requeue);
    if (auto s = client::UpdateStatusIfChanged(*client_, *cj_r_, cj, std::move(status)); !s.ok()) return s;
    CleanupFinished(cj, jobs);
    if (requeue) queue_.AddAfter(key, *requeue);
    return result;
  }

 private:
  Status Sync(const json::object& cj, const std::vector<ObjectPtr>& jobs, json::object& status,
              std::optional<std::chrono::milliseconds>* requeue) {
    const auto& meta = api::Metadata(cj);
    const std::string ns = api::GetString(meta, "namespace");
    json::array active = api::GetArray(status, "active");
    auto in_active = [&](const std::string& job_uid) {
      return std::any_of(active.begin(), active.end(),
                         [&](const json::value& r) { return r.is_object() && api::GetString(r.as_object(), "uid") == job_uid; });
    };
    auto drop_active = [&](const std::string& job_uid) {
      active.erase(std::remove_if(active.begin(), active.end(),
                                  [&](const json::value& r) { return r.is_object() && api::GetString(r.as_object(), "uid") == job_uid; }),
                   active.end());
    };
    std::set<std::string> children;
    for (const auto& j : jobs) {
      const auto& jm = api::Metadata(*j);
      const std::string job_uid = api::GetString(jm, "uid"), job_name = api::GetString(jm, "name");
      children.insert(job_uid);
      const std::string finished = Finished(*j);
      if (!in_active(job_uid) && finished.empty()) {
        // Our own status write may not be in the cache yet: ask the server before crying wolf.
        // If it cannot answer, the job is reported as unexpected (an event only) and the next
        // sync, which reads the cache again, adopts nothing it should not.
        auto fresh = client_->Get(*cj_r_, ns, api::GetString(meta, "name"));
        bool listed = false;
        if (fresh.ok()) {
          for (const auto& r : api::GetArray(*fresh, {"status", "active"})) {
            if (r.is_object() && api::GetString(r.as_object(), "uid") == job_uid) listed = true;
          }
        }
        if (listed) {
          active.push_back(JobRef(*j));
        } else {
          recorder_.Warning(cj, "UnexpectedJob", "Saw a job that the controller did not create or forgot: " + job_name);
        }
      } else if (!finished.empty()) {
        if (in_active(job_uid)) {
          drop_active(job_uid);
          recorder_.Normal(cj, "SawCompletedJob", "Saw completed job: " + job_name + ", condition: " + finished);
        }
        if (finished == "Complete") {
          const std::string done = api::GetString(*j, {"status", "completionTime"});
          if (!done.empty() && done > api::GetString(status, "lastSuccessfulTime")) status["lastSuccessfulTime"] = done;
        }
      }
    }
    // References to Jobs that are gone.
    for (const auto& r : json::array(active)) {
      if (!r.is_object() || children.count(api::GetString(r.as_object(), "uid"))) continue;
      // Only NotFound drops the reference; after any other error it stays for the next sync.
      auto got = client_->Get(*job_r_, ns, api::GetString(r.as_object(), "name"));
      if (got.NotFound()) {
        recorder_.Normal(cj, "MissingJob", "Active job went missing: " + api::GetString(r.as_object(), "name"));
        drop_active(api::GetString(r.as_object(), "uid"));
      }
    }
    auto write_active = [&] {
      if (active.empty()) status.erase("active");
      else status["active"] = active;
    };
    write_active();
    if (meta.contains("deletionTimestamp")) return Status::Ok();

    const auto& spec = api::GetObject(cj, "spec");
    std::shared_ptr<const TimeZone> tz;
    if (auto* z = spec.if_contains("timeZone"); z && z->is_string()) {
      auto loaded = TimeZone::Load(std::string(z->as_string()));
      if (!loaded.ok()) {
        recorder_.Warning(cj, "UnknownTimeZone", "invalid timeZone: \"" + std::string(z->as_string()) +
                                                     "\": " + loaded.status().message());
        return Status::Ok();
      }
      tz = loaded.value();
    } else {
      tz = TimeZone::Load("Local").value();
    }
    if (api::GetBool(spec, "suspend")) return Status::Ok();
    auto sched = CronSchedule::Parse(api::GetString(spec, "schedule"));
    if (!sched.ok()) {
      recorder_.Warning(cj, "UnparseableSchedule", "unparseable schedule: \"" + api::GetString(spec, "schedule") +
                                                       "\" : " + sched.status().message());
      return Status::Ok();
    }
    const int64_t now = ToUnix(clock()->Now());
    auto wake_for_next = [&] {
      if (auto next = sched->Next(now, *tz)) {
        *requeue = std::chrono::seconds(*next - now) + kNextScheduleDelta;
      }
    };

    int64_t earliest = ToUnix(api::ParseTime(api::GetString(meta, "creationTimestamp")).value_or(api::Timestamp{}));
    if (auto last = api::ParseTime(api::GetString(status, "lastScheduleTime"))) earliest = ToUnix(*last);
    const bool has_deadline = spec.contains("startingDeadlineSeconds");
    const int64_t deadline = api::GetInt(spec, "startingDeadlineSeconds");
    if (has_deadline && now - deadline > earliest) earliest = now - deadline;
    MissedSchedules missed = MostRecentSchedule(*sched, *tz, earliest, now);
    if (missed.missed > 100) {
      recorder_.Warning(cj, "TooManyMissedTimes",
                        "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
    }
    if (!missed.most_recent) {
      wake_for_next();
      return Status::Ok();
    }
    const int64_t scheduled = *missed.most_recent;
    if (has_deadline && scheduled + deadline < now) {
      recorder_.Warning(cj, "MissSchedule", "Missed scheduled time to start a job: " + Rfc1123Z(scheduled));
      wake_for_next();
      return Status::Ok();
    }
    const std::string job_name = api::GetString(meta, "name") + "-" + std::to_string(scheduled / 60);
    const bool named_active = std::any_of(active.begin(), active.end(), [&](const json::value& r) {
      return r.is_object() && api::GetString(r.as_object(), "name") == job_name;
    });
    if (named_active || api::GetString(status, "lastScheduleTime") == UtcTime(scheduled)) {
      wake_for_next();
      return Status::Ok();
    }
    const std::string policy = api::GetString(spec, "concurrencyPolicy");
    if (policy == "Forbid" && !active.empty()) {
      recorder_.Normal(cj, "JobAlreadyActive", "Not starting job because prior execution is running and concurrency policy is Forbid");
      wake_for_next();
      return Status::Ok();
    }
    if (policy == "Replace") {
      for (const auto& r : json::array(active)) {
        if (!r.is_object()) continue;
        if (Status s = DeleteJob(cj, api::GetString(r.as_object(), "name")); !s.ok()) {
          write_active();
          return s.Annotate("could not replace job " + ns + "/" + api::GetString(r.as_object(), "name"));
        }
        drop_active(api::GetString(r.as_object(), "uid"));
      }
      write_active();
    }

    const auto& jt = api::GetObject(spec, "jobTemplate");
    json::object jmeta{{"name", job_name}, {"namespace", ns}, {"ownerReferences", json::array{api::ControllerRef(cj)}}};
    if (const auto& l = api::Labels(jt); !l.empty()) jmeta["labels"] = l;
    json::object ann = api::Annotations(jt);
    ann[kScheduledTimestamp] = LocalRfc3339(scheduled, *tz);
    jmeta["annotations"] = std::move(ann);
    json::object job{{"apiVersion", "batch/v1"}, {"kind", "Job"}, {"metadata", std::move(jmeta)}, {"spec", api::GetObject(jt, "spec")}};
    auto created = client_->Create(*job_r_, ns, job);
    json::object got;
    if (created.ok()) {
      got = std::move(created.value());
      recorder_.Normal(cj, "SuccessfulCreate", "Created job " + job_name);
    } else if (created.AlreadyExists()) {
      // Made by an earlier pass whose status write was lost, or by someone else.
      auto existing = client_->Get(*job_r_, ns, job_name);
      if (!existing.ok()) return existing.error().Annotate("getting job");
      if (!api::IsControlledBy(*existing, api::GetString(meta, "uid")) || in_active(api::Uid(*existing))) {
        return Status::Ok();
      }
      got = std::move(existing.value());
    } else {
      recorder_.Warning(cj, "FailedCreate", "Error creating job: " + created.error().message());
      return created.error().Annotate("creating job");
    }
    active.push_back(JobRef(got));
    write_active();
    status["lastScheduleTime"] = UtcTime(scheduled);
    wake_for_next();
    return Status::Ok();
  }

  static json::object JobRef(const json::object& job) {
    const auto& m = api::Metadata(job);
    return json::object{{"kind", "Job"},
                        {"namespace", api::GetString(m, "namespace")},
                        {"name", api::GetString(m, "name")},
                        {"uid", api::GetString(m, "uid")},
                        {"apiVersion", "batch/v1"},
                        {"resourceVersion", api::GetString(m, "resourceVersion")}};
  }

  // Deletes a Job with its pods (gone already counts as deleted); the client's error otherwise.
  Status DeleteJob(const json::object& cj, const std::string& job_name) {
    client::DeleteParams p;
    p.propagation_policy = "Background";
    auto r = client_->Delete(*job_r_, api::Namespace(cj), job_name, p);
    if (!r.ok() && !r.NotFound()) {
      recorder_.Warning(cj, "FailedDelete", "Deleted job: " + r.error().message());
      return r.error();
    }
    recorder_.Normal(cj, "SuccessfulDelete", "Deleted job " + job_name);
    return Status::Ok();
  }

  // Finished Jobs beyond the history limits go, oldest (by start time) first.
  void CleanupFinished(const json::object& cj, const std::vector<ObjectPtr>& jobs) {
    const auto& spec = api::GetObject(cj, "spec");
    for (const char* kind : {"Complete", "Failed"}) {
      const char* field = std::string(kind) == "Complete" ? "successfulJobsHistoryLimit" : "failedJobsHistoryLimit";
      if (!spec.contains(field)) continue;
      const int64_t limit = api::GetInt(spec, field);
      std::vector<ObjectPtr> done;
      for (const auto& j : jobs) {
        if (Finished(*j) == kind && !api::IsBeingDeleted(*j)) done.push_back(j);
      }
      if (static_cast<int64_t>(done.size()) <= limit) continue;
      std::sort(done.begin(), done.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
        const std::string sa = api::GetString(*a, {"status", "startTime"}), sb = api::GetString(*b, {"status", "startTime"});
        if (sa != sb) return sa < sb;
        return api::Name(*a) < api::Name(*b);
      });
      for (size_t i = 0; i + static_cast<size_t>(std::max<int64_t>(limit, 0)) < done.size(); ++i) {
        // Best effort, as upstream's history clean-up: DeleteJob already reported a failure as a
        // FailedDelete event, and a Job not deleted now is still over the limit at the next sync.
        (void)DeleteJob(cj, api::Name(*done[i]));
      }
    }
  }

  const client::Client* client_;
  const api::ResourceInfo* cj_r_;
  const api::ResourceInfo* job_r_;
  client::Informer* cronjobs_ = nullptr;
  client::Informer* jobs_ = nullptr;
  client::EventRecorder recorder_;
};

}  // namespace

std::unique_ptr<client::Controller> NewCronJobController(const client::Client* client, const kite::Clock* clock) {
  return std::make_unique<CronJobController>(client, clock);
}

}  // namespace kite::controllers
