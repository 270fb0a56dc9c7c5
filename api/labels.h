// Label selectors: the `labelSelector=` query string syntax and metav1.LabelSelector objects.
//
// Contract (matches upstream apimachinery `labels.Parse` and `metav1.LabelSelectorAsSelector`):
//  - Syntax: comma-separated requirements, all ANDed:
//      key=value  key==value  key!=value  key in (v1,v2)  key notin (v1)  key  !key  key>1  key<1
//    Whitespace (space, tab, CR, LF) separates tokens and is otherwise ignored. Values may be
//    empty ("a=", "a in ()", "a in (,b)"). "in"/"notin" are keywords only in operator position.
//  - Keys must be qualified names (optional DNS-1123 subdomain prefix + '/', name <= 63 chars);
//    values must be valid label values; > and < need a base-10 int64 value.
//  - Errors are kInvalidArgument with upstream's texts (kube-apiserver returns them in a 400
//    Status), e.g. "unable to parse requirement: <nil>: Invalid value: \"-a\": name part must
//    consist of ..." or "found '=', expected: ',' or 'end of string'".
//  - Requirements are kept sorted by key (stable), values of in/notin sorted and de-duplicated,
//    so String() is canonical: Parse(s.String()) == s for every parsed selector.
//  - Matching: a missing key fails =, ==, in, exists, >, <; it satisfies !=, notin, !key.
//    A label value that is not a JSON string never equals a requirement value.
// Thread-safety: values are immutable after construction; share freely.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/validation.h"
#include "base/status.h"

namespace kite::api {

enum class LabelOperator {
  kEquals,        // "="
  kDoubleEquals,  // "=="
  kNotEquals,     // "!="
  kIn,            // "in"
  kNotIn,         // "notin"
  kExists,        // "exists" (bare key)
  kDoesNotExist,  // "!" (negated key)
  kGreaterThan,   // "gt" (">")
  kLessThan,      // "lt" ("<")
};

// Upstream's selection.Operator spelling ("=", "in", "gt", "!", ...).
std::string_view LabelOperatorName(LabelOperator op);

class LabelRequirement {
 public:
  // Validates as upstream NewRequirement: key, value count for the operator, values. On error
  // the message is upstream's aggregated field error list, e.g.
  // "values: Invalid value: null: for 'in', 'notin' operators, values set can't be empty".
  // Values are stored in the order given (Parse passes them sorted).
  static Result<LabelRequirement> Create(std::string key, LabelOperator op,
                                         std::vector<std::string> values);

  const std::string& key() const { return key_; }
  LabelOperator op() const { return op_; }
  const std::vector<std::string>& values() const { return values_; }

  // `present`: the object has a label with this key; `value`: its value, nullopt when the
  // label is present but not a string (it then equals no requirement value).
  bool Matches(bool present, std::optional<std::string_view> value) const;
  std::string String() const;

  bool operator==(const LabelRequirement&) const = default;

 private:
  friend class LabelSelector;  // FromSet builds requirements without validation
  LabelRequirement(std::string key, LabelOperator op, std::vector<std::string> values)
      : key_(std::move(key)), op_(op), values_(std::move(values)) {}

  std::string key_;
  LabelOperator op_ = LabelOperator::kExists;
  std::vector<std::string> values_;
};

class LabelSelector {
 public:
  // Parses the query-string syntax. "" (or only whitespace) selects everything.
  static Result<LabelSelector> Parse(std::string_view selector);
  // Converts a metav1.LabelSelector JSON value: null selects nothing, {} selects everything,
  // otherwise matchLabels (as "=") AND matchExpressions (In, NotIn, Exists, DoesNotExist).
  // Errors: a non-object value, wrongly typed members, "\"Foo\" is not a valid label selector
  // operator", and the requirement errors of LabelRequirement::Create.
  static Result<LabelSelector> FromLabelSelectorJson(const boost::json::value& selector);
  // key=value for every entry (no validation, like upstream SelectorFromValidatedSet).
  static LabelSelector FromSet(const std::map<std::string, std::string>& labels);

  static LabelSelector Everything() { return LabelSelector(); }
  static LabelSelector Nothing() {
    LabelSelector s;
    s.nothing_ = true;
    return s;
  }

  // Labels as found in metadata.labels.
  bool Matches(const boost::json::object& labels) const;
  bool Matches(const std::map<std::string, std::string>& labels) const;

  // True when it selects everything (no requirements). Nothing() is not empty.
  bool Empty() const { return !nothing_ && requirements_.empty(); }
  bool IsNothing() const { return nothing_; }
  const std::vector<LabelRequirement>& requirements() const { return requirements_; }
  // The single value `key` must have (=, == or a one-value in), if the selector pins it.
  std::optional<std::string> RequiresExactMatch(std::string_view key) const;
  // Canonical form, e.g. "a=b,c in (x,y),!d". Everything() and Nothing() give "".
  std::string String() const;

  bool operator==(const LabelSelector&) const = default;

 private:
  std::vector<LabelRequirement> requirements_;
  bool nothing_ = false;
};

// Validation of a metav1.LabelSelector inside an object (upstream metav1validation
// ValidateLabelSelector), for 422 Invalid responses: `path` is the selector's field path such
// as "spec.selector". Returns every error; empty when valid. null is valid (nothing to check).
std::vector<FieldError> ValidateLabelSelector(const boost::json::value& selector,
                                              const std::string& path);

}  // namespace kite::api
