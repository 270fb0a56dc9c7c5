// Hand-written rather than taken from a library (nlohmann-json has RFC 6902 support): the object
// model is Boost.JSON throughout, and what matters here is the apiserver's behaviour and error
// texts (negative indexes, replace-adds, its message wording), which no library reproduces.
#include "api/json_patch.h"

#include <boost/json/serializer.hpp>

#include <charconv>

#include "api/json_text.h"
#include "api/validation.h"

namespace kite::api {
namespace {

namespace json = boost::json;

// Texts of the errors the apiserver's JSON-patch library wraps its messages around.
constexpr std::string_view kMissing = "missing value";
constexpr std::string_view kInvalidIndex = "invalid index referenced";
constexpr std::string_view kTestFailed = "test failed";

using Error = std::optional<std::string>;  // nullopt: success

std::string Wrap(std::string_view context, std::string_view cause) {
  return std::string(context) + ": " + std::string(cause);
}

// Go's strconv.Atoi, including its error texts.
Error Atoi(std::string_view s, int64_t* out) {
  std::string_view digits = s;
  bool negative = false;
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  bool syntax_ok = !digits.empty();
  for (char c : digits) syntax_ok = syntax_ok && c >= '0' && c <= '9';
  if (!syntax_ok) return "strconv.Atoi: parsing " + GoQuote(s) + ": invalid syntax";
  uint64_t magnitude = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), magnitude);
  uint64_t limit = negative ? uint64_t{1} << 63 : (uint64_t{1} << 63) - 1;
  if (ec != std::errc() || magnitude > limit) {
    return "strconv.Atoi: parsing " + GoQuote(s) + ": value out of range";
  }
  *out = negative ? static_cast<int64_t>(0 - magnitude) : static_cast<int64_t>(magnitude);
  return std::nullopt;
}

std::string InvalidIndex(std::string_view verb, int64_t idx) {
  return Wrap("Unable to " + std::string(verb) + " invalid index: " + std::to_string(idx), kInvalidIndex);
}

// Resolves an existing element's index; negative indexes count from the end.
Error ExistingIndex(const json::array& arr, std::string_view key, size_t* out) {
  int64_t idx;
  if (auto err = Atoi(key, &idx)) return err;
  auto len = static_cast<int64_t>(arr.size());
  if (idx >= len || idx < -len) return InvalidIndex("access", idx);
  *out = static_cast<size_t>(idx < 0 ? idx + len : idx);
  return std::nullopt;
}

std::string DecodeToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (size_t i = 0; i < token.size(); ++i) {
    if (token[i] == '~' && i + 1 < token.size() && (token[i + 1] == '0' || token[i + 1] == '1')) {
      out.push_back(token[i + 1] == '0' ? '~' : '/');
      ++i;
    } else {
      out.push_back(token[i]);
    }
  }
  return out;
}

// The object or array that holds the pointer's last token, plus that token decoded.
struct Location {
  json::value* container;
  std::string key;
};

std::optional<Location> FindContainer(json::value& doc, std::string_view path) {
  auto tokens = ParseJsonPointer(path);
  if (!tokens || tokens->empty()) return std::nullopt;
  json::value* cur = &doc;
  for (size_t i = 0; i + 1 < tokens->size(); ++i) {
    const std::string& token = (*tokens)[i];
    json::value* next = nullptr;
    if (auto* obj = cur->if_object()) {
      next = obj->if_contains(token);
    } else if (auto* arr = cur->if_array()) {
      size_t idx;
      if (!ExistingIndex(*arr, token, &idx)) next = &(*arr)[idx];
    }
    if (next == nullptr || next->is_null()) return std::nullopt;
    cur = next;
  }
  if (!cur->is_object() && !cur->is_array()) return std::nullopt;
  return Location{cur, tokens->back()};
}

// Container operations. For objects, `Get` of a missing member is not an error (it yields
// nullptr), as in the apiserver's library.
Error Get(const Location& at, json::value** out) {
  if (auto* obj = at.container->if_object()) {
    *out = obj->if_contains(at.key);
    return std::nullopt;
  }
  auto& arr = at.container->get_array();
  size_t idx;
  if (auto err = ExistingIndex(arr, at.key, &idx)) return err;
  *out = &arr[idx];
  return std::nullopt;
}

