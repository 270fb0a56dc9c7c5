// SPDY/3.1 frames from a kubelet (another machine), as the API server's exec/attach translator
// reads them (base/spdy.h). Never crashes; a frame's payload is what its header's 24-bit length
// says; a data frame's stream id has bit 31 clear; and cutting the bytes anywhere (as reads
// arrive) gives the same frames as reading them whole.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "base/spdy.h"

namespace {

struct Seen {
  bool control;
  uint16_t type;
  uint8_t flags;
  uint32_t stream_id;
  std::string payload;
  bool operator==(const Seen&) const = default;
};

// Frames until the reader wants more bytes or refuses; `failed` says which.
std::vector<Seen> Drain(kite::spdy::FrameReader& r, bool& failed) {
  std::vector<Seen> out;
  for (;;) {
    auto next = r.Next();
    if (!next.ok()) {
      failed = true;
      return out;
    }
    if (!next->has_value()) return out;
    const kite::spdy::Frame& f = **next;
    if (f.payload.size() > 0xffffff) std::abort();
    if (!f.control && (f.stream_id & 0x80000000u) != 0) std::abort();
    out.push_back({f.control, f.type, f.flags, f.stream_id, f.payload});
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  bool whole_failed = false;
  kite::spdy::FrameReader whole;
  whole.Append(bytes);
  const auto all = Drain(whole, whole_failed);

  // The same bytes in pieces of 1..256 bytes (the first input byte picks the size).
  const size_t piece = static_cast<size_t>(data[0]) + 1;
  bool pieces_failed = false;
  kite::spdy::FrameReader cut;
  std::vector<Seen> got;
  for (size_t at = 0; at < bytes.size() && !pieces_failed; at += piece) {
    cut.Append(bytes.substr(at, piece));
    auto more = Drain(cut, pieces_failed);
    got.insert(got.end(), more.begin(), more.end());
  }
  if (whole_failed != pieces_failed || got != all) std::abort();
  return 0;
}
