// Hand-written: RFC 7386 is a few lines on Boost.JSON values, which the object model uses
// throughout; pulling in a second JSON library for it would cost a conversion per patch.
#include "api/merge_patch.h"

#include "api/json_text.h"

namespace kite::api {
namespace {

namespace json = boost::json;

// RFC 7386 MergePatch(Target, Patch), in place on `target`.
void MergeInto(json::value& target, const json::value& patch) {
  if (!patch.is_object()) {
    target = patch;
    return;
  }
  if (!target.is_object()) target = json::object();
  auto& obj = target.get_object();
  for (const auto& [key, value] : patch.get_object()) {
    if (value.is_null()) {
      obj.erase(key);
      continue;
    }
    // A member the target lacks is merged into null, which the recursion turns into {} for
    // object patches (dropping their nulls) and replaces otherwise.
    auto [it, inserted] = obj.emplace(key, nullptr);
    MergeInto(it->value(), value);
  }
}

}  // namespace

json::value ApplyMergePatch(const json::value& doc, const json::value& patch) {
  json::value result = doc;
  MergeInto(result, patch);
  return result;
}

Result<json::value> ApplyMergePatch(std::string_view doc_json, std::string_view patch_json) {
  auto doc = ParseJson(doc_json);
  if (!doc.ok()) return Status(Code::kInvalidArgument, "Invalid JSON Document");
  auto patch = ParseJson(patch_json);
  if (!patch.ok()) return Status(Code::kInvalidArgument, "Invalid JSON Patch");
  return ApplyMergePatch(*doc, *patch);
}

json::value CreateMergePatch(const json::value& original, const json::value& modified) {
  if (!original.is_object() || !modified.is_object()) return modified;
  json::object patch;
  const auto& a = original.get_object();
  const auto& b = modified.get_object();
  for (const auto& [key, bv] : b) {
    const json::value* av = a.if_contains(key);
    if (av == nullptr) {
      patch[key] = bv;
    } else if (av->is_object() && bv.is_object()) {
      json::value sub = CreateMergePatch(*av, bv);
      if (!sub.get_object().empty()) patch[key] = std::move(sub);
    } else if (*av != bv) {
      patch[key] = bv;
    }
  }
  for (const auto& [key, av] : a) {
    if (!b.contains(key)) patch[key] = nullptr;
  }
  return patch;
}

}  // namespace kite::api
