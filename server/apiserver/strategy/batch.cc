// batch/v1 Jobs and CronJobs (upstream's pkg/registry/batch/{job,cronjob}/strategy.go).
#include <boost/json.hpp>

#include "api/object.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/strategy/kinds.h"
#include "server/apiserver/strategy/validation.h"

namespace kite::apiserver::strategies {
namespace {
namespace json = boost::json;

class JobStrategy final : public Strategy {
 public:
  // Upstream's generateSelector: unless spec.manualSelector, a new Job selects its pods by its
  // own uid, and its template carries the labels that selector and `kubectl get pods -l
  // job-name=x` rely on.
  void PrepareForCreate(json::object& job) const override {
    const std::string uid = api::GetString(api::MutableObject(job, "metadata"), "uid"), name = api::GetString(api::MutableObject(job, "metadata"), "name");
    auto* spec = job.if_contains("spec");
    if (!spec || !spec->is_object()) return;
    auto& s = spec->as_object();
    if (auto* manual = s.if_contains("manualSelector"); manual && manual->is_bool() && manual->as_bool()) return;
    auto& tmpl = s["template"];
    if (!tmpl.is_object()) tmpl = json::object();
    auto& tmeta = tmpl.as_object()["metadata"];
    if (!tmeta.is_object()) tmeta = json::object();
    auto& labels = tmeta.as_object()["labels"];
    if (!labels.is_object()) labels = json::object();
    auto& l = labels.as_object();
    l["batch.kubernetes.io/controller-uid"] = uid;
    l["batch.kubernetes.io/job-name"] = name;
    l["controller-uid"] = uid;
    l["job-name"] = name;
    s["selector"] = json::object{{"matchLabels", json::object{{"batch.kubernetes.io/controller-uid", uid}}}};
  }

  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    const json::object* spec = api::FindObject(obj, {"spec"});
    const json::object* tmpl = spec ? api::FindObject(*spec, {"template"}) : nullptr;
    ValidatePodSpec(tmpl ? api::FindObject(*tmpl, {"spec"}) : nullptr, "spec.template.spec", e);
    if (!tmpl) return;
    const json::object* ps = api::FindObject(*tmpl, {"spec"});
    std::string rp = ps ? api::GetString(*ps, "restartPolicy") : "";
    if (rp != "OnFailure" && rp != "Never") {
      e.Add("FieldValueNotSupported", "Unsupported value: " + Quoted(rp) + ": supported values: \"OnFailure\", \"Never\"",
            "spec.template.spec.restartPolicy");
    }
  }

  void ValidateUpdate(const json::object& obj, const json::object& old, FieldErrors& e) const override {
    if (!SameAt(obj, old, {"spec", "selector"})) e.Immutable("spec.selector", "v1.LabelSelector{...}");
    // The pod template is fixed once the Job exists; upstream lets a suspended Job that never
    // started change its scheduling directives, which kite accepts as a whole template change.
    const json::object* old_spec = api::FindObject(old, {"spec"});
    const json::object* old_status = api::FindObject(old, {"status"});
    const auto* suspend = old_spec ? old_spec->if_contains("suspend") : nullptr;
    const bool never_started = !old_status || !old_status->contains("startTime");
    const bool may_change = suspend && suspend->is_bool() && suspend->as_bool() && never_started;
    if (!may_change && !SameAt(obj, old, {"spec", "template"})) e.Immutable("spec.template", "core.PodTemplateSpec{...}");
    for (const char* f : {"completions", "completionMode", "podFailurePolicy", "backoffLimitPerIndex"}) {
      if (!SameAt(obj, old, {"spec", f})) {
        const auto* v = api::FindObject(obj, {"spec"}) ? api::FindObject(obj, {"spec"})->if_contains(f) : nullptr;
        e.Immutable(std::string("spec.") + f, v ? json::serialize(*v) : "null");
      }
    }
  }

  // The pre-garbage-collector behaviour, kept for Jobs. (kubectl always sends a policy,
  // Background by default; client libraries send none.)
  std::string DefaultPropagationPolicy() const override { return "Orphan"; }

  std::vector<std::string_view> SelectableFields() const override { return {"status.successful"}; }
};

class CronJobStrategy final : public Strategy {
 public:
  void Validate(const api::ResourceInfo&, const json::object& obj, FieldErrors& e) const override {
    const json::object* spec = api::FindObject(obj, {"spec"});
    const json::object* jt = spec ? api::FindObject(*spec, {"jobTemplate", "spec", "template", "spec"}) : nullptr;
    if (spec && api::GetString(*spec, "schedule").empty()) e.Required("spec.schedule");
    ValidatePodSpec(jt, "spec.jobTemplate.spec.template.spec", e);
  }
};

}  // namespace

const Strategy& Job() {
  static const JobStrategy s;
  return s;
}

const Strategy& CronJob() {
  static const CronJobStrategy s;
  return s;
}

}  // namespace kite::apiserver::strategies
