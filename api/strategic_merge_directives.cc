// The strategic merge patch's directives (strategic_merge.h lists them): "$patch" in objects
// and list items, "$retainKeys", "$setElementOrder/<list>". The merge itself
// (strategic_merge.cc) calls these where upstream's mergeMap and mergeSlice handle them.
#include <boost/json.hpp>

#include <string>
#include <unordered_set>
#include <vector>

#include "api/strategic_merge_internal.h"

namespace kite::api::smp {
namespace {

// Upstream's validatePatchWithSetOrderList: the patch list's items (deletions and other
// directive items aside) appear in the $setElementOrder list, in the same relative order.
Status ValidatePatchWithSetOrderList(const json::array* patch_list, const json::array& order, std::string_view key) {
  if (order.empty() || !patch_list || patch_list->empty()) return Status::Ok();
  std::vector<const json::value*> items;
  for (const auto& item : *patch_list) {
    if (!key.empty()) {
      if (!item.is_object()) return ErrBadArgType(kGoMap, item);
      if (IsDeleteDirective(item)) continue;
    }
    items.push_back(&item);
  }
  size_t p = 0, s = 0;
  while (p < items.size() && s < order.size()) {
    const json::value& item = *items[p];
    if (HasDirectiveMarker(item)) {
      ++p;
      continue;
    }
    bool equal;
    if (key.empty()) {
      equal = item == order[s];
    } else {
      if (!item.is_object()) return ErrBadArgType(kGoMap, item);
      if (!order[s].is_object()) return ErrBadArgType(kGoMap, order[s]);
      const json::value* left = item.get_object().if_contains(key);
      if (!left) return ErrNoMergeKey(item.get_object(), key);
      const json::value* right = order[s].get_object().if_contains(key);
      if (!right) return ErrNoMergeKey(order[s].get_object(), key);
      equal = *left == *right;
    }
    if (equal) ++p;
    ++s;
  }
  if (p < items.size() && s >= order.size()) {
    return InvalidPatch("The order in patch list:\n" + GoV(patch_list) + "\n doesn't match " +
                   std::string(kSetElementOrderPrefix) + " list:\n" + GoV(&order) + "\n");
  }
  return Status::Ok();
}

// Upstream's mergePatchIntoOriginal for one "$setElementOrder/<list_key>" directive: merges the
// patch's list (if any) into the original's (if any) and puts the result in the directive's order.
Status ApplySetElementOrder(json::object& target, const json::object& patch, Ctx ctx, std::string_view list_key,
                            const json::array& order, int depth) {
  const json::value* original = target.if_contains(list_key);
  const json::value* patch_value = patch.if_contains(list_key);
  if (original && !original->is_array()) return ErrBadArgType(kGoSlice, *original);
  if (patch_value && !patch_value->is_array()) return ErrBadArgType(kGoSlice, *patch_value);
  const json::array* original_list = original ? &original->get_array() : nullptr;
  const json::array* patch_list = patch_value ? &patch_value->get_array() : nullptr;
  const Meta meta = MemberMeta(ctx, list_key);
  const std::string_view key = meta.merge_key;
  SMP_RETURN_IF_ERROR(ValidatePatchWithSetOrderList(patch_list, order, key));
  if (!original_list && !patch_list) return Status::Ok();

  json::array merged;
  if (original_list) merged = *original_list;
  if (patch_list) SMP_RETURN_IF_ERROR(MergeListMember(merged, *patch_list, meta, false, depth + 1));

  // Split into the items the directive names and the rest.
  std::vector<json::value> patch_items, server_only;
  if (key.empty()) {
    Positions named = FirstPositions(order, Identity{});
    for (auto& v : merged) (named.count(v) ? patch_items : server_only).push_back(std::move(v));
  } else {
    Positions named;
    for (size_t i = 0; i < order.size(); ++i) {
      if (!order[i].is_object()) {
        if (merged.empty()) break;
        return InvalidPatch("value for key " + std::to_string(i) + " is not a map");
      }
      if (const json::value* kv = order[i].get_object().if_contains(key)) named.emplace(*kv, i);
    }
    for (auto& v : merged) {
      if (!v.is_object()) return ErrBadArgType(kGoMap, v);
      const json::value* kv = v.get_object().if_contains(key);
      if (!kv) return ErrNoMergeKey(v.get_object(), key);
      (named.count(*kv) ? patch_items : server_only).push_back(std::move(v));
    }
  }

  GoKind kind = GoKind::kNil;
  bool any = false;
  SMP_RETURN_IF_ERROR(SliceElementKind(original_list, patch_list, &kind, &any));
  const bool by_key = any && kind == GoKind::kMap;
  if (by_key) {
    SMP_RETURN_IF_ERROR(ValidateMergeKey(key, patch_items));
    SMP_RETURN_IF_ERROR(ValidateMergeKey(key, order));
    SMP_RETURN_IF_ERROR(ValidateMergeKey(key, server_only));
    if (original_list) SMP_RETURN_IF_ERROR(ValidateMergeKey(key, *original_list));
  }
  const Identity id{by_key, key};
  Positions server_order = original_list ? FirstPositions(*original_list, id) : Positions();
  json::array ordered = NormalizeElementOrder(std::move(patch_items), std::move(server_only),
                                              FirstPositions(order, id), server_order, id);
  target[list_key] = std::move(ordered);
  return Status::Ok();
}

}  // namespace

Status ApplyObjectPatchDirective(json::object& target, const json::object& patch, bool* done) {
  *done = false;
  const json::value* directive = patch.if_contains(kDirectiveMarker);
  if (!directive) return Status::Ok();
  if (IsString(*directive, kDeleteDirective)) {
    target.clear();
    *done = true;
    return Status::Ok();
  }
  if (!IsString(*directive, kReplaceDirective)) return ErrBadPatchType(*directive, patch);
  // Replace: the rest of the patch merged into nothing. The member loop skips "$patch".
  target.clear();
  return Status::Ok();
}

Status TakeListDirectives(json::array& target, const json::array& patch, std::string_view key,
                          std::vector<const json::object*>* items, bool* replace) {
  *replace = false;
  for (const auto& e : patch) {
    const json::object& o = e.get_object();
    const json::value* directive = o.if_contains(kDirectiveMarker);
    if (!directive) {
      items->push_back(&o);
    } else if (IsString(*directive, kDeleteDirective)) {
      const json::value* doomed = o.if_contains(key);
      if (!doomed) return ErrNoMergeKey(o, key);
      json::array kept;
      for (auto& t : target) {
        const json::value* tv = t.get_object().if_contains(key);
        if (!tv || *tv != *doomed) kept.push_back(std::move(t));
      }
      target = std::move(kept);
    } else if (IsString(*directive, kReplaceDirective)) {
      *replace = true;  // keep going: the other directive items are still checked
    } else if (IsString(*directive, kMergeDirective)) {
      return InvalidPatch("merging lists cannot yet be specified in the patch");
    } else {
      return ErrBadPatchType(*directive, o);
    }
  }
  return Status::Ok();
}

Status ApplyRetainKeys(json::object& target, const json::object& patch, const json::value& directive) {
  if (!directive.is_array()) return ErrBadPatchFormatForRetainKeys();
  std::unordered_set<std::string_view> retained;
  for (const auto& k : directive.get_array()) {
    if (!k.is_string()) return ErrBadPatchFormatForRetainKeys();
    retained.insert(std::string_view(k.get_string()));
  }
  for (const auto& [k, v] : patch) {
    std::string_view key = k;
    if (key == kDirectiveMarker || key == kRetainKeysDirective || v.is_null() ||
        StartsWith(key, kDeleteFromPrimitiveListPrefix) || StartsWith(key, kSetElementOrderPrefix)) {
      continue;
    }
    if (!retained.count(key)) return ErrBadPatchFormatForRetainKeys();
  }
  json::object kept(target.storage());
  kept.reserve(target.size());
  for (auto& kv : target) {
    if (retained.count(std::string_view(kv.key()))) kept.emplace(kv.key(), std::move(kv.value()));
  }
  target = std::move(kept);
  return Status::Ok();
}

Status ApplySetElementOrders(json::object& target, const json::object& patch, Ctx ctx, int depth,
                             std::vector<std::string_view>* ordered) {
  for (const auto& [k, v] : patch) {
    if (!StartsWith(k, kSetElementOrderPrefix)) continue;
    if (!v.is_array()) return ErrBadArgType(kGoSlice, v);
    std::string_view list_key;
    if (!ExtractKey(k, kSetElementOrderPrefix, &list_key)) return ErrBadPatchFormatForSetElementOrderList();
    SMP_RETURN_IF_ERROR(ApplySetElementOrder(target, patch, ctx, list_key, v.get_array(), depth));
    ordered->push_back(list_key);
  }
  return Status::Ok();
}

}  // namespace kite::api::smp
