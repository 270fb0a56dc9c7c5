#include "server/apiserver/filters/fault_injection.h"

#include <cstdlib>
#include <new>
#include <stdexcept>
#include <string>

namespace kite::apiserver {

bool FaultInjectionEnabled() {
  const char* v = std::getenv("KITE_FAULT_INJECTION");
  return v && std::string(v) == "1";
}

void InjectFault(std::string_view kind) {
  if (kind == "bad_alloc") throw std::bad_alloc();
  if (kind == "exception") throw std::runtime_error("injected fault");
}

}  // namespace kite::apiserver
