// What a container writes ends up, framed by the runtime, in its CRI log file, which the kubelet
// parses for `kubectl logs` (agent/kubelet/logs/cri_log.h): untrusted. The first input byte picks
// options (timestamps, a since time, a limit, a tail) and the piece size the bytes are fed in;
// the rest is the file. Decoding never crashes, never prints more than limitBytes, gives the
// same output whatever the piece size, and a tail offset is within the data.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/kubelet/logs/cri_log.h"

using namespace kite::kubelet::logs;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t flags = data[0];
  std::string_view file(reinterpret_cast<const char*>(data) + 1, size - 1);
  LogOptions o;
  o.timestamps = flags & 1;
  if (flags & 2) o.since_ns = 1714557600000000000;
  if (flags & 4) o.limit_bytes = 1 + (flags >> 4);
  o.stdout_ = !(flags & 8) || (flags & 16);
  std::string whole, pieces;
  LogFormatter a(o), b(o);
  a.Feed(file, &whole);
  const size_t piece = 1 + (flags >> 5);
  for (size_t i = 0; i < file.size(); i += piece) b.Feed(file.substr(i, piece), &pieces);
  if (whole != pieces) std::abort();
  if (o.limit_bytes && static_cast<int64_t>(whole.size()) > *o.limit_bytes) std::abort();
  if (TailOffset(file, flags) > file.size()) std::abort();
  // Every line on its own.
  size_t start = 0;
  while (start < file.size()) {
    size_t nl = file.find('\n', start);
    if (nl == std::string_view::npos) nl = file.size();
    auto r = ParseCriLogRecord(file.substr(start, nl - start));
    if (r.ok() && r->content.size() > nl - start) std::abort();
    start = nl + 1;
  }
  return 0;
}
