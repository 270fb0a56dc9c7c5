// Label selector parsing: must not crash, and a parsed selector's canonical String() must parse
// back to an equal selector. Inputs that are JSON also go through the metav1.LabelSelector path.
#include <boost/json/object.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/json_text.h"
#include "api/labels.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kite::api::LabelSelector;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  auto sel = LabelSelector::Parse(input);
  if (sel.ok()) {
    std::string canonical = sel->String();
    auto again = LabelSelector::Parse(canonical);
    if (!again.ok() || !(*again == *sel) || again->String() != canonical) std::abort();
    boost::json::object labels{{"a", "b"}, {"x", "1"}, {"in", ""}};
    (void)sel->Matches(labels);
  }

  auto json = kite::api::ParseJson(input);
  if (json.ok()) {
    (void)kite::api::ValidateLabelSelector(*json, "spec.selector");
    auto converted = LabelSelector::FromLabelSelectorJson(*json);
    if (converted.ok() && !converted->IsNothing()) {
      // Every converted selector is expressible in the query syntax.
      if (!LabelSelector::Parse(converted->String()).ok()) std::abort();
    }
  }
  return 0;
}
