// A test seam of the request path: with KITE_FAULT_INJECTION=1 in the environment at start, a
// request carrying `X-Kite-Fault: bad_alloc` or `exception` throws from inside the handler, so the
// tests can show that what a handler throws ends that request with a 500 and never the process.
// Off (no environment variable): nothing is read from the request.
#pragma once

#include <string_view>

namespace kite::apiserver {

// KITE_FAULT_INJECTION=1 is set (the API server asks once, when it is made).
bool FaultInjectionEnabled();
// Throws std::bad_alloc for "bad_alloc", std::runtime_error for "exception"; else returns.
void InjectFault(std::string_view kind);

}  // namespace kite::apiserver
