// Checks a JSON object against its built-in schema the way upstream's decoder does, before it
// is stored: unknown fields are reported (for fieldValidation=Strict|Warn) and dropped (as
// decoding into Go structs drops them), nulls are dropped (Go decodes them to zero values that
// marshal as absent), and a value of the wrong JSON type is an error naming the field, like
// encoding/json's "cannot unmarshal string into Go struct field ... of type int32".
#pragma once

#include <boost/json/object.hpp>

#include <string>
#include <vector>

#include "api/schema.h"
#include "base/status.h"

namespace kite::api {

struct SchemaCheck {
  std::vector<std::string> unknown_fields;  // paths like "spec.containers[0].foo", in document order
};

// Modifies `obj` in place (prunes unknown fields and nulls). Fails (kInvalidArgument) on a type
// mismatch; the message is the part after "<Kind> in version ... cannot be handled as a <Kind>: ".
Result<SchemaCheck> CheckAgainstSchema(boost::json::object& obj, const schema::Type& type);

}  // namespace kite::api
