// The HorizontalPodAutoscaler's arithmetic, upstream's (pkg/controller/podautoscaler,
// replica_calculator.go and horizontal.go, read for their rules): the replica count a CPU
// utilization target asks for, and the normalisation of that recommendation (scale-down
// stabilization, min/max, the scale-up rate limit). Pure functions on parsed values; the
// controller (horizontal_controller.h) feeds them pods from its informer and usage from the
// metrics server.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "base/status.h"
#include "client/informer.h"

namespace kite::controllers::podautoscaler {

inline constexpr double kTolerance = 0.1;                        // --horizontal-pod-autoscaler-tolerance
inline constexpr int64_t kCpuInitializationPeriodMs = 300'000;   // --…-cpu-initialization-period
inline constexpr int64_t kInitialReadinessDelayMs = 30'000;      // --…-initial-readiness-delay
inline constexpr int64_t kDownscaleStabilizationMs = 300'000;    // --…-downscale-stabilization

// A pod's CPU usage as the metrics API reports it (the sum of its containers).
struct PodMetric {
  int64_t milli_cpu = 0;
  int64_t timestamp_ms = 0;
  int64_t window_ms = 0;
};

struct ReplicaCalculation {
  int32_t replicas = 0;
  int32_t utilization = 0;         // percent of the requests, over the pods with metrics
  int64_t raw_average_milli = 0;   // average usage per pod, millicores
  int64_t timestamp_ms = 0;
};

// Upstream's GetResourceReplicas for CPU with a Utilization target: pods (already selected by
// the target's selector) are grouped into ready, unready (Pending, or not yet ready within the
// CPU initialization period), missing (no metrics) and ignored (deleted, Failed); the ratio
// of usage to requests decides, within `tolerance` of 1 nothing changes, and missing/unready
// pods are assumed at 0% on a scale-up and 100% on a scale-down before deciding again.
// Errors (upstream's messages): no pods, no metrics for the pods, a container without a CPU
// request.
Result<ReplicaCalculation> CpuReplicas(int32_t current_replicas, int32_t target_utilization,
                                       const std::vector<client::ObjectPtr>& pods,
                                       std::map<std::string, PodMetric> metrics, int64_t now_ms,
                                       double tolerance = kTolerance);

// One replica recommendation remembered for stabilization.
struct Recommendation {
  int64_t timestamp_ms = 0;
  int32_t replicas = 0;
};

// The highest recommendation within `window` before now, the new one included; the new one
// is remembered and older ones beyond the window dropped (upstream's stabilizeRecommendation).
int32_t Stabilize(std::deque<Recommendation>& recent, int32_t recommendation, int64_t now_ms,
                  int64_t window_ms = kDownscaleStabilizationMs);

// min/max and the scale-up limit max(2 x current, 4) (upstream's convertDesiredReplicasWithRules):
// the replicas to set, and the ScalingLimited condition's reason and message.
struct Limited {
  int32_t replicas = 0;
  bool limited = false;
  std::string reason, message;
};
Limited ApplyLimits(int32_t current, int32_t desired, int32_t min_replicas, int32_t max_replicas);

}  // namespace kite::controllers::podautoscaler
