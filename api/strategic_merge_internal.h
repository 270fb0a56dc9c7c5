// The pieces the strategic merge patch's files share (strategic_merge.cc: the merge;
// strategic_merge_directives.cc: $patch, $retainKeys, $setElementOrder; strategic_merge_errors.cc:
// upstream's error values and Go's rendering of values in them). Not for use outside these files;
// the contract is strategic_merge.h's. Everything here works on decoded JSON and returns errors
// as kInvalidArgument Statuses with upstream's texts.
#pragma once

#include <boost/json.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "api/json_text.h"
#include "api/schema.h"
#include "base/status.h"

namespace kite::api::smp {

namespace json = boost::json;

inline constexpr std::string_view kDirectiveMarker = "$patch";
inline constexpr std::string_view kReplaceDirective = "replace";
inline constexpr std::string_view kDeleteDirective = "delete";
inline constexpr std::string_view kMergeDirective = "merge";
inline constexpr std::string_view kRetainKeysDirective = "$retainKeys";
inline constexpr std::string_view kDeleteFromPrimitiveListPrefix = "$deleteFromPrimitiveList";
inline constexpr std::string_view kSetElementOrderPrefix = "$setElementOrder";

// Go's names for the decoded JSON types, as upstream's messages print them.
inline constexpr std::string_view kGoMap = "map[string]interface {}";
inline constexpr std::string_view kGoSlice = "[]interface {}";

// How deep a patch may nest (api/json_text.h's limit).
inline constexpr int kMaxDepth = static_cast<int>(kMaxJsonDepth);

#define SMP_RETURN_IF_ERROR(expr)  \
  do {                             \
    Status smp_status_ = (expr);   \
    if (!smp_status_.ok()) return smp_status_; \
  } while (0)

// --- strategic_merge_errors.cc
// Go's %v of a decoded value (map[a:b], [x y], 1.5, <nil>), and reflect.TypeOf(v) as %s prints it.
std::string GoV(const json::value& v);
std::string GoV(const json::object& o);
std::string GoV(const json::array* a);  // null: "[]"
std::string GoTypeName(const json::value& v);
// Upstream's error values (k8s.io/apimachinery/pkg/util/mergepatch/errors.go).
Status InvalidPatch(std::string message);
Status ErrNoMergeKey(const json::object& m, std::string_view key);
Status ErrBadArgType(std::string_view expected, const json::value& actual);
Status ErrBadPatchType(const json::value& directive, const json::object& m);
Status ErrNoListOfLists();
Status ErrBadPatchFormatForPrimitiveList();
Status ErrBadPatchFormatForRetainKeys();
Status ErrBadPatchFormatForSetElementOrderList();
Status ErrTooDeep();

// --- strategic_merge.cc: small helpers
bool StartsWith(std::string_view s, std::string_view prefix);
bool IsString(const json::value& v, std::string_view s);
// "$setElementOrder/containers" → "containers" (upstream's extractKey: the part before the
// first '/' must be exactly the prefix).
bool ExtractKey(std::string_view s, std::string_view prefix, std::string_view* key);
bool HasDirectiveMarker(const json::value& v);
bool IsDeleteDirective(const json::value& v);  // {"$patch":"delete", ...}
const json::value& NullValue();

// The element types upstream's sliceElementType tells apart (Go's dynamic types after decoding).
enum class GoKind { kNil, kBool, kInt, kFloat, kString, kMap, kSlice };
// The one element type of both lists (either may be absent). `*any` is false when they hold no
// elements at all (upstream errors there; nothing depends on the kind then, so we do not).
Status SliceElementKind(const json::array* a, const json::array* b, GoKind* kind, bool* any);

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

Positions FirstPositions(const json::array& list, const Identity& id);
// Upstream's normalizeElementOrder: the patch items are put in the order of `patch_order`, the
// items only the server has in the order of `server_order`, then the two are interleaved: a
// server-only item goes first only when it stood before the next patch item in the server's
// list. So the patch's order wins, and server-only items keep their places around the patch's.
json::array NormalizeElementOrder(std::vector<json::value> patch_items, std::vector<json::value> server_only,
                                  const Positions& patch_order, const Positions& server_order,
                                  const Identity& id);
// Upstream's validateMergeKeyInLists: every item is an object carrying the merge key.
Status ValidateMergeKey(std::string_view key, const json::array& list);
Status ValidateMergeKey(std::string_view key, const std::vector<json::value>& list);

// --- strategic_merge.cc: what the schema says about a value

// An object being merged: a message of `type`, or (`map`) a string-keyed map of `type` values.
// type nullptr: schema-less (no strategies below).
struct Ctx {
  const schema::Type* type = nullptr;
  bool map = false;
};

// A member's value: its message type (of the object itself, or of a list's items), whether it
// is a map, and its patch strategy.
struct Meta {
  const schema::Type* type = nullptr;
  bool map = false;
  bool merge = false;    // "merge": lists merge by key (objects) or as a union (scalars)
  bool replace = false;  // "replace": an object is replaced whole
  std::string_view merge_key;
  std::string_view name;  // the member's name, for messages
};

Meta MemberMeta(Ctx ctx, std::string_view key);

// --- strategic_merge.cc: the merge
// A list member present in both: merged when the strategy says so (or for a
// $deleteFromPrimitiveList, whatever the strategy), else replaced.
Status MergeListMember(json::array& target, const json::array& patch, const Meta& meta, bool delete_list,
                       int depth);

// --- strategic_merge_directives.cc
// An object's "$patch": "delete" empties `target` and sets `*done` (nothing else of the patch
// applies); "replace" empties it and the rest of the patch is merged into nothing; any other
// value is refused ("merge" included, as upstream).
Status ApplyObjectPatchDirective(json::object& target, const json::object& patch, bool* done);
// A merged list's directive items (upstream's mergeSliceWithSpecialElements): {"$patch":"delete",
// <key>: v} removes the original's items with that key at once; {"$patch":"replace"} sets
// `*replace` (the list becomes the other items); "merge" and unknown values are refused. The
// other items are returned in `*items`, in patch order.
Status TakeListDirectives(json::array& target, const json::array& patch, std::string_view key,
                          std::vector<const json::object*>* items, bool* replace);
// Upstream's applyRetainKeysDirective: drops every member of `target` not in `directive`'s list;
// every non-null member of the patch must be listed.
Status ApplyRetainKeys(json::object& target, const json::object& patch, const json::value& directive);
// Every "$setElementOrder/<list>" directive of `patch` (upstream's mergePatchIntoOriginal): the
// patch's list merged into the original's, in the directive's order. `*ordered` gets the lists
// done (the member loop skips them).
Status ApplySetElementOrders(json::object& target, const json::object& patch, Ctx ctx, int depth,
                             std::vector<std::string_view>* ordered);

}  // namespace kite::api::smp
