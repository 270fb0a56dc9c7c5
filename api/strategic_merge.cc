// Strategic merge patch: our own implementation of the apply half of upstream's
// k8s.io/apimachinery/pkg/util/strategicpatch, on Boost.JSON values, driven by api/schema.h.
// The contract is in strategic_merge.h; upstream's function names are mentioned where the
// behaviour (an error text, an ordering rule) is theirs, so the two can be compared.
#include "api/strategic_merge.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "api/json_text.h"

namespace kite::api {
namespace {

namespace json = boost::json;
using schema::Field;
using schema::Type;
using schema::ValueKind;

constexpr std::string_view kDirectiveMarker = "$patch";
constexpr std::string_view kReplaceDirective = "replace";
constexpr std::string_view kDeleteDirective = "delete";
constexpr std::string_view kMergeDirective = "merge";
constexpr std::string_view kRetainKeysDirective = "$retainKeys";
constexpr std::string_view kDeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";
constexpr std::string_view kSetElementOrderPrefix = "$setElementOrder";

// Go's names for the decoded JSON types, as upstream's messages print them.
constexpr std::string_view kGoMap = "map[string]interface {}";
constexpr std::string_view kGoSlice = "[]interface {}";

constexpr int kMaxDepth = static_cast<int>(kMaxJsonDepth);

#define SMP_RETURN_IF_ERROR(expr)  \
  do {                             \
    Status smp_status_ = (expr);   \
    if (!smp_status_.ok()) return smp_status_; \
  } while (0)

// ---------------------------------------------------------------------------------------------
// Go's fmt rendering of decoded JSON (map[string]interface{}, []interface{}, string, int64,
// float64, bool, nil), so error texts read like upstream's.

// %v of a float64: shortest round-trip digits, exponent form below 1e-4 and from 1e6 (strconv
// 'g' with the shortest precision decides with precision 6), e.g. 1.5, 100000, 1e+06, 1e-05.
void AppendGoFloat(std::string& out, double d) {
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view s(buf, static_cast<size_t>(sci.ptr - buf));
  size_t e = s.find('e');
  int exp = 0;
  if (e != std::string_view::npos) std::from_chars(s.data() + e + (s[e + 1] == '+' ? 2 : 1), s.data() + s.size(), exp);
  if (exp < -4 || exp >= 6) {
    out.append(s);  // to_chars writes at least two exponent digits, as Go does
    return;
  }
  auto fixed = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
  out.append(buf, static_cast<size_t>(fixed.ptr - buf));
}

// `s_verb`: render as %s would (Go's "%!s(int64=5)" for non-strings), else as %v.
void AppendGo(std::string& out, const json::value& v, bool s_verb) {
  switch (v.kind()) {
    case json::kind::null:
      out += s_verb ? "%!s(<nil>)" : "<nil>";
      return;
    case json::kind::bool_:
      if (s_verb) out += "%!s(bool=";
      out += v.get_bool() ? "true" : "false";
      if (s_verb) out += ')';
      return;
    case json::kind::int64:
      if (s_verb) out += "%!s(int64=";
      out += std::to_string(v.get_int64());
      if (s_verb) out += ')';
      return;
    case json::kind::uint64:  // beyond int64: Go decodes these as float64
    case json::kind::double_:
      if (s_verb) out += "%!s(float64=";
      AppendGoFloat(out, v.is_double() ? v.get_double() : static_cast<double>(v.get_uint64()));
      if (s_verb) out += ')';
      return;
    case json::kind::string:
      out.append(v.get_string().data(), v.get_string().size());
      return;
    case json::kind::array: {
      out += '[';
      bool first = true;
      for (const auto& e : v.get_array()) {
        if (!first) out += ' ';
        first = false;
        AppendGo(out, e, s_verb);
      }
      out += ']';
      return;
    }
    case json::kind::object: {
      // fmt prints maps with their keys sorted.
      std::vector<const json::key_value_pair*> members;
      for (const auto& kv : v.get_object()) members.push_back(&kv);
      std::sort(members.begin(), members.end(),
                [](const auto* a, const auto* b) { return a->key() < b->key(); });
      out += "map[";
      bool first = true;
      for (const auto* kv : members) {
        if (!first) out += ' ';
        first = false;
        out.append(kv->key().data(), kv->key().size());
        out += ':';
        AppendGo(out, kv->value(), s_verb);
      }
      out += ']';
      return;
    }
  }
}

std::string GoV(const json::value& v) {
  std::string out;
  AppendGo(out, v, false);
  return out;
}
std::string GoV(const json::object& o) {
  // Renders through a value; only on error paths, so the copy does not matter.
  return GoV(json::value(o));
}
std::string GoV(const json::array* a) { return a ? GoV(json::value(*a)) : std::string("[]"); }

// reflect.TypeOf(v) as %s prints it.
std::string GoTypeName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null: return "%!s(<nil>)";
    case json::kind::bool_: return "bool";
    case json::kind::int64: return "int64";
    case json::kind::uint64:
    case json::kind::double_: return "float64";
    case json::kind::string: return "string";
    case json::kind::array: return std::string(kGoSlice);
    case json::kind::object: return std::string(kGoMap);
  }
  return "";
}

