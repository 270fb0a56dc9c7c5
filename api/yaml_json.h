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

}  // namespace kite::api
