#include "server/controllers/podautoscaler/horizontal_controller.h"

#include <boost/json.hpp>

#include <map>
#include <mutex>

#include "api/conditions.h"
#include "api/object.h"
#include "api/resources.h"
#include "api/selectors.h"
#include "api/time.h"
#include "base/log.h"
#include "client/event_recorder.h"
#include "client/status_update.h"
#include "server/controllers/common/resync.h"
#include "server/metricsserver/storage.h"

namespace kite::controllers {
namespace json = boost::json;
using client::ObjectPtr;
using podautoscaler::PodMetric;

PodCpuMetrics PodCpuFromStorage(const metricsserver::MetricsStorage* storage) {
  if (!storage) return nullptr;
  return [storage](const std::string& ns, const std::string& pod) -> std::optional<PodMetric> {
    auto u = storage->Pod(ns, pod);
    if (!u) return std::nullopt;
    int64_t nanos = 0;
    for (const auto& c : u->containers) nanos += c.usage.cpu_nanocores;
    // As a Quantity's MilliValue: rounded up.
    return PodMetric{(nanos + 999'999) / 1'000'000, u->timestamp_ms, u->window_ms};
  };
}

namespace {

constexpr auto kSyncPeriod = std::chrono::seconds(15);
constexpr int32_t kDefaultCpuUtilization = 80;

const api::ResourceInfo* TargetResource(const std::string& api_version, const std::string& kind) {
  if (api_version == "apps/v1" && kind == "Deployment") return api::FindResource("apps", "v1", "deployments");
  if (api_version == "apps/v1" && kind == "ReplicaSet") return api::FindResource("apps", "v1", "replicasets");
  if (api_version == "apps/v1" && kind == "StatefulSet") return api::FindResource("apps", "v1", "statefulsets");
  if (api_version == "v1" && kind == "ReplicationController") return api::FindResource("", "v1", "replicationcontrollers");
  return nullptr;
}

// The CPU utilization target: v1's field, v2's Resource cpu Utilization metric, else 80%.
// 0 when the HPA's metrics name none this controller can follow.
int32_t CpuTarget(const json::object& spec) {
  if (spec.contains("targetCPUUtilizationPercentage")) return static_cast<int32_t>(api::GetInt(spec, "targetCPUUtilizationPercentage"));
  const json::array& metrics = api::GetArray(spec, "metrics");
  if (metrics.empty()) return kDefaultCpuUtilization;
  for (const auto& m : metrics) {
    if (!m.is_object() || api::GetString(m.as_object(), "type") != "Resource") continue;
    const json::object& r = api::GetObject(m.as_object(), "resource");
    if (api::GetString(r, "name") != "cpu" || api::GetString(r, {"target", "type"}) != "Utilization") continue;
    return static_cast<int32_t>(api::GetInt(r, {"target", "averageUtilization"}));
  }
  return 0;
}

class HorizontalController final : public client::Controller {
 public:
  HorizontalController(const client::Client* c, PodCpuMetrics pod_cpu, const kite::Clock* clock)
      : Controller("horizontal-pod-autoscaler", 2, clock), client_(c), pod_cpu_(std::move(pod_cpu)),
        events_(c, "horizontal-pod-autoscaler", "", clock), hpa_r_(api::FindResource("autoscaling", "v2", "horizontalpodautoscalers")) {}

  void Init(client::InformerFactory& f) override {
    hpas_ = f.For(*hpa_r_);
    pods_ = f.For(*api::FindResource("", "v1", "pods"));
    hpas_->AddHandler(client::EnqueueSelf(&queue_));
  }

  Status Reconcile(const std::string& key) override {
    auto [ns, name] = client::SplitKey(key);
    ObjectPtr hpa = hpas_->Get(ns, name);
    if (!hpa) {
      resync_.Forget(key);
      std::lock_guard<std::mutex> lock(mu_);
      recommendations_.erase(key);
      return Status();
    }
    resync_.After(queue_, key, kSyncPeriod);
    return Sync(key, *hpa);
  }

 private:
  int64_t NowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(clock()->Now().time_since_epoch()).count();
  }

  Status Sync(const std::string& key, const json::object& hpa) {
    const json::object& spec = api::GetObject(hpa, "spec");
    const std::string ns = api::GetString(api::Metadata(hpa), "namespace");
    const std::string now = api::FormatTime(clock()->Now());
    json::object status = api::GetObject(hpa, "status");
    status["observedGeneration"] = api::GetInt(api::Metadata(hpa), "generation");
    const int32_t min_replicas = static_cast<int32_t>(api::GetInt(spec, "minReplicas", 1));
    const int32_t max_replicas = static_cast<int32_t>(api::GetInt(spec, "maxReplicas"));
    const json::object& ref = api::GetObject(spec, "scaleTargetRef");
    const std::string ref_kind = api::GetString(ref, "kind"), ref_name = api::GetString(ref, "name");
    const std::string qualified = ref_kind + "/" + ref_name;
    auto condition = [&](const char* type, bool ok, const std::string& reason, const std::string& message) {
      api::SetCondition(status, api::NewCondition(type, ok ? "True" : "False", reason, message, now));
    };

    const api::ResourceInfo* target_r = TargetResource(api::GetString(ref, "apiVersion"), ref_kind);
    Result<json::object> target = target_r ? client_->Get(*target_r, ns, ref_name)
                                            : Result<json::object>(Status(Code::kNotFound, "no scale subresource for " + ref_kind));
    if (!target.ok()) {
      const std::string msg = "the HPA controller was unable to get the target's current scale: " + target.status().message();
      events_.Warning(hpa, "FailedGetScale", msg);
      condition("AbleToScale", false, "FailedGetScale", msg);
      return UpdateStatus(hpa, std::move(status));
    }
    condition("AbleToScale", true, "SucceededGetScale", "the HPA controller was able to get the target's current scale");
    const int32_t current = static_cast<int32_t>(api::GetInt(*target, {"spec", "replicas"}, 1));
    status["currentReplicas"] = current;

    int32_t desired = current;
    std::string rescale_reason;
    json::array current_metrics;
    if (current == 0 && min_replicas != 0) {
      condition("ScalingActive", false, "ScalingDisabled", "scaling is disabled since the replica count of the target is zero");
      desired = 0;
    } else if (current > max_replicas) {
      rescale_reason = "Current number of replicas above Spec.MaxReplicas";
      desired = max_replicas;
    } else if (current < min_replicas) {
      rescale_reason = "Current number of replicas below Spec.MinReplicas";
      desired = min_replicas;
    } else {
      auto calc = Calculate(*target, ns, current, spec);
      if (!calc.ok()) {
        const std::string msg = "the HPA was unable to compute the replica count: failed to get cpu utilization: " +
                                calc.status().message();
        events_.Warning(hpa, "FailedGetResourceMetric", msg);
        condition("ScalingActive", false, "FailedGetResourceMetric", msg);
        return UpdateStatus(hpa, std::move(status));
      }
      condition("ScalingActive", true, "ValidMetricFound",
                "the HPA was able to successfully calculate a replica count from cpu resource utilization (percentage of request)");
      current_metrics.push_back(json::object{
          {"type", "Resource"},
          {"resource", json::object{{"name", "cpu"},
                                    {"current", json::object{{"averageValue", std::to_string(calc->raw_average_milli) + "m"},
                                                             {"averageUtilization", calc->utilization}}}}}});
      int32_t stabilized;
      {
        std::lock_guard<std::mutex> lock(mu_);
        stabilized = podautoscaler::Stabilize(recommendations_[key], calc->replicas, NowMs());
      }
      if (stabilized != calc->replicas) {
        condition("AbleToScale", true, "ScaleDownStabilized",
                  "recent recommendations were higher than current one, applying the highest recent recommendation");
      } else {
        condition("AbleToScale", true, "ReadyForNewScale", "recommended size matches current size");
      }
      auto limited = podautoscaler::ApplyLimits(current, stabilized, min_replicas, max_replicas);
      condition("ScalingLimited", limited.limited, limited.reason, limited.message);
      desired = limited.replicas;
      rescale_reason = desired > current ? "cpu resource utilization (percentage of request) above target"
                                         : "All metrics below target";
    }
    if (desired != current) {
      const std::string body = "{\"spec\":{\"replicas\":" + std::to_string(desired) + "}}";
      auto patched = client_->Patch(*target_r, ns, ref_name, client::PatchType::kMerge, body, "scale");
      if (!patched.ok()) {
        const std::string msg = "the HPA controller was unable to update the target scale: " + patched.status().message();
        events_.Warning(hpa, "FailedRescale", "New size: " + std::to_string(desired) + "; reason: " + rescale_reason +
                                                  "; error: " + patched.status().message());
        condition("AbleToScale", false, "FailedUpdateScale", msg);
        return UpdateStatus(hpa, std::move(status));
      }
      condition("AbleToScale", true, "SucceededRescale",
                "the HPA controller was able to update the target scale to " + std::to_string(desired));
      events_.Normal(hpa, "SuccessfulRescale", "New size: " + std::to_string(desired) + "; reason: " + rescale_reason);
      KITE_LOG(1) << "hpa " << ns << "/" << api::GetString(api::Metadata(hpa), "name") << ": " << qualified << " "
                  << current << " -> " << desired << " (" << rescale_reason << ")";
      status["lastScaleTime"] = now;
    }
    status["desiredReplicas"] = desired;
    if (current_metrics.empty()) status.erase("currentMetrics");
    else status["currentMetrics"] = std::move(current_metrics);
    return UpdateStatus(hpa, std::move(status));
  }

  Result<podautoscaler::ReplicaCalculation> Calculate(const json::object& target, const std::string& ns,
                                                      int32_t current, const json::object& spec) {
    const int32_t target_utilization = CpuTarget(spec);
    if (target_utilization <= 0) return Status(Code::kInvalidArgument, "no cpu Utilization metric to follow");
    if (!pod_cpu_) {
      return Status(Code::kUnavailable, "unable to get metrics for resource cpu: no metrics returned from resource metrics API");
    }
    const api::LabelSelector selector = api::SelectorOf(target);
    std::vector<ObjectPtr> pods;
    std::map<std::string, PodMetric> metrics;
    for (const auto& p : pods_->List(ns)) {
      if (!api::LabelsMatch(selector, *p)) continue;
      pods.push_back(p);
      const std::string name = api::GetString(api::Metadata(*p), "name");
      if (auto m = pod_cpu_(ns, name)) metrics[name] = *m;
    }
    if (metrics.empty() && !pods.empty()) {
      return Status(Code::kUnavailable, "unable to get metrics for resource cpu: no metrics returned from resource metrics API");
    }
    return podautoscaler::CpuReplicas(current, target_utilization, pods, std::move(metrics), NowMs());
  }

  // Conditions carry the time of this sync: an unchanged status (ignoring those times of
  // conditions that did not transition, which SetCondition keeps) is not written again.
  // Status is always written through autoscaling/v2, as upstream's controller does: a v1 HPA
  // reads back through v1 converted (server/apiserver/storage/hpa_conversion.h), its conditions
  // and current metrics in upstream's annotations.
  Status UpdateStatus(const json::object& hpa, json::object status) {
    if (status == api::GetObject(hpa, "status")) return Status();
    json::object v2 = hpa;
    v2["apiVersion"] = "autoscaling/v2";
    Status s = client::UpdateStatusIfChanged(*client_, *hpa_r_, v2, std::move(status));
    if (s.IsConflict()) return Status();  // a newer HPA is on its way
    return s;
  }

  const client::Client* client_;
  const PodCpuMetrics pod_cpu_;
  client::EventRecorder events_;
  const api::ResourceInfo* hpa_r_;
  client::Informer* hpas_ = nullptr;
  client::Informer* pods_ = nullptr;
  Resync resync_;
  std::mutex mu_;  // guards recommendations_
  std::map<std::string, std::deque<podautoscaler::Recommendation>> recommendations_;
};

}  // namespace

std::unique_ptr<client::Controller> NewHorizontalPodAutoscalerController(const client::Client* client,
                                                                        PodCpuMetrics pod_cpu, const Clock* clock) {
  return std::make_unique<HorizontalController>(client, std::move(pod_cpu), clock);
}

}  // namespace kite::controllers
