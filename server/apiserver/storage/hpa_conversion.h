// autoscaling/v1 and autoscaling/v2 HorizontalPodAutoscalers are one resource, stored under
// /registry/horizontalpodautoscalers/, each object in the version it was written through.
// Reading it through the other version converts it, as upstream's conversion through its
// internal type does, so `kubectl describe hpa` (which reads v2) shows a v1 HPA and a v1 client
// sees a v2 one:
//   v1 spec.targetCPUUtilizationPercentage  <-> v2 spec.metrics[] {type: Resource, resource:
//                                               {name: cpu, target: {type: Utilization,
//                                               averageUtilization}}}
//   v1 status.currentCPUUtilizationPercentage <-> v2 status.currentMetrics[] (the cpu Resource
//                                               metric's current.averageUtilization)
// What v1 has no field for travels in upstream's annotations on the v1 object and back:
// autoscaling.alpha.kubernetes.io/conditions (status.conditions), .../behavior (spec.behavior),
// .../metrics (the spec metrics other than CPU utilization) and .../current-metrics (likewise
// for status); kite writes those two metric annotations in the v2 shape (upstream writes its
// v2beta1 shape), so they convert back unchanged.
// Get, List and watches (watch_transform.h) all convert with ConvertHpaTo.
#pragma once

#include <boost/json/object.hpp>

#include "api/resources.h"

namespace kite::apiserver {

// Whether r is one of the HorizontalPodAutoscaler versions.
bool IsHpaResource(const api::ResourceInfo& r);

// Converts a stored HPA `obj` (of either version) to r's version in place; other objects and
// objects already in r's version are left as they are.
void ConvertHpaTo(const api::ResourceInfo& r, boost::json::object& obj);

}  // namespace kite::apiserver
