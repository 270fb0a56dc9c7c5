// Validation and pruning of custom resources against their CRD's structural schema
// (spec.versions[].schema.openAPIV3Schema), as the apiextensions server does: fields not in the
// schema are dropped (and reported, for fieldValidation) unless x-kubernetes-preserve-unknown-
// fields allows them; type, enum, required, minimum/maximum, minLength/maxLength, minItems/
// maxItems and pattern are checked; x-kubernetes-int-or-string and nullable are honoured.
// apiVersion, kind and metadata at the top level are the server's business and never pruned.
// `pattern` is matched as upstream matches it (kube-openapi with Go's regexp): an unanchored
// search in RE2 syntax, in time linear in the value (see SchemaPattern below).
// Error messages follow upstream's wording ("spec.replicas: Invalid value: \"string\":
// spec.replicas in body must be of type integer: \"string\"").
#pragma once

#include <boost/json.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kite::api {

struct SchemaError {
  std::string field;    // "spec.replicas"
  std::string reason;   // FieldValueInvalid, FieldValueRequired, FieldValueNotSupported
  std::string message;  // "Invalid value: ...", "Required value"
};

struct JsonSchemaResult {
  std::vector<std::string> unknown_fields;
  std::vector<SchemaError> errors;
};

JsonSchemaResult CheckAgainstJsonSchema(boost::json::object& obj, const boost::json::object& schema);

// CRD `pattern`s. Upstream compiles them with Go's regexp package, whose syntax is RE2's: RE2
// (linear time, no backtracking, no recursion per input character) compiles them the same way,
// after two spellings where Go and the packaged RE2 differ ((?<name>…) groups, \C). The ECMA-262
// features OpenAPI names and RE2 lacks (backreferences, lookaround) are refused by upstream too,
// at CRD create/update.
//
// Whether `value` contains a match of `pattern` (Go's MatchString). Patterns are compiled once
// per thread and cached. A pattern that does not compile matches everything (such a CRD is
// refused on create/update; see PatternError).
bool SchemaPatternMatches(std::string_view pattern, std::string_view value);
// nullopt when `pattern` compiles; otherwise Go's error text, e.g.
// "error parsing regexp: missing argument to repetition operator: `+`".
std::optional<std::string> PatternError(std::string_view pattern);
// Every `pattern` in a CRD schema that does not compile, as upstream's CRD validation reports it:
// field "<path>.properties[foo].pattern", message "Invalid value: \"+\": must be a valid regular
// expression, but isn't: <PatternError>". Walks properties, items, additionalProperties, allOf,
// anyOf, oneOf and not.
void CheckSchemaPatterns(const boost::json::object& schema, const std::string& path, std::vector<SchemaError>* out);

// A JSONPath subset, as CRD additionalPrinterColumns use: .a.b, .a[0], .a[*].b,
// .a[?(@.type=="Ready")].status. Returns the matched values (empty when none or malformed).
std::vector<boost::json::value> EvalJsonPath(const boost::json::value& root, std::string_view path);

}  // namespace kite::api
