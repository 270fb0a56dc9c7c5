// Strategic merge patch: our own implementation of the apply half of upstream's
// k8s.io/apimachinery/pkg/util/strategicpatch, on Boost.JSON values, driven by api/schema.h.
// The contract is in strategic_merge.h; upstream's function names are mentioned where the
// behaviour (an error text, an ordering rule) is theirs, so the two can be compared.
// This file: the merge of objects and lists, list order, what the schema says about a member.
// The directives are strategic_merge_directives.cc's, the error texts strategic_merge_errors.cc's.
#include "api/strategic_merge.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "api/json_text.h"
#include "api/strategic_merge_internal.h"

namespace kite::api::smp {

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool IsString(const json::value& v, std::string_view s) { return v.is_string() && v.get_string() == s; }

bool ExtractKey(std::string_view s, std::string_view prefix, std::string_view* key) {
  size_t slash = s.find('/');
  if (slash == std::string_view::npos || s.substr(0, slash) != prefix) return false;
  *key = s.substr(slash + 1);
  return true;
}

bool HasDirectiveMarker(const json::value& v) {
  return v.is_object() && v.get_object().contains(kDirectiveMarker);
}
bool IsDeleteDirective(const json::value& v) {
  if (!v.is_object()) return false;
  const json::value* d = v.get_object().if_contains(kDirectiveMarker);
  return d && IsString(*d, kDeleteDirective);
}

const json::value& NullValue() {
  static const json::value null;
  return null;
}

namespace {

GoKind Classify(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return GoKind::kNil;
    case json::kind::bool_: return GoKind::kBool;
    case json::kind::int64: return GoKind::kInt;
    case json::kind::uint64:
    case json::kind::double_: return GoKind::kFloat;
    case json::kind::string: return GoKind::kString;
    case json::kind::array: return GoKind::kSlice;
    case json::kind::object: return GoKind::kMap;
  }
  return GoKind::kNil;
}

constexpr size_t kAbsent = std::numeric_limits<size_t>::max();

size_t Rank(const Positions& p, const json::value& identity) {
  auto it = p.find(identity);
  return it == p.end() ? kAbsent : it->second;
}

}  // namespace

Status SliceElementKind(const json::array* a, const json::array* b, GoKind* kind, bool* any) {
  *any = false;
  for (const json::array* list : {a, b}) {
    if (!list) continue;
    for (const auto& v : *list) {
      GoKind k = Classify(v);
      if (!*any) {
        *any = true;
        *kind = k;
        if (k == GoKind::kSlice) return ErrNoListOfLists();
      } else if (k != *kind) {
        return InvalidPatch("list element types are not identical: [" + GoV(a) + " " + GoV(b) + "]");
      }
    }
  }
  return Status::Ok();
}

// Hash consistent with json::value's operator== (composite values all land in one bucket per

Positions FirstPositions(const json::array& list, const Identity& id) {
  Positions p;
  p.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) p.emplace(id(list[i]), i);
  return p;
}

json::array NormalizeElementOrder(std::vector<json::value> patch_items, std::vector<json::value> server_only,
                                  const Positions& patch_order, const Positions& server_order,
                                  const Identity& id) {
  auto sort_by = [&](std::vector<json::value>& items, const Positions& order) {
    std::vector<std::pair<size_t, size_t>> ranked;  // (rank, index); unknown items go last
    ranked.reserve(items.size());
    for (size_t i = 0; i < items.size(); ++i) ranked.emplace_back(Rank(order, id(items[i])), i);
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<json::value> sorted;
    sorted.reserve(items.size());
    for (const auto& r : ranked) sorted.push_back(std::move(items[r.second]));
    items = std::move(sorted);
  };
  sort_by(patch_items, patch_order);
  sort_by(server_only, server_order);

  std::vector<size_t> left_rank, right_rank;
  for (const auto& v : server_only) left_rank.push_back(Rank(server_order, id(v)));
  for (const auto& v : patch_items) right_rank.push_back(Rank(server_order, id(v)));
  json::array out;
  out.reserve(patch_items.size() + server_only.size());
  size_t i = 0, j = 0;
  while (i < server_only.size() || j < patch_items.size()) {
    bool take_left;
    if (i >= server_only.size()) {
      take_left = false;
    } else if (j >= patch_items.size()) {
      take_left = true;
    } else {
      take_left = left_rank[i] != kAbsent && right_rank[j] != kAbsent && left_rank[i] < right_rank[j];
    }
    if (take_left) {
      out.push_back(std::move(server_only[i++]));
    } else {
      out.push_back(std::move(patch_items[j++]));
    }
  }
  return out;
}

