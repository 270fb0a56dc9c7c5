// Pod predicates and pods made from templates, as upstream's podutil and controller_utils
// define them. Lenient reads as api/object.h.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <string>

#include "api/time.h"

namespace kite::api {

namespace json = boost::json;

// Not Succeeded or Failed, and not being deleted (upstream's IsPodActive).
bool IsPodActive(const json::object& pod);
// Condition Ready is True.
bool IsPodReady(const json::object& pod);
// Ready for at least min_ready_seconds at `now` (by the Ready condition's lastTransitionTime).
bool IsPodAvailable(const json::object& pod, int64_t min_ready_seconds, Timestamp now);
// A new pod from `tmpl` (a PodTemplateSpec) in the owner's namespace, controlled by `owner`,
// with generateName `generate_name` and the template's labels, annotations and finalizers.
json::object PodFromTemplate(const json::object& tmpl, const json::object& owner, const std::string& generate_name);
// The pod's QoS class (status.qosClass), upstream's GetPodQOS over containers and init
// containers: "BestEffort" with no cpu/memory request or limit, "Guaranteed" when every
// container limits both cpu and memory and requests equal limits, else "Burstable". A request
// left unset where a limit is set counts as the limit (upstream's API defaulting does that copy);
// zero and unparsable quantities count as unset.
std::string PodQOSClass(const json::object& pod);

}  // namespace kite::api
