#include "datastore/types.h"

namespace kite::datastore {

const std::string& KeyValue::value_or_empty() const {
  static const std::string kEmpty;
  return value ? *value : kEmpty;
}

bool InRange(const std::string& key, const std::string& begin, const std::string& end) {
  if (end.empty()) return key == begin;
  if (end == std::string(1, '\0')) return key >= begin;  // "from key": every key >= begin
  return key >= begin && key < end;
}

}  // namespace kite::datastore
