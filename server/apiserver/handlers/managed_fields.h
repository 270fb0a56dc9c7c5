// Field ownership (metadata.managedFields) and server-side apply.
//
// A field set is kept in upstream's FieldsV1 form: a JSON tree whose keys are path elements —
// "f:<field>" for object fields, "k:{<merge key fields>}" for items of keyed lists (merge key
// from the schema, e.g. containers by name), "v:<json value>" for items of set-like primitive
// lists — with "." marking a map or list item that is itself owned. Leaves are {}.
//
// Semantics implemented (upstream structured-merge-diff, simplified where noted):
// - every create/update/patch records, for its fieldManager (operation Update), the fields whose
//   value it set or changed; those fields leave other managers' sets;
// - an apply (operation Apply) owns exactly the fields of the applied configuration. Applying a
//   field another manager owns with a different value is a conflict (409 with one cause per
//   field) unless force=true, which takes the field over. Fields the manager applied before
//   and no longer applies are removed from the object unless another manager owns them.
// - Simplification: ownership is tracked at leaf level; a changed list without a merge key is
//   one leaf (atomic), as upstream treats atomic lists.
#pragma once

#include <boost/json.hpp>

#include <string>
#include <vector>

#include "api/schema.h"
#include "server/apiserver/status.h"

namespace kite::apiserver {

using FieldPath = std::vector<std::string>;  // "f:spec", "k:{\"name\":\"web\"}", "v:\"x\""

// Leaf paths of an object's fields (metadata.managedFields, status of managedFields and
// the system fields uid/resourceVersion/... are left out, as upstream does).
std::vector<FieldPath> LeafFields(const boost::json::object& obj, const api::schema::Type* type);
// Leaf paths whose value differs between old and new (present in new).
std::vector<FieldPath> ChangedFields(const boost::json::object& old_obj, const boost::json::object& new_obj,
                                     const api::schema::Type* type);

boost::json::object ToFieldsV1(const std::vector<FieldPath>& paths);
// Whether any of `paths` is in a fieldsV1 set, without expanding the set (cheap for a few paths).
bool HasAnyField(const boost::json::object& fields_v1, const std::vector<FieldPath>& paths);
std::vector<FieldPath> FromFieldsV1(const boost::json::object& fields);
std::string PathString(const FieldPath& p);  // ".spec.replicas", ".spec.containers[name=\"web\"].image"

// Server-side apply of `applied` onto `live` by `manager`; see the file comment. Returns the new
// object with managedFields updated, or a 409 Conflict Status listing the conflicting fields.
Result<boost::json::object> ServerSideApply(const boost::json::object& live, const boost::json::object& applied,
                                           const std::string& manager, const std::string& api_version,
                                           bool force, const api::schema::Type* type);

}  // namespace kite::apiserver
