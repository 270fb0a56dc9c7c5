// Field selector parsing: must not crash, and String() must parse back to an equal selector.
#include <cstdint>
#include <cstdlib>
#include <map>
#include <string_view>

#include "api/fields.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kite::api::FieldSelector;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto sel = FieldSelector::Parse(input);
  if (!sel.ok()) return 0;
  std::string canonical = sel->String();
  auto again = FieldSelector::Parse(canonical);
  if (!again.ok() || !(*again == *sel) || again->String() != canonical) std::abort();
  for (const auto& r : sel->requirements()) {
    auto unescaped = kite::api::UnescapeFieldValue(kite::api::EscapeFieldValue(r.value));
    if (!unescaped.ok() || *unescaped != r.value) std::abort();
  }
  (void)sel->Matches(std::map<std::string, std::string>{{"metadata.name", "x"}});
  (void)sel->CheckSupported({"metadata.name", "metadata.namespace"});
  return 0;
}