// ---------------------------------------------------------------------------------------------
// Upstream's error values (k8s.io/apimachinery/pkg/util/mergepatch/errors.go).

Status InvalidPatch(std::string message) { return Status(Code::kInvalidArgument, std::move(message)); }

Status ErrNoMergeKey(const json::object& m, std::string_view key) {
  return InvalidPatch("map: " + GoV(m) + " does not contain declared merge key: " + std::string(key));
}
Status ErrBadArgType(std::string_view expected, const json::value& actual) {
  return InvalidPatch("expected a " + std::string(expected) + ", but received a " + GoTypeName(actual));
}
Status ErrBadPatchType(const json::value& directive, const json::object& m) {
  std::string out = "unknown patch type: ";
  AppendGo(out, directive, true);
  return InvalidPatch(out + " in map: " + GoV(m));
}
Status ErrNoListOfLists() { return InvalidPatch("lists of lists are not supported"); }
Status ErrBadPatchFormatForPrimitiveList() { return InvalidPatch("invalid patch format of primitive list"); }
Status ErrBadPatchFormatForRetainKeys() { return InvalidPatch("invalid patch format of retainKeys"); }
Status ErrBadPatchFormatForSetElementOrderList() {
  return InvalidPatch("invalid patch format of setElementOrder list");
}
Status ErrTooDeep() {
  return InvalidPatch("strategic merge patch nests deeper than " + std::to_string(kMaxDepth) + " levels");
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

bool StartsWith(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

bool IsString(const json::value& v, std::string_view s) { return v.is_string() && v.get_string() == s; }

// "$setElementOrder/containers" → "containers" (upstream's extractKey: the part before the
// first '/' must be exactly the prefix).
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

// The element types upstream's sliceElementType tells apart (Go's dynamic types after decoding).
enum class GoKind { kNil, kBool, kInt, kFloat, kString, kMap, kSlice };

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

// The one element type of both lists (either may be absent). `*any` is false when they hold no
// elements at all (upstream errors there; nothing depends on the kind then, so we do not).
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
// kind; merge keys and primitive list items are scalars in practice).
struct ValueHash {
  size_t operator()(const json::value& v) const noexcept {
    if (v.is_object() || v.is_array()) return static_cast<size_t>(v.kind());
    return std::hash<json::value>{}(v);
  }
};
using ValueSet = std::unordered_set<json::value, ValueHash>;
// Identity (merge key value or the scalar itself) → first position in a list.
using Positions = std::unordered_map<json::value, size_t, ValueHash>;

// How list items are identified: by the value of the merge key (lists of objects) or by
// themselves (lists of scalars). A missing key reads as null, as Go's map lookup gives nil.
struct Identity {
  bool by_key = false;
  std::string_view key;
  const json::value& operator()(const json::value& item) const {
    if (!by_key) return item;
    if (item.is_object()) {
      if (const json::value* v = item.get_object().if_contains(key)) return *v;
    }
    return NullValue();
  }
};

Positions FirstPositions(const json::array& list, const Identity& id) {
  Positions p;
  p.reserve(list.size());
  for (size_t i = 0; i < list.size(); ++i) p.emplace(id(list[i]), i);
  return p;
}

constexpr size_t kAbsent = std::numeric_limits<size_t>::max();

size_t Rank(const Positions& p, const json::value& identity) {
  auto it = p.find(identity);
  return it == p.end() ? kAbsent : it->second;
}

// Upstream's normalizeElementOrder: the patch items are put in the order of `patch_order`, the
// items only the server has in the order of `server_order`, then the two are interleaved: a
// server-only item goes first only when it stood before the next patch item in the server's
// list. So the patch's order wins, and server-only items keep their places around the patch's.
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

// Upstream's validateMergeKeyInLists: every item is an object carrying the merge key.
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

// An object being merged: a message of `type`, or (`map`) a string-keyed map of `type` values.
// type nullptr: schema-less (no strategies below).
struct Ctx {
  const Type* type = nullptr;
  bool map = false;
};

// A member's value: its message type (of the object itself, or of a list's items), whether it
// is a map, and its patch strategy.
struct Meta {
  const Type* type = nullptr;
  bool map = false;
  bool merge = false;    // "merge": lists merge by key (objects) or as a union (scalars)
  bool replace = false;  // "replace": an object is replaced whole
  std::string_view merge_key;
  std::string_view name;  // the member's name, for messages
};

Meta MemberMeta(Ctx ctx, std::string_view key) {
  Meta m;
  m.name = key;
  if (ctx.map) {
    m.type = ctx.type;  // map values carry no strategy of their own
    return m;
  }
  if (!ctx.type) return m;
  const Field* f = ctx.type->Find(key);
  if (!f) return m;  // unknown field: schema-less below
  if (f->kind == ValueKind::kMessage) m.type = f->type;
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

// A list member present in both: merged when the strategy says so (or for a
// $deleteFromPrimitiveList, whatever the strategy), else replaced.
Status MergeListMember(json::array& target, const json::array& patch, const Meta& meta, bool delete_list,
                       int depth) {
  if (meta.merge || delete_list) return MergeList(target, patch, meta, delete_list, depth);
  json::array replaced;
  SMP_RETURN_IF_ERROR(NewList(patch, meta, depth, replaced));
  target = std::move(replaced);
  return Status::Ok();
}

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

  // Directive items first (upstream's mergeSliceWithSpecialElements).
  bool replace = false;
  std::vector<const json::object*> items;
  for (const auto& e : patch) {
    const json::object& o = e.get_object();
    const json::value* directive = o.if_contains(kDirectiveMarker);
    if (!directive) {
      items.push_back(&o);
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
      replace = true;  // keep going: the other directive items are still checked
    } else if (IsString(*directive, kMergeDirective)) {
      return InvalidPatch("merging lists cannot yet be specified in the patch");
    } else {
      return ErrBadPatchType(*directive, o);
    }
  }

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

// Upstream's applyRetainKeysDirective.
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

// Upstream's mergeMap, in place on `target`.
Status MergeObject(json::object& target, const json::object& patch, Ctx ctx, int depth) {
  if (depth > kMaxDepth) return ErrTooDeep();
  if (const json::value* directive = patch.if_contains(kDirectiveMarker)) {
    if (IsString(*directive, kDeleteDirective)) {
      target.clear();
      return Status::Ok();
    }
    if (!IsString(*directive, kReplaceDirective)) return ErrBadPatchType(*directive, patch);
    // Replace: the rest of the patch merged into nothing. The member loop below skips "$patch".
    target.clear();
  }

  if (const json::value* retain = patch.if_contains(kRetainKeysDirective)) {
    SMP_RETURN_IF_ERROR(ApplyRetainKeys(target, patch, *retain));
  }

  // $setElementOrder directives merge and order their lists; the loop below skips those lists.
  std::vector<std::string_view> ordered_lists;
  for (const auto& [k, v] : patch) {
    if (!StartsWith(k, kSetElementOrderPrefix)) continue;
    if (!v.is_array()) return ErrBadArgType(kGoSlice, v);
    std::string_view list_key;
    if (!ExtractKey(k, kSetElementOrderPrefix, &list_key)) return ErrBadPatchFormatForSetElementOrderList();
    SMP_RETURN_IF_ERROR(ApplySetElementOrder(target, patch, ctx, list_key, v.get_array(), depth));
    ordered_lists.push_back(list_key);
  }

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

Result<json::object> ApplyStrategicMergePatch(const json::object& original, const json::object& patch,
                                              const schema::Type* type) {
  json::object result = original;
  Status s = MergeObject(result, patch, Ctx{type, false}, 0);
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
    return Status(Code::kInvalidArgument, "json: cannot unmarshal " + std::string(GoJsonKind(*patch)) +
                                              " into Go value of type map[string]interface {}");
  }
  return ApplyStrategicMergePatch(original->get_object(), patch->get_object(), type);
}

}  // namespace kite::api
