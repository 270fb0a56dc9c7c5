// Strategic merge patch: the input is "<document>\0<patch>" (or only a patch, applied to a fixed
// Deployment), optionally preceded by one byte 0x01..0x05 choosing the schema type (Deployment,
// Pod, Node, Service, none). Must not crash; the text and value forms agree; applying is
// deterministic; directives the patch carries never reach the result; and without a schema a
// patch free of directives and of objects inside arrays gives the JSON merge patch result.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <boost/json/value.hpp>

#include "api/json_text.h"
#include "api/merge_patch.h"
#include "api/strategic_merge.h"

namespace {

namespace json = boost::json;

bool IsDirectiveKey(std::string_view k) {
  return k == "$patch" || k == "$retainKeys" || k.substr(0, 16) == "$setElementOrder" ||
         k.substr(0, 24) == "$deleteFromPrimitiveList";
}

bool HasDirectiveKey(const json::value& v) {
  if (v.is_object()) {
    for (const auto& kv : v.get_object()) {
      if (IsDirectiveKey(kv.key()) || HasDirectiveKey(kv.value())) return true;
    }
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) {
      if (HasDirectiveKey(e)) return true;
    }
  }
  return false;
}

// No key starting with '$' anywhere, and no object inside an array.
bool IsPlain(const json::value& v, bool in_array) {
  if (v.is_object()) {
    if (in_array) return false;
    for (const auto& kv : v.get_object()) {
      if (!kv.key().empty() && kv.key()[0] == '$') return false;
      if (!IsPlain(kv.value(), false)) return false;
    }
  } else if (v.is_array()) {
    for (const auto& e : v.get_array()) {
      if (!IsPlain(e, true)) return false;
    }
  }
  return true;
}

const kite::api::schema::Type* PickType(uint8_t b) {
  using kite::api::schema::TypeForKind;
  switch (b) {
    case 1: return TypeForKind("apps", "v1", "Deployment");
    case 2: return TypeForKind("", "v1", "Pod");
    case 3: return TypeForKind("", "v1", "Node");
    case 4: return TypeForKind("", "v1", "Service");
    default: return nullptr;
  }
}

constexpr std::string_view kDefaultDocument = R"({"metadata":{"name":"d","labels":{"a":"b"},"finalizers":["x","y"]},
"spec":{"replicas":1,"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}},
"template":{"spec":{"containers":[{"name":"a","image":"i","env":[{"name":"E","value":"1"}],
"ports":[{"containerPort":80}]},{"name":"b","args":["1","2"]}],"volumes":[{"name":"v","emptyDir":{}}],
"tolerations":[{"key":"k"}]}}}})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using kite::api::ApplyStrategicMergePatch;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  const kite::api::schema::Type* type = PickType(1);
  if (!input.empty() && input[0] >= 1 && input[0] <= 5) {
    type = PickType(static_cast<uint8_t>(input[0]));
    input.remove_prefix(1);
  }
  std::string_view doc_text = kDefaultDocument;
  std::string_view patch_text = input;
  if (size_t nul = input.find('\0'); nul != std::string_view::npos) {
    doc_text = input.substr(0, nul);
    patch_text = input.substr(nul + 1);
  }
  auto text_result = ApplyStrategicMergePatch(doc_text, patch_text, type);
  auto doc = kite::api::ParseJson(doc_text);
  auto patch = kite::api::ParseJson(patch_text);
  if (!doc.ok() || !patch.ok() || !doc->is_object() || !patch->is_object()) return 0;

  auto result = ApplyStrategicMergePatch(doc->get_object(), patch->get_object(), type);
  auto again = ApplyStrategicMergePatch(doc->get_object(), patch->get_object(), type);
  if (result.ok() != again.ok() || result.ok() != text_result.ok()) std::abort();
  if (!result.ok()) {
    if (result.status() != again.status() || result.status() != text_result.status()) std::abort();
    return 0;
  }
  if (*result != *again || *result != *text_result) std::abort();
  json::value out(*result);
  if (!HasDirectiveKey(*doc) && HasDirectiveKey(out)) std::abort();
  if (type == nullptr && IsPlain(*patch, false)) {
    if (out != kite::api::ApplyMergePatch(*doc, *patch)) std::abort();
  }
  return 0;
}
