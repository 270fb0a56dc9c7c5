// The strategic merge patch's error values, with upstream's texts (strategic_merge_internal.h).
#include <charconv>
#include <cstdint>
#include <string>

#include "api/strategic_merge_internal.h"

namespace kite::api::smp {
namespace {

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

}  // namespace

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

}  // namespace kite::api::smp
