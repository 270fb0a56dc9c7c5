#include "server/controllers/podautoscaler/replica_calculator.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "api/conditions.h"
#include "api/object.h"
#include "api/quantity.h"
#include "api/time.h"

namespace kite::controllers::podautoscaler {
namespace json = boost::json;
namespace {

int64_t Ms(const std::string& rfc3339) {
  auto t = api::ParseTime(rfc3339);
  if (!t) return -1;
  return std::chrono::duration_cast<std::chrono::milliseconds>(t->time_since_epoch()).count();
}

// Sum of the containers' CPU requests in millicores; false when a container has none.
bool CpuRequest(const json::object& pod, int64_t* milli, std::string* missing) {
  *milli = 0;
  for (const auto& c : api::GetArray(pod, {"spec", "containers"})) {
    if (!c.is_object()) continue;
    const json::object* req = api::FindObject(c.as_object(), {"resources", "requests"});
    const json::value* cpu = req ? req->if_contains("cpu") : nullptr;
    auto q = cpu ? api::Quantity::FromJson(*cpu) : Result<api::Quantity>(Status(Code::kNotFound, ""));
    if (!q.ok()) {
      *missing = api::GetString(c.as_object(), "name");
      return false;
    }
    *milli += q->MilliValue();
  }
  return true;
}

struct Ratio {
  double usage_ratio = 0;
  int32_t utilization = 0;
  int64_t raw_average = 0;
};

Result<Ratio> UtilizationRatio(const std::map<std::string, PodMetric>& metrics,
                               const std::map<std::string, int64_t>& requests, int32_t target) {
  int64_t requests_total = 0, metrics_total = 0, n = 0;
  for (const auto& [pod, m] : metrics) {
    auto r = requests.find(pod);
    if (r == requests.end()) continue;
    requests_total += r->second;
    metrics_total += m.milli_cpu;
    ++n;
  }
  if (n == 0 || requests_total == 0) return Status(Code::kFailedPrecondition, "no metrics returned matched known pods");
  Ratio out;
  out.utilization = static_cast<int32_t>(metrics_total * 100 / requests_total);
  out.usage_ratio = static_cast<double>(out.utilization) / static_cast<double>(target);
  out.raw_average = metrics_total / n;
  return out;
}

}  // namespace

Result<ReplicaCalculation> CpuReplicas(int32_t current_replicas, int32_t target_utilization,
                                       const std::vector<client::ObjectPtr>& pods,
                                       std::map<std::string, PodMetric> metrics, int64_t now_ms, double tolerance) {
  if (pods.empty()) return Status(Code::kFailedPrecondition, "no pods returned by selector while calculating replica count");
  if (target_utilization <= 0) return Status(Code::kInvalidArgument, "invalid target utilization");
  int64_t ready = 0;
  std::set<std::string> unready, missing, ignored;
  std::map<std::string, int64_t> requests;
  int64_t timestamp = 0;
  for (const auto& p : pods) {
    const json::object& pod = *p;
    const std::string name = api::GetString(api::Metadata(pod), "name");
    const std::string phase = api::GetString(pod, {"status", "phase"});
    int64_t request = 0;
    std::string container;
    if (!CpuRequest(pod, &request, &container)) {
      return Status(Code::kFailedPrecondition, "missing request for cpu in container " + container + " of Pod " + name);
    }
    requests[name] = request;
    if (api::IsBeingDeleted(pod) || phase == "Failed" || phase == "Succeeded") {
      ignored.insert(name);
      continue;
    }
    if (phase == "Pending") {
      unready.insert(name);
      continue;
    }
    auto m = metrics.find(name);
    if (m == metrics.end()) {
      missing.insert(name);
      continue;
    }
    const json::object* cond = api::FindCondition(api::GetObject(pod, "status"), "Ready");
    const int64_t start = Ms(api::GetString(pod, {"status", "startTime"}));
    bool is_unready = false;
    if (!cond || start < 0) {
      is_unready = true;
    } else {
      const int64_t transition = Ms(api::GetString(*cond, "lastTransitionTime"));
      const bool ready_false = api::GetString(*cond, "status") == "False";
      if (start + kCpuInitializationPeriodMs > now_ms) {
        // Within the initialization period: only a sample taken a whole window after the pod
        // turned ready counts.
        is_unready = ready_false || m->second.timestamp_ms < transition + m->second.window_ms;
      } else {
        // Afterwards: only a pod that never became ready is left out.
        is_unready = ready_false && start + kInitialReadinessDelayMs > transition;
      }
    }
    if (is_unready) {
      unready.insert(name);
      continue;
    }
    timestamp = std::max(timestamp, m->second.timestamp_ms);
    ++ready;
  }
  for (const auto& n : ignored) metrics.erase(n);
  for (const auto& n : unready) metrics.erase(n);
  // Metrics of pods the selector no longer picks do not count.
  std::erase_if(metrics, [&](const auto& kv) { return !requests.count(kv.first); });
  if (metrics.empty()) {
    return Status(Code::kFailedPrecondition, "did not receive metrics for targeted pods (pods might be unready)");
  }
  auto ratio = UtilizationRatio(metrics, requests, target_utilization);
  if (!ratio.ok()) return ratio.status();
  ReplicaCalculation out{current_replicas, ratio->utilization, ratio->raw_average, timestamp};
  const bool scale_up_with_unready = !unready.empty() && ratio->usage_ratio > 1.0;
  if (!scale_up_with_unready && missing.empty()) {
    if (std::abs(1.0 - ratio->usage_ratio) <= tolerance) return out;
    out.replicas = static_cast<int32_t>(std::ceil(ratio->usage_ratio * static_cast<double>(ready)));
    return out;
  }
  if (!missing.empty()) {
    // Missing pods count as using their whole request (or the target, if higher) on a
    // scale-down, and nothing on a scale-up.
    for (const auto& n : missing) {
      const int64_t fallback = std::max<int64_t>(100, target_utilization);
      metrics[n] = PodMetric{ratio->usage_ratio < 1.0 ? requests[n] * fallback / 100 : 0, 0, 0};
    }
  }
  if (scale_up_with_unready) {
    for (const auto& n : unready) metrics[n] = PodMetric{0, 0, 0};
  }
  auto fresh = UtilizationRatio(metrics, requests, target_utilization);
  if (!fresh.ok()) return fresh.status();
  if (std::abs(1.0 - fresh->usage_ratio) <= tolerance || (ratio->usage_ratio < 1.0 && fresh->usage_ratio > 1.0) ||
      (ratio->usage_ratio > 1.0 && fresh->usage_ratio < 1.0)) {
    return out;  // the assumption flipped the direction or brought it within tolerance
  }
  const int32_t replicas = static_cast<int32_t>(std::ceil(fresh->usage_ratio * static_cast<double>(metrics.size())));
  if ((fresh->usage_ratio < 1.0 && replicas > current_replicas) || (fresh->usage_ratio > 1.0 && replicas < current_replicas)) {
    return out;
  }
  out.replicas = replicas;
  return out;
}

int32_t Stabilize(std::deque<Recommendation>& recent, int32_t recommendation, int64_t now_ms, int64_t window_ms) {
  while (!recent.empty() && recent.front().timestamp_ms < now_ms - window_ms) recent.pop_front();
  int32_t out = recommendation;
  for (const auto& r : recent) out = std::max(out, r.replicas);
  recent.push_back({now_ms, recommendation});
  return out;
}

Limited ApplyLimits(int32_t current, int32_t desired, int32_t min_replicas, int32_t max_replicas) {
  const int32_t scale_up_limit = std::max(2 * current, 4);
  int32_t maximum = max_replicas;
  std::string max_reason = "TooManyReplicas", max_message = "the desired replica count is more than the maximum replica count";
  if (max_replicas > scale_up_limit) {
    maximum = scale_up_limit;
    max_reason = "ScaleUpLimit";
    max_message = "the desired replica count is increasing faster than the maximum scale rate";
  }
  if (desired < min_replicas) {
    return {min_replicas, true, "TooFewReplicas", "the desired replica count is less than the minimum replica count"};
  }
  if (desired > maximum) return {maximum, true, max_reason, max_message};
  return {desired, false, "DesiredWithinRange", "the desired count is within the acceptable range"};
}

}  // namespace kite::controllers::podautoscaler
