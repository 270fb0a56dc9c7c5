// The answer header of a kubelet or a runtime's stream server to an upgrade request, as the API
// server and the kubelet parse it before relaying a session (base/upgrade_proxy.h): it comes
// from another machine. Parsing never crashes, a status is three digits, header names are
// lower-case and non-empty.
#include <cctype>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "base/upgrade_proxy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto a = kite::ParseResponseHeader(text);
  if (!a.ok()) return 0;
  if (a->status < 0 || a->status > 999) std::abort();
  for (const auto& [k, v] : a->headers) {
    if (k.empty()) std::abort();
    for (char c : k) {
      if (std::isupper(static_cast<unsigned char>(c))) std::abort();
    }
  }
  return 0;
}
