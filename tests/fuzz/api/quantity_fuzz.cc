// Quantity parsing: must not crash; the canonical String() must parse back to an equal value
// and be stable; arithmetic and the int64 accessors must not trip the sanitizers.
#include <boost/json/string.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/quantity.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kite::api::Quantity;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  // The JSON form trims surrounding whitespace and otherwise parses the same text.
  auto from_json = Quantity::FromJson(boost::json::value(boost::json::string(input)));
  auto q = Quantity::Parse(input);
  if (q.ok() && (!from_json.ok() || !(*from_json == *q))) std::abort();
  if (!q.ok()) return 0;
  std::string canonical = q->String();
  auto again = Quantity::Parse(canonical);
  if (!again.ok() || !(*again == *q) || again->String() != canonical) std::abort();
  (void)q->Value();
  (void)q->MilliValue();
  (void)q->ScaledValue(static_cast<int>(size % 64) - 32);
  Quantity sum = *q;
  if (sum.Add(*q).ok()) {
    if (!sum.Sub(*q).ok() || !(sum == *q)) std::abort();
  }
  Quantity neg = *q;
  neg.Neg();
  if (neg.Sign() != -q->Sign()) std::abort();
  return 0;
}