Error Add(const Location& at, json::value value) {
  if (auto* obj = at.container->if_object()) {
    (*obj)[at.key] = std::move(value);
    return std::nullopt;
  }
  auto& arr = at.container->get_array();
  if (at.key == "-") {
    arr.push_back(std::move(value));
    return std::nullopt;
  }
  int64_t idx;
  if (auto err = Atoi(at.key, &idx)) {
    return Wrap("value was not a proper array index: '" + at.key + "'", *err);
  }
  auto slots = static_cast<int64_t>(arr.size()) + 1;
  if (idx >= slots || idx < -slots) return InvalidIndex("access", idx);
  if (idx < 0) idx += slots;
  arr.insert(arr.begin() + idx, std::move(value));
  return std::nullopt;
}

Error Remove(const Location& at, json::value* removed) {
  if (auto* obj = at.container->if_object()) {
    auto it = obj->find(at.key);
    if (it == obj->end()) return Wrap("Unable to remove nonexistent key: " + at.key, kMissing);
    if (removed) *removed = std::move(it->value());
    obj->erase(it);
    return std::nullopt;
  }
  auto& arr = at.container->get_array();
  size_t idx;
  if (auto err = ExistingIndex(arr, at.key, &idx)) return err;
  if (removed) *removed = std::move(arr[idx]);
  arr.erase(arr.begin() + static_cast<std::ptrdiff_t>(idx));
  return std::nullopt;
}

std::string GoKindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::object: return "object";
    case json::kind::array: return "array";
    case json::kind::string: return "string";
    case json::kind::bool_: return "bool";
    case json::kind::null: return "null";
    default: return "number";
  }
}

// Reads a string member ("path" or "from"); null counts as absent, like the library.
Error StringMember(const json::object& op, std::string_view name, std::string* out) {
  const json::value* v = op.if_contains(name);
  if (v == nullptr || v->is_null()) {
    return name == "path" ? Wrap("operation missing path field", kMissing)
                          : Wrap("operation, missing from field", kMissing);
  }
  if (!v->is_string()) return "json: cannot unmarshal " + GoKindName(*v) + " into Go value of type string";
  *out = std::string(v->get_string());
  return std::nullopt;
}

// The length of v's JSON text, counted through a small buffer rather than by building the text
// (the value may be megabytes).
int64_t SerializedSize(const json::value& v) {
  json::serializer sr;
  sr.reset(&v);
  char buf[4096];
  int64_t n = 0;
  while (!sr.done()) n += static_cast<int64_t>(sr.read(buf, sizeof buf).size());
  return n;
}

class Applier {
 public:
  Applier(json::value doc, int64_t max_copy_bytes) : doc_(std::move(doc)), max_copy_bytes_(max_copy_bytes) {}
  json::value Take() && { return std::move(doc_); }

  Error Apply(const json::object& op) {
    std::string kind = "unknown";
    if (const auto* k = op.if_contains("op"); k && k->is_string()) kind = std::string(k->get_string());
    if (kind == "add") return OpAdd(op);
    if (kind == "remove") return OpRemove(op);
    if (kind == "replace") return OpReplace(op);
    if (kind == "move") return OpMove(op);
    if (kind == "copy") return OpCopy(op);
    if (kind == "test") return OpTest(op);
    return "Unexpected kind: " + kind;
  }

 private:
  static Error Value(const json::object& op, std::string_view kind, const json::value** out) {
    *out = op.if_contains("value");
    if (*out == nullptr) return Wrap(std::string(kind) + " operation failed to decode value", kMissing);
    return std::nullopt;
  }

  Error OpAdd(const json::object& op) {
    std::string path;
    if (StringMember(op, "path", &path)) return Wrap("add operation failed to decode path", kMissing);
    const json::value* value;
    if (auto err = Value(op, "add", &value)) return err;
    if (path.empty()) {
      doc_ = *value;
      return std::nullopt;
    }
    auto at = FindContainer(doc_, path);
    if (!at) return Wrap("add operation does not apply: doc is missing path: \"" + path + "\"", kMissing);
    if (auto err = Add(*at, *value)) return Wrap("error in add for path: '" + path + "'", *err);
    return std::nullopt;
  }

