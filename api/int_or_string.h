// IntOrString values scaled against a total (upstream's intstr.GetScaledValueFromIntOrPercent):
// maxSurge, maxUnavailable and the like, given as a whole number or as "25%".
#pragma once

#include <boost/json/value.hpp>

#include <cstdint>

namespace kite::api {

// `v` as a count: an integer as is; "N%" as N% of `total`, rounded up when `round_up`, else
// down; another string as the integer it starts with; `fallback` when absent or of another type.
int64_t ScaledIntOrPercent(const boost::json::value* v, int64_t total, bool round_up, int64_t fallback);

}  // namespace kite::api
