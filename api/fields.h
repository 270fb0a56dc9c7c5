// Field selectors: the `fieldSelector=` query string (e.g. "spec.nodeName=node-1,
// status.phase!=Succeeded").
//
// Contract (matches upstream apimachinery `fields.ParseSelector`):
//  - Terms are separated by commas that are not escaped; each term is `field=value`,
//    `field==value` or `field!=value`, split at the first operator found scanning left to right.
//    Nothing is trimmed: "a = b" selects field "a " against value " b".
//  - Values are unescaped: `\\` `\,` `\=` stand for `\` `,` `=`; any other escape, a trailing
//    `\` or an unescaped `=` in a value is an error. Field names are taken literally.
//  - Errors are kInvalidArgument with upstream's texts:
//      "invalid selector: '<whole selector>'; can't understand '<term>'"
//      "invalid field selector: invalid escape sequence: \x"
//      "invalid field selector: unescaped character in value: 61"   (Go prints the rune's code)
//  - Parsed terms are kept sorted by (field, operator, value), so String() is canonical:
//    "==" prints as "=", values are re-escaped, and Parse(s.String()) == s.
//  - Matching: a field the object does not have compares as the empty string (upstream's
//    fields.Set semantics), so "a!=x" matches when a is absent.
//  - Which fields exist is the resource's business: Fields() lists those referenced, and
//    CheckSupported() produces upstream's "field label not supported: <name>" error.
// Thread-safety: immutable after construction.
#pragma once

#include <boost/json/value.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace kite::api {

struct FieldRequirement {
  enum class Op { kEquals, kNotEquals };
  std::string field;
  Op op = Op::kEquals;
  std::string value;  // unescaped

  bool operator==(const FieldRequirement&) const = default;
};

class FieldSelector {
 public:
  // `field(name)` returns the object's value for a field, nullopt when it has none.
  using FieldLookup = std::function<std::optional<std::string>(std::string_view field)>;

  // "" selects everything.
  static Result<FieldSelector> Parse(std::string_view selector);
  static FieldSelector Everything() { return FieldSelector(); }

  bool Matches(const FieldLookup& field) const;
  bool Matches(const std::map<std::string, std::string>& fields) const;

  bool Empty() const { return requirements_.empty(); }
  const std::vector<FieldRequirement>& requirements() const { return requirements_; }
  // Field names referenced, sorted, without duplicates.
  std::vector<std::string> Fields() const;
  // OK when every referenced field is in `supported`; otherwise kInvalidArgument
  // "field label not supported: <first unsupported field>" (apiserver answers 400).
  Status CheckSupported(const std::vector<std::string_view>& supported) const;
  // The value `field` must equal, when a "=" term pins it (e.g. metadata.name for a GET-like
  // list); nullopt otherwise.
  std::optional<std::string> RequiresExactMatch(std::string_view field) const;
  std::string String() const;

  bool operator==(const FieldSelector&) const = default;

 private:
  std::vector<FieldRequirement> requirements_;
};

// The value of a field label read from an object by its dotted path ("spec.nodeName"), in the
// string form field selectors compare against: strings as they are, booleans as "true"/"false",
// integers in decimal. nullopt when the path is absent, null, or not a scalar. Resources choose
// which paths they expose; this only does the reading.
std::optional<std::string> FieldValueFromObject(const boost::json::value& object, std::string_view path);

// `\` `,` `=` escaped with a backslash (upstream fields.EscapeValue).
std::string EscapeFieldValue(std::string_view value);
// Inverse of EscapeFieldValue, with the errors listed above (upstream fields.UnescapeValue).
Result<std::string> UnescapeFieldValue(std::string_view value);

}  // namespace kite::api