  Error OpRemove(const json::object& op) {
    std::string path;
    if (StringMember(op, "path", &path)) return Wrap("remove operation failed to decode path", kMissing);
    auto at = FindContainer(doc_, path);
    if (!at) return Wrap("remove operation does not apply: doc is missing path: \"" + path + "\"", kMissing);
    if (auto err = Remove(*at, nullptr)) return Wrap("error in remove for path: '" + path + "'", *err);
    return std::nullopt;
  }

  Error OpReplace(const json::object& op) {
    std::string path;
    if (auto err = StringMember(op, "path", &path)) return Wrap("replace operation failed to decode path", *err);
    const json::value* value;
    if (auto err = Value(op, "replace", &value)) return err;
    if (path.empty()) {
      doc_ = *value;
      return std::nullopt;
    }
    auto at = FindContainer(doc_, path);
    if (!at) return Wrap("replace operation does not apply: doc is missing path: " + path, kMissing);
    json::value* existing;
    if (Get(*at, &existing)) return Wrap("replace operation does not apply: doc is missing key: " + path, kMissing);
    if (existing) {
      *existing = *value;
    } else {
      at->container->get_object()[at->key] = *value;  // missing member: set, as the apiserver does
    }
    return std::nullopt;
  }

  Error OpMove(const json::object& op) {
    std::string from, path;
    if (auto err = StringMember(op, "from", &from)) return Wrap("move operation failed to decode from", *err);
    auto src = FindContainer(doc_, from);
    if (!src) return Wrap("move operation does not apply: doc is missing from path: " + from, kMissing);
    json::value moved;
    if (auto err = Remove(*src, &moved)) return Wrap("error in move for path: '" + src->key + "'", *err);
    if (auto err = StringMember(op, "path", &path)) return Wrap("move operation failed to decode path", *err);
    auto dst = FindContainer(doc_, path);
    if (!dst) return Wrap("move operation does not apply: doc is missing destination path: " + path, kMissing);
    if (auto err = Add(*dst, std::move(moved))) return Wrap("error in move for path: '" + path + "'", *err);
    return std::nullopt;
  }

  Error OpCopy(const json::object& op) {
    std::string from, path;
    if (auto err = StringMember(op, "from", &from)) return Wrap("copy operation failed to decode from", *err);
    const json::value* source = &doc_;
    if (!from.empty()) {
      auto src = FindContainer(doc_, from);
      if (!src) return Wrap("copy operation does not apply: doc is missing from path: " + from, kMissing);
      json::value* value;
      if (auto err = Get(*src, &value)) return Wrap("error in copy for from: '" + from + "'", *err);
      if (value == nullptr) return Wrap("copy operation does not apply: doc is missing from path: " + from, kMissing);
      source = value;
    }
    if (StringMember(op, "path", &path)) return Wrap("copy operation failed to decode path", kMissing);
    std::optional<Location> dst;
    if (!path.empty()) {
      dst = FindContainer(doc_, path);
      if (!dst) return Wrap("copy operation does not apply: doc is missing destination path: " + path, kMissing);
    }
    // Sized before it is copied: a patch whose copies double the document each time is refused
    // while the document is still small.
    copied_bytes_ += SerializedSize(*source);
    if (max_copy_bytes_ > 0 && copied_bytes_ > max_copy_bytes_) {
      return "Unable to complete the copy, the accumulated size increase of copy is " + std::to_string(copied_bytes_) +
             ", exceeding the limit " + std::to_string(max_copy_bytes_);
    }
    json::value copied = *source;
    if (!dst) {
      doc_ = std::move(copied);
      return std::nullopt;
    }
    if (auto err = Add(*dst, std::move(copied))) return Wrap("error while adding value during copy", *err);
    return std::nullopt;
  }

