// The label selector of a workload object (ReplicaSet, Deployment, Job, DaemonSet, StatefulSet,
// PodDisruptionBudget: spec.selector as a metav1.LabelSelector; ReplicationController and
// Service: a plain map), and matching an object's labels against it.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include "api/labels.h"

namespace kite::api {

namespace json = boost::json;

// spec.selector as a metav1.LabelSelector; missing or invalid → Nothing (matches no object).
LabelSelector SelectorOf(const json::object& obj);
// A plain label map selector (ReplicationController's spec.selector); null, not an object or
// empty → Nothing.
LabelSelector MapSelector(const json::value* map);
// Whether obj's metadata.labels match s.
bool LabelsMatch(const LabelSelector& s, const json::object& obj);

}  // namespace kite::api
