#include "api/selectors.h"

#include <map>
#include <string>

#include "api/object.h"

namespace kite::api {

LabelSelector SelectorOf(const json::object& obj) {
  const json::value* sel = GetObject(obj, "spec").if_contains("selector");
  if (!sel) return LabelSelector::Nothing();
  auto s = LabelSelector::FromLabelSelectorJson(*sel);
  return s.ok() ? s.value() : LabelSelector::Nothing();
}

LabelSelector MapSelector(const json::value* map) {
  if (!map || !map->is_object() || map->as_object().empty()) return LabelSelector::Nothing();
  std::map<std::string, std::string> m;
  for (const auto& [k, v] : map->as_object()) {
    if (v.is_string()) m[std::string(k)] = std::string(v.as_string());
  }
  return LabelSelector::FromSet(m);
}

bool LabelsMatch(const LabelSelector& s, const json::object& obj) { return s.Matches(Labels(obj)); }

}  // namespace kite::api