  Error OpTest(const json::object& op) {
    std::string path;
    if (auto err = StringMember(op, "path", &path)) return Wrap("test operation failed to decode path", *err);
    const json::value* expected = op.if_contains("value");
    const json::value* actual = nullptr;
    if (path.empty()) {
      actual = &doc_;
    } else {
      auto at = FindContainer(doc_, path);
      if (!at) return Wrap("test operation does not apply: is missing path: " + path, kMissing);
      json::value* found;
      if (auto err = Get(*at, &found)) return Wrap("error in test for path: '" + path + "'", *err);
      actual = found;
    }
    bool passed;
    if (expected == nullptr) {
      passed = false;
    } else if (actual == nullptr) {
      passed = expected->is_null();  // a missing member tests equal to null
    } else {
      passed = *actual == *expected;
    }
    if (!passed) return Wrap("testing value " + path + " failed", kTestFailed);
    return std::nullopt;
  }

  json::value doc_;
  const int64_t max_copy_bytes_;
  int64_t copied_bytes_ = 0;
};

}  // namespace

std::optional<std::vector<std::string>> ParseJsonPointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer[0] != '/') return std::nullopt;
  size_t start = 1;
  while (true) {
    size_t slash = pointer.find('/', start);
    tokens.push_back(DecodeToken(pointer.substr(start, slash == std::string_view::npos ? slash : slash - start)));
    if (slash == std::string_view::npos) return tokens;
    start = slash + 1;
  }
}

const boost::json::value* ResolveJsonPointer(const boost::json::value& doc, std::string_view pointer) {
  auto tokens = ParseJsonPointer(pointer);
  if (!tokens) return nullptr;
  const json::value* cur = &doc;
  for (const std::string& t : *tokens) {
    if (const auto* obj = cur->if_object()) {
      cur = obj->if_contains(t);
    } else if (const auto* arr = cur->if_array()) {
      bool digits = !t.empty() && (t == "0" || t[0] != '0');
      for (char c : t) digits = digits && c >= '0' && c <= '9';
      size_t idx = 0;
      if (!digits || std::from_chars(t.data(), t.data() + t.size(), idx).ec != std::errc() ||
          idx >= arr->size()) {
        return nullptr;
      }
      cur = &(*arr)[idx];
    } else {
      return nullptr;
    }
    if (cur == nullptr) return nullptr;
  }
  return cur;
}

Result<boost::json::value> ApplyJsonPatch(const boost::json::value& doc, const boost::json::value& patch,
                                          const JsonPatchOptions& options) {
  if (patch.is_null()) return doc;
  if (!patch.is_array()) {
    return Status(Code::kInvalidArgument,
                  "json: cannot unmarshal " + GoKindName(patch) + " into Go value of type jsonpatch.Patch");
  }
  const auto& ops = patch.get_array();
  for (const auto& op : ops) {
    if (!op.is_object() && !op.is_null()) {
      return Status(Code::kInvalidArgument,
                    "json: cannot unmarshal " + GoKindName(op) + " into Go value of type jsonpatch.Operation");
    }
  }
  if (ops.size() > kMaxJsonPatchOperations) {
    return Status(Code::kResourceExhausted, "The allowed maximum operations in a JSON patch is " +
                                                std::to_string(kMaxJsonPatchOperations) + ", got " +
                                                std::to_string(ops.size()));
  }
  Applier applier(doc, options.max_copy_bytes);  // works on a copy: a failure leaves `doc` as it was
  static const json::object kNullOp;
  for (const auto& op : ops) {
    if (auto err = applier.Apply(op.is_object() ? op.get_object() : kNullOp)) {
      return Status(Code::kFailedPrecondition, *err);
    }
  }
  return std::move(applier).Take();
}

Result<boost::json::value> ApplyJsonPatch(const boost::json::value& doc, std::string_view patch_json,
                                          const JsonPatchOptions& options) {
  auto patch = ParseJson(patch_json);
  if (!patch.ok()) return Status(Code::kInvalidArgument, "error decoding patch: " + patch.status().message());
  return ApplyJsonPatch(doc, *patch, options);
}

}  // namespace kite::api
