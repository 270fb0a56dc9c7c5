// Request metrics of the API server under upstream's names: apiserver_request_total (by verb,
// dry run, group, version, resource, subresource, scope, component and HTTP code) and
// apiserver_request_duration_seconds (the same without the code), recorded once per request
// when its answer is written (a streamed LIST when its last byte is).
//
// Threading: safe from any thread (the prometheus families lock themselves).
#pragma once

#include <chrono>

#include "server/apiserver/filters/authz.h"

namespace kite::apiserver {

// Counts the request `a` answered with `code` and observes its latency since `start`.
void ObserveRequest(const RequestAttributes& a, int code, std::chrono::steady_clock::time_point start);

}  // namespace kite::apiserver
