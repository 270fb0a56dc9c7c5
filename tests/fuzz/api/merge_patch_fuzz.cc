// JSON merge patch: the input is "<document>\0<patch>" (or only a patch, applied to a fixed
// document). Must not crash; merge patches are idempotent; a patch computed by
// CreateMergePatch reproduces the merged document.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "api/json_text.h"
#include "api/merge_patch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kite::api::ApplyMergePatch;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  std::string_view doc_text = R"({"a":{"b":1,"n":null},"c":[1,null],"d":"x"})";
  std::string_view patch_text = input;
  if (size_t nul = input.find('\0'); nul != std::string_view::npos) {
    doc_text = input.substr(0, nul);
    patch_text = input.substr(nul + 1);
  }
  auto text_result = ApplyMergePatch(doc_text, patch_text);
  auto doc = kite::api::ParseJson(doc_text);
  auto patch = kite::api::ParseJson(patch_text);
  if (!doc.ok() || !patch.ok()) {
    if (text_result.ok()) std::abort();
    return 0;
  }
  boost::json::value merged = ApplyMergePatch(*doc, *patch);
  if (!text_result.ok() || !(*text_result == merged)) std::abort();
  if (!(ApplyMergePatch(merged, *patch) == merged)) std::abort();  // idempotent
  boost::json::value diff = kite::api::CreateMergePatch(*doc, merged);
  if (!(ApplyMergePatch(*doc, diff) == merged)) std::abort();
  return 0;
}
