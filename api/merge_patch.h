// JSON Merge Patch (RFC 7386) on boost::json values, as kube-apiserver applies
// `application/merge-patch+json` bodies (kubectl label/annotate/scale, `patch --type=merge`).
//
// Contract (RFC 7386 section 2):
//  - An object patch merges member by member into the target (a non-object target is first
//    replaced by {}): a null member deletes that key, an object member merges recursively, any
//    other member replaces the key's value.
//  - A non-object patch (array, string, number, bool, null) replaces the whole target.
//  - Nulls inside objects that the patch introduces are dropped (merging into {} removes them);
//    arrays are taken as they are.
// The value form cannot fail. The text form reports unparsable input with the apiserver's texts:
// "Invalid JSON Document" / "Invalid JSON Patch" (kInvalidArgument; the apiserver answers an
// invalid patch with 400 BadRequest "Invalid JSON Patch").
#pragma once

#include <boost/json/value.hpp>

#include <string_view>

#include "base/status.h"

namespace kite::api {

boost::json::value ApplyMergePatch(const boost::json::value& doc, const boost::json::value& patch);
// Parses both texts, then applies.
Result<boost::json::value> ApplyMergePatch(std::string_view doc_json, std::string_view patch_json);

// Computes a merge patch that turns `original` into `modified` (objects are diffed member by
// member; anything else is replaced whole). ApplyMergePatch(original, result) == modified when
// `modified` holds no nulls inside objects.
boost::json::value CreateMergePatch(const boost::json::value& original, const boost::json::value& modified);

}  // namespace kite::api
