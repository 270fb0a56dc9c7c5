// CRD structural schemas and printer-column JSONPath: the input is "<schema>\0<object>\0<path>"
// (missing parts use fixed ones). Validation and pruning never crash, pruning is idempotent
// (a second pass finds no unknown fields), and JSONPath evaluation never crashes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <boost/json.hpp>

#include "api/json_schema.h"
#include "api/json_text.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view parts[3] = {R"({"type":"object","properties":{"spec":{"type":"object","properties":{"a":{"type":"integer"}}}}})",
                               R"({"spec":{"a":1,"b":2}})", ".spec.a"};
  for (int i = 0; i < 3 && !input.empty(); ++i) {
    size_t nul = input.find('\0');
    parts[i] = input.substr(0, nul);
    input = nul == std::string_view::npos ? std::string_view() : input.substr(nul + 1);
  }
  auto schema = kite::api::ParseJson(parts[0]);
  auto object = kite::api::ParseJson(parts[1]);
  if (schema.ok() && object.ok() && schema->is_object() && object->is_object()) {
    boost::json::object obj = object->as_object();
    kite::api::CheckAgainstJsonSchema(obj, schema->as_object());
    auto again = kite::api::CheckAgainstJsonSchema(obj, schema->as_object());
    if (!again.unknown_fields.empty()) std::abort();
  }
  if (object.ok()) (void)kite::api::EvalJsonPath(*object, parts[2]);
  return 0;
}
