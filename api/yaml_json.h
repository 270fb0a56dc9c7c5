// YAML request bodies (application/yaml, application/apply-patch+yaml) as JSON values, the way
// sigs.k8s.io/yaml reads them: YAML 1.1-ish scalars — unquoted true/false, integers, floats and
// null become JSON bools, numbers and null; quoted scalars stay strings; mappings need string
// keys. One document only (a second document is an error, like upstream's decoder).
#pragma once

#include <boost/json/value.hpp>

#include <string_view>

#include "base/status.h"

namespace kite::api {

Result<boost::json::value> YamlToJson(std::string_view text);

// The plain-scalar grammars YamlToJson resolves with (linear scans, safe on any length):
// an integer is [-+]?(0|[1-9][0-9]*); a float is
// [-+]?(\.[0-9]+|(0|[1-9][0-9]*)(\.[0-9]*)?)([eE][-+]?[0-9]+)? (YamlToJson takes a scalar as a
// float only when it also has a '.' or an exponent, and only when the value is finite).
bool IsYamlInt(std::string_view s);
bool IsYamlFloat(std::string_view s);

}  // namespace kite::api
