// metadata.ownerReferences: who owns an object, and which owner controls it (upstream's
// metav1.GetControllerOf / NewControllerRef). Lenient reads as api/object.h.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace kite::api {

namespace json = boost::json;

// An ownerReferences entry with controller: true pointing at `owner` (its apiVersion, kind,
// name, uid), blockOwnerDeletion true as upstream's controllers set it.
json::object ControllerRef(const json::object& owner);
// The controlling owner reference of obj (the first entry with controller: true), if any.
const json::object* ControllerOf(const json::object& obj);
bool IsControlledBy(const json::object& obj, std::string_view owner_uid);
// "namespace/name" of obj's controlling owner when that owner is of `kind` (owners live in their
// dependent's namespace); nullopt otherwise. Whether that owner still exists with the same uid
// is the caller's question (client::ResolveControllerRef answers it from an informer).
std::optional<std::string> ControllerKeyOf(const json::object& obj, std::string_view kind);

}  // namespace kite::api
