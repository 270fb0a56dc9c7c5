// JSON patch: the input is "<document>\0<patch>" (or only a patch, applied to a fixed document).
// Must not crash; the document must be left untouched; applying is deterministic; the result
// survives a serialise/parse round trip; and the result is bounded as api/json_patch.h promises:
// at most |document| + 2·|patch| + the copy bound (a small bound here, so that the fuzzer reaches
// it with small inputs), whatever the copies do.
#include <boost/json/serialize.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/json_patch.h"
#include "api/json_text.h"

// Boost.JSON 1.81 parses floating-point numbers fast, not correctly rounded, so a double may come
// back one ulp off after serialise/parse. The round-trip check is for structure and strings; it
// skips documents holding doubles.
static bool HasDouble(const boost::json::value& v) {
  if (v.is_double()) return true;
  if (v.is_array()) {
    for (const auto& e : v.get_array()) if (HasDouble(e)) return true;
  } else if (v.is_object()) {
    for (const auto& kv : v.get_object()) if (HasDouble(kv.value())) return true;
  }
  return false;
}

constexpr int64_t kCopyBound = 4096;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view doc_text = R"({"a":[1,{"b":null}],"c":"d","e":{"f":{"g":[]}}})";
  std::string_view patch_text = input;
  if (size_t nul = input.find('\0'); nul != std::string_view::npos) {
    doc_text = input.substr(0, nul);
    patch_text = input.substr(nul + 1);
  }
  auto doc = kite::api::ParseJson(doc_text);
  if (!doc.ok()) return 0;
  const boost::json::value before = *doc;
  auto out = kite::api::ApplyJsonPatch(*doc, patch_text);
  if (!(*doc == before)) std::abort();
  kite::api::JsonPatchOptions small;
  small.max_copy_bytes = kCopyBound;
  auto bounded = kite::api::ApplyJsonPatch(*doc, patch_text, small);
  if (bounded.ok()) {
    const size_t limit = boost::json::serialize(*doc).size() + 2 * patch_text.size() + kCopyBound;
    if (boost::json::serialize(*bounded).size() > limit) std::abort();
  }
  auto again = kite::api::ApplyJsonPatch(*doc, patch_text);
  if (out.ok() != again.ok()) std::abort();
  if (!out.ok()) {
    if (out.status().message() != again.status().message()) std::abort();
    return 0;
  }
  if (!(*out == *again)) std::abort();
  if (HasDouble(*out)) return 0;
  auto reparsed = kite::api::ParseJson(boost::json::serialize(*out));
  if (reparsed.ok() && !(*reparsed == *out)) std::abort();
  return 0;
}
