#include "api/owner_references.h"

#include "api/object.h"

namespace kite::api {

json::object ControllerRef(const json::object& owner) {
  return json::object{{"apiVersion", GetString(owner, "apiVersion")},
                      {"kind", GetString(owner, "kind")},
                      {"name", Name(owner)},
                      {"uid", Uid(owner)},
                      {"controller", true},
                      {"blockOwnerDeletion", true}};
}

const json::object* ControllerOf(const json::object& obj) {
  for (const auto& r : GetArray(Metadata(obj), "ownerReferences")) {
    const json::object* ref = r.if_object();
    if (ref && GetBool(*ref, "controller")) return ref;
  }
  return nullptr;
}

bool IsControlledBy(const json::object& obj, std::string_view owner_uid) {
  const json::object* ref = ControllerOf(obj);
  return ref && GetString(*ref, "uid") == owner_uid;
}

std::optional<std::string> ControllerKeyOf(const json::object& obj, std::string_view kind) {
  const json::object* ref = ControllerOf(obj);
  if (!ref || GetString(*ref, "kind") != kind) return std::nullopt;
  return Namespace(obj) + "/" + GetString(*ref, "name");
}

}  // namespace kite::api
