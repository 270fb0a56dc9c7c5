// Structural-schema defaults of custom resources: every `default:` in a CRD version's
// openAPIV3Schema is filled in where the object lacks the field, as upstream does when it
// decodes a request body (create, update, patch) and when it reads an object from storage. A
// default is itself defaulted further down (a defaulted `spec: {}` gets its properties'
// defaults). Defaults reach properties of objects, additionalProperties values and array items;
// a null in a field that is not nullable and has a default is defaulted too.
#pragma once

#include <boost/json/object.hpp>

#include "api/resources.h"

namespace kite::apiserver {

// Applies the defaults of r's schema (r a custom resource with a served version) to obj.
void ApplyCrdDefaults(const api::ResourceInfo& r, boost::json::object& obj);

// Whether ApplyCrdDefaults can change anything for r: r is a custom resource whose schema has a
// `default:` where ApplyCrdDefaults looks for one. (Watches show other objects as stored.)
bool HasCrdDefaults(const api::ResourceInfo& r);

}  // namespace kite::apiserver
