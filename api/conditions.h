// Status conditions (metav1.Condition and the per-kind condition types: PodCondition,
// DeploymentCondition, JobCondition, NamespaceCondition, ...), as status.conditions lists hold
// them: one entry per type, with type, status ("True", "False", "Unknown"), reason, message and
// lastTransitionTime (some kinds add lastUpdateTime or lastProbeTime).
//
// Contract: lenient reads as api/object.h (a missing or mistyped list reads as empty); entries
// that are not objects are skipped when searching and kept when writing.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <string>
#include <string_view>

namespace kite::api {

namespace json = boost::json;

// {type, status, reason, message, lastTransitionTime: now}, plus the member named `also_now_field`
// (the kind's other time: "lastUpdateTime" for Deployments and CSRs, "lastProbeTime" for Jobs) set
// to now when given. It is a field name, not a time.
json::object NewCondition(std::string_view type, std::string_view status, std::string_view reason,
                          std::string_view message, std::string_view now, std::string_view also_now_field = {});

// The first condition of `type` in a conditions list, or in status.conditions; nullptr if none.
const json::object* FindCondition(const json::array& conditions, std::string_view type);
const json::object* FindCondition(const json::object& status, std::string_view type);
// Whether status.conditions holds `type` with status "True".
bool IsConditionTrue(const json::object& status, std::string_view type);

// Puts `cond` into status.conditions in place of those of its type (appended after the others,
// as upstream's helpers do). When a condition of that type had the same status and a
// lastTransitionTime, that time is kept: the condition did not transition (metav1's rule).
// Kinds with a stricter rule (keep the old entry whole) check FindCondition first.
void SetCondition(json::object& status, json::object cond);

}  // namespace kite::api
