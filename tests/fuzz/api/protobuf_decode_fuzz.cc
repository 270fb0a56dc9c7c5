// Protobuf request bodies: input starting with the k8s\0 magic is decoded as an envelope;
// anything else picks a built-in type by its first byte and decodes the rest as one message of
// that type (reaching deep types without having to spell an envelope). Must not crash, leak or
// hang; decoding is deterministic; what decodes is JSON that re-parses to itself.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <boost/json/serialize.hpp>

#include "api/json_text.h"
#include "api/protobuf_decode.h"

namespace {

// Equal, except that doubles may differ in the last bits: Boost.JSON's default number parsing
// is not exact, so a raw JSON "5E90" and its re-serialised spelling may land one ulp apart.
bool SameJson(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_double() && b.is_double()) {
    const double x = a.get_double(), y = b.get_double();
    return x == y || std::fabs(x - y) <= 1e-12 * std::fmax(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind()) return false;
  if (a.is_array()) {
    const auto &x = a.get_array(), &y = b.get_array();
    if (x.size() != y.size()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (!SameJson(x[i], y[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    const auto &x = a.get_object(), &y = b.get_object();
    if (x.size() != y.size()) return false;
    for (const auto& kv : x) {
      const boost::json::value* other = y.if_contains(kv.key());
      if (other == nullptr || !SameJson(kv.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

// What decodes is valid JSON text (UTF-8, finite numbers) that reads back as itself.
void CheckJson(const boost::json::object& object) {
  auto reparsed = kite::api::ParseJson(boost::json::serialize(object));
  if (!reparsed.ok() || !SameJson(*reparsed, object)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  if (input.substr(0, kite::api::kProtobufMagic.size()) == kite::api::kProtobufMagic) {
    auto first = kite::api::DecodeProtobufEnvelope(input);
    auto second = kite::api::DecodeProtobufEnvelope(input);
    if (first.ok() != second.ok()) std::abort();
    if (!first.ok()) {
      if (first.status().code() != kite::Code::kInvalidArgument || !(first.status() == second.status())) std::abort();
      return 0;
    }
    if (!(first->object == second->object)) std::abort();
    const auto* api_version = first->object.if_contains("apiVersion");
    const auto* kind = first->object.if_contains("kind");
    if (!api_version || !kind || !api_version->is_string() || !kind->is_string() ||
        api_version->get_string() != first->api_version || kind->get_string() != first->kind) {
      std::abort();
    }
    CheckJson(first->object);
    return 0;
  }
  if (input.empty()) return 0;
  const auto& types = kite::api::schema::AllTypes();
  const kite::api::schema::Type& t = *types[static_cast<uint8_t>(input[0]) * types.size() / 256];
  auto result = kite::api::DecodeProtobufMessage(input.substr(1), t);
  if (!result.ok()) {
    if (result.status().code() != kite::Code::kInvalidArgument) std::abort();
    return 0;
  }
  CheckJson(*result);
  return 0;
}
