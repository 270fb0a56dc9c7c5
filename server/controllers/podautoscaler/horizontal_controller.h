// The HorizontalPodAutoscaler controller (upstream's "horizontalpodautoscaling"): every 15 s
// (--horizontal-pod-autoscaler-sync-period) each HPA's target (a Deployment, ReplicaSet,
// StatefulSet or ReplicationController) is resized for its CPU utilization target
// (autoscaling/v2 spec.metrics' Resource cpu Utilization, or v1's
// targetCPUUtilizationPercentage; 80% when none is given), from the usage the built-in metrics
// server holds, read in-process (`pod_cpu`), not over HTTP. The arithmetic is
// replica_calculator.h's. Status as upstream writes it: currentReplicas, desiredReplicas,
// lastScaleTime, currentMetrics, and the conditions AbleToScale, ScalingActive and
// ScalingLimited with upstream's reasons; Events SuccessfulRescale, FailedGetScale,
// FailedGetResourceMetric, FailedRescale. Not done: other metric types (Pods, Object,
// External, memory), spec.behavior (the default behaviour applies to every HPA).
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"
#include "server/controllers/podautoscaler/replica_calculator.h"

namespace kite::metricsserver {
class MetricsStorage;
}

namespace kite::controllers {

// A pod's CPU usage (the sum of its containers), nullopt when the metrics server has none.
using PodCpuMetrics = std::function<std::optional<podautoscaler::PodMetric>(const std::string& ns, const std::string& pod)>;

// The metrics server's storage as the HPA reads it (null: no metrics server, every HPA reports
// that it cannot get metrics).
PodCpuMetrics PodCpuFromStorage(const metricsserver::MetricsStorage* storage);

std::unique_ptr<client::Controller> NewHorizontalPodAutoscalerController(const client::Client* client,
                                                                        PodCpuMetrics pod_cpu,
                                                                        const Clock* clock = Clock::Real());

}  // namespace kite::controllers