Status ValidateMergeKey(std::string_view key, const json::array& list) {
  for (const auto& item : list) {
    if (!item.is_object()) return ErrBadArgType(kGoMap, item);
    if (!item.get_object().contains(key)) return ErrNoMergeKey(item.get_object(), key);
  }
  return Status::Ok();
}
Status ValidateMergeKey(std::string_view key, const std::vector<json::value>& list) {
  for (const auto& item : list) {
    if (!item.is_object()) return ErrBadArgType(kGoMap, item);
    if (!item.get_object().contains(key)) return ErrNoMergeKey(item.get_object(), key);
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// What the schema says about a value.

Meta MemberMeta(Ctx ctx, std::string_view key) {
  Meta m;
  m.name = key;
  if (ctx.map) {
    m.type = ctx.type;  // map values carry no strategy of their own
    return m;
  }
  if (!ctx.type) return m;
  const schema::Field* f = ctx.type->Find(key);
  if (!f) return m;  // unknown field: schema-less below
  if (f->kind == schema::ValueKind::kMessage) m.type = f->type;
  m.map = f->map;
  std::string_view strategies = f->patch_strategy;
  while (!strategies.empty()) {
    size_t comma = strategies.find(',');
    std::string_view s = strategies.substr(0, comma);
    if (s == kMergeDirective) m.merge = true;
    if (s == kReplaceDirective) m.replace = true;
    strategies = comma == std::string_view::npos ? std::string_view() : strategies.substr(comma + 1);
  }
  m.merge_key = f->patch_merge_key;
  return m;
}

namespace {

Ctx ObjectCtx(const Meta& m) { return Ctx{m.type, m.map}; }

// The items of a list: objects of the list's type, no strategy.
Meta ItemMeta(const Meta& m) {
  Meta item;
  item.type = m.type;
  item.name = m.name;
  return item;
}

// ---------------------------------------------------------------------------------------------
// The merge.

Status MergeObject(json::object& target, const json::object& patch, Ctx ctx, int depth);
Status MergeList(json::array& target, const json::array& patch, const Meta& meta, bool delete_list, int depth);

// A value the patch introduces whole (the original lacks the key, or the value replaces one of
// another kind, or a list without merge strategy): merged into an empty value of its kind, so
// its directives are processed and its null members dropped. `*keep` is false for
// {"$patch":"delete"}, which introduces nothing.
Status NewValue(const json::value& v, const Meta& meta, int depth, json::value& out, bool* keep);

// A list without merge strategy: replaced by the patch's items, each introduced whole.
Status NewList(const json::array& patch, const Meta& meta, int depth, json::array& out) {
  if (depth > kMaxDepth) return ErrTooDeep();
  Meta item = ItemMeta(meta);
  out.reserve(patch.size());
  for (const auto& e : patch) {
    json::value v;
    bool keep = true;
    SMP_RETURN_IF_ERROR(NewValue(e, item, depth + 1, v, &keep));
    if (keep) out.push_back(std::move(v));
  }
  return Status::Ok();
}

Status NewValue(const json::value& v, const Meta& meta, int depth, json::value& out, bool* keep) {
  *keep = true;
  if (depth > kMaxDepth) return ErrTooDeep();
  if (v.is_object()) {
    if (IsDeleteDirective(v)) {
      *keep = false;
      return Status::Ok();
    }
    json::object o;
    SMP_RETURN_IF_ERROR(MergeObject(o, v.get_object(), ObjectCtx(meta), depth));
    out = std::move(o);
  } else if (v.is_array()) {
    json::array a;
    if (meta.merge) {
      SMP_RETURN_IF_ERROR(MergeList(a, v.get_array(), meta, false, depth));
    } else {
      SMP_RETURN_IF_ERROR(NewList(v.get_array(), meta, depth, a));
    }
    out = std::move(a);
  } else {
    out = v;
  }
  return Status::Ok();
}

}  // namespace

Status MergeListMember(json::array& target, const json::array& patch, const Meta& meta, bool delete_list,
                       int depth) {
  if (meta.merge || delete_list) return MergeList(target, patch, meta, delete_list, depth);
  json::array replaced;
  SMP_RETURN_IF_ERROR(NewList(patch, meta, depth, replaced));
  target = std::move(replaced);
  return Status::Ok();
}

namespace {

// Upstream's mergeSlice.
Status MergeList(json::array& target, const json::array& patch, const Meta& meta, bool delete_list, int depth) {
  if (depth > kMaxDepth) return ErrTooDeep();
  if (target.empty() && patch.empty()) return Status::Ok();
  GoKind kind = GoKind::kNil;
  bool any = false;
  SMP_RETURN_IF_ERROR(SliceElementKind(&target, &patch, &kind, &any));

  if (kind != GoKind::kMap) {
    const Identity self;
    if (delete_list) {
      // $deleteFromPrimitiveList: drop every occurrence of the listed values.
      ValueSet doomed(patch.begin(), patch.end());
      json::array kept;
      for (auto& v : target) {
        if (!doomed.count(v)) kept.push_back(std::move(v));
      }
      target = std::move(kept);
      return Status::Ok();
    }
    // The union of both, each value once, then put in order.
    Positions server_order = FirstPositions(target, self);
    Positions patch_order = FirstPositions(patch, self);
    ValueSet seen;
    std::vector<json::value> patch_items, server_only;
    auto add = [&](const json::value& v) {
      if (!seen.insert(v).second) return;
      (patch_order.count(v) ? patch_items : server_only).push_back(v);
    };
    for (const auto& v : target) add(v);
    for (const auto& v : patch) add(v);
    target = NormalizeElementOrder(std::move(patch_items), std::move(server_only), patch_order, server_order, self);
    return Status::Ok();
  }

  // Lists of objects, merged on the merge key.
  if (delete_list) return ErrBadPatchFormatForPrimitiveList();  // upstream would merge them instead
  if (meta.merge_key.empty()) {
    return InvalidPatch("cannot merge lists without merge key for " + std::string(meta.name));
  }
  const std::string_view key = meta.merge_key;
  const Identity by_key{true, key};
  const Ctx item_ctx{meta.type, false};

  // Directive items first (upstream's mergeSliceWithSpecialElements; strategic_merge_directives.cc).
  bool replace = false;
  std::vector<const json::object*> items;
  SMP_RETURN_IF_ERROR(TakeListDirectives(target, patch, key, &items, &replace));

  if (replace) {
    json::array replaced;
    replaced.reserve(items.size());
    for (const json::object* o : items) {
      json::object item;
      SMP_RETURN_IF_ERROR(MergeObject(item, *o, item_ctx, depth + 1));
      replaced.push_back(std::move(item));
    }
    SMP_RETURN_IF_ERROR(ValidateMergeKey(key, replaced));
    target = std::move(replaced);
    return Status::Ok();
  }

  // Merge each patch item into the first original item with its key, or append it.
  Positions server_order;
  for (size_t i = 0; i < target.size(); ++i) {
    if (const json::value* tv = target[i].get_object().if_contains(key)) server_order.emplace(*tv, i);
  }
  Positions position = server_order;  // where each key is now (appended items included)
  Positions patch_order;
  for (size_t i = 0; i < items.size(); ++i) {
    const json::value* kv = items[i]->if_contains(key);
    if (!kv) return ErrNoMergeKey(*items[i], key);
    patch_order.emplace(*kv, i);
    auto it = position.find(*kv);
    if (it != position.end()) {
      SMP_RETURN_IF_ERROR(MergeObject(target[it->second].get_object(), *items[i], item_ctx, depth + 1));
    } else {
      json::object item;
      SMP_RETURN_IF_ERROR(MergeObject(item, *items[i], item_ctx, depth + 1));
      position.emplace(*kv, target.size());
      target.push_back(std::move(item));
    }
  }

  std::vector<json::value> patch_items, server_only;
  for (auto& t : target) {
    const json::value* tv = t.get_object().if_contains(key);
    if (!tv) return ErrNoMergeKey(t.get_object(), key);
    (patch_order.count(*tv) ? patch_items : server_only).push_back(std::move(t));
  }
  target = NormalizeElementOrder(std::move(patch_items), std::move(server_only), patch_order, server_order, by_key);
  return Status::Ok();
}

// Upstream's mergeMap, in place on `target`.
Status MergeObject(json::object& target, const json::object& patch, Ctx ctx, int depth) {
  if (depth > kMaxDepth) return ErrTooDeep();
  // The directives first (strategic_merge_directives.cc); the member loop below skips them.
  bool done = false;
  SMP_RETURN_IF_ERROR(ApplyObjectPatchDirective(target, patch, &done));
  if (done) return Status::Ok();
  if (const json::value* retain = patch.if_contains(kRetainKeysDirective)) {
    SMP_RETURN_IF_ERROR(ApplyRetainKeys(target, patch, *retain));
  }
  // $setElementOrder directives merge and order their lists; the loop below skips those lists.
  std::vector<std::string_view> ordered_lists;
  SMP_RETURN_IF_ERROR(ApplySetElementOrders(target, patch, ctx, depth, &ordered_lists));

  for (const auto& [k, v] : patch) {
    std::string_view key = k;
    if (key == kDirectiveMarker || key == kRetainKeysDirective || StartsWith(key, kSetElementOrderPrefix)) continue;
    if (std::find(ordered_lists.begin(), ordered_lists.end(), key) != ordered_lists.end()) continue;
    bool delete_list = false;
    if (StartsWith(key, kDeleteFromPrimitiveListPrefix)) {
      if (!ExtractKey(key, kDeleteFromPrimitiveListPrefix, &key)) return ErrBadPatchFormatForPrimitiveList();
      delete_list = true;
    }
    if (v.is_null()) {  // upstream deletes the list for a null $deleteFromPrimitiveList too
      target.stable_erase(key);
      continue;
    }
    if (delete_list && !v.is_array()) return ErrBadPatchFormatForPrimitiveList();
    const Meta meta = MemberMeta(ctx, key);
    auto it = target.find(key);
    if (it == target.end()) {
      if (delete_list) continue;  // nothing to delete from
      json::value introduced;
      bool keep = true;
      SMP_RETURN_IF_ERROR(NewValue(v, meta, depth + 1, introduced, &keep));
      if (keep) target.emplace(key, std::move(introduced));
      continue;
    }
    json::value& current = it->value();
    if (current.is_object() && v.is_object() && !meta.replace) {
      SMP_RETURN_IF_ERROR(MergeObject(current.get_object(), v.get_object(), ObjectCtx(meta), depth + 1));
    } else if (current.is_array() && v.is_array()) {
      SMP_RETURN_IF_ERROR(MergeListMember(current.get_array(), v.get_array(), meta, delete_list, depth + 1));
    } else if (!delete_list) {
      json::value replaced;
      bool keep = true;
      SMP_RETURN_IF_ERROR(NewValue(v, meta, depth + 1, replaced, &keep));
      if (keep) {
        current = std::move(replaced);
      } else {
        target.stable_erase(it);
      }
    }
  }
  return Status::Ok();
}

std::string_view GoJsonKind(const json::value& v) {
  switch (v.kind()) {
    case json::kind::array: return "array";
    case json::kind::string: return "string";
    case json::kind::bool_: return "bool";
    case json::kind::object: return "object";
    case json::kind::null: return "null";
    default: return "number";
  }
}

}  // namespace
}  // namespace kite::api::smp

namespace kite::api {
namespace json = boost::json;
Result<json::object> ApplyStrategicMergePatch(const json::object& original, const json::object& patch,
                                              const schema::Type* type) {
  json::object result = original;
  Status s = smp::MergeObject(result, patch, smp::Ctx{type, false}, 0);
  if (!s.ok()) return s;
  return result;
}

Result<json::object> ApplyStrategicMergePatch(std::string_view original_json, std::string_view patch_json,
                                              const schema::Type* type) {
  auto original = ParseJson(original_json);
  if (!original.ok() || !original->is_object()) return Status(Code::kInvalidArgument, "invalid JSON document");
  auto patch = ParseJson(patch_json);
  if (!patch.ok()) return patch.status();
  if (patch->is_null()) return std::move(original->get_object());
  if (!patch->is_object()) {
    return Status(Code::kInvalidArgument, "json: cannot unmarshal " + std::string(smp::GoJsonKind(*patch)) +
                                              " into Go value of type map[string]interface {}");
  }
  return ApplyStrategicMergePatch(original->get_object(), patch->get_object(), type);
}

}  // namespace kite::api
