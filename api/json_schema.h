// Validation and pruning of custom resources against their CRD's structural schema
// (spec.versions[].schema.openAPIV3Schema), as the apiextensions server does: fields not in the
// schema are dropped (and reported, for fieldValidation) unless x-kubernetes-preserve-unknown-
// fields allows them; type, enum, required, minimum/maximum, minLength/maxLength, minItems/
// maxItems and pattern are checked; x-kubernetes-int-or-string and nullable are honoured.
// apiVersion, kind and metadata at the top level are the server's business and never pruned.
// Error messages follow upstream's wording ("spec.replicas: Invalid value: \"string\":
// spec.replicas in body must be of type integer: \"string\"").
#pragma once

#include <boost/json.hpp>

#include <string>
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

// A JSONPath subset, as CRD additionalPrinterColumns use: .a.b, .a[0], .a[*].b,
// .a[?(@.type=="Ready")].status. Returns the matched values (empty when none or malformed).
std::vector<boost::json::value> EvalJsonPath(const boost::json::value& root, std::string_view path);

}  // namespace kite::api
