// PATCH bodies (JSON patch, merge patch, strategic merge patch, apply) and the managedFields
// bookkeeping every write does. See handlers_internal.h and managed_fields.h.
#include <boost/json.hpp>

#include <set>

#include "api/object.h"
#include "api/time.h"
#include "api/json_patch.h"
#include "api/merge_patch.h"
#include "api/schema.h"
#include "api/strategic_merge.h"
#include "server/apiserver/handlers/handlers_internal.h"
#include "server/apiserver/handlers/managed_fields.h"
#include "server/apiserver/storage/registry.h"


namespace kite::apiserver {
namespace json = boost::json;

namespace {

std::string PathKey(const FieldPath& p) {
  std::string s;
  for (const auto& e : p) s += e + '\x1f';
  return s;
}

}  // namespace

// How each patch type is bounded. The body is at most 3 MiB (base/https_server.h). A JSON patch
// can copy values of the document, so it alone needs bounds of its own: operations and copied
// bytes, as upstream (api/json_patch.h). Merge and strategic merge patches and apply
// configurations only add what their own text holds, so their result is at most the current
// object plus the body, as upstream relies on too. Whatever the result, an object over the
// storage limit is refused before it is stored (Registry).
Result<json::object> ApplyPatch(const api::ResourceInfo& r, const std::string& media, const json::object& current,
                               const json::value& patch, const std::string& manager, bool force) {
  const api::schema::Type* type = api::schema::TypeForKind(r.group, r.version, r.kind);
  json::value doc = current;
  if (media == "application/json-patch+json") {
    if (!patch.is_array()) return BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
    auto out = api::ApplyJsonPatch(doc, patch);  // bounded: see api/json_patch.h
    if (!out.ok()) {
      const std::string& msg = out.status().message();
      switch (out.status().code()) {
        case Code::kInvalidArgument: return BadRequest(msg);
        case Code::kResourceExhausted: return Status::Api(413, "RequestEntityTooLarge", "Request entity too large: " + msg);
        default: return Status::Api(422, "Invalid", msg);
      }
    }
    if (!out->is_object()) return Status::Api(422, "Invalid", "the patched object must be a JSON object");
    return std::move(out->as_object());
  }
  if (!patch.is_object()) return BadRequest("the patch must be a JSON object");
  if (media == "application/merge-patch+json") {
    json::value out = api::ApplyMergePatch(doc, patch);
    if (!out.is_object()) return Status::Api(422, "Invalid", "the patched object must be a JSON object");
    return std::move(out.as_object());
  }
  if (media == "application/strategic-merge-patch+json") {
    // Upstream answers strategic merge patches on custom resources with 415.
    if (r.custom) {
      return Status::Api(415, "UnsupportedMediaType",
                      "the body of the request was in an unknown format - accepted media types include: "
                      "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml");
    }
    auto out = api::ApplyStrategicMergePatch(current, patch.as_object(), type);
    if (!out.ok()) return Status::Api(422, "Invalid", out.status().message());
    return std::move(out.value());
  }
  // application/apply-patch+yaml
  const auto& applied = patch.as_object();
  if (std::string k = api::GetString(applied, "kind"); k != r.kind) {
    return BadRequest("the kind in the apply configuration (" + k + ") does not match the expected kind (" + r.kind + ")");
  }
  if (std::string av = api::GetString(applied, "apiVersion"); av != r.group_version()) {
    return BadRequest("the API version in the apply configuration (" + av +
                      ") does not match the expected API version (" + r.group_version() + ")");
  }
  return ServerSideApply(current, applied, manager, r.group_version(), force, type);
}

void RecordManager(json::object& obj, const std::string& manager, const std::string& operation,
                   const std::string& api_version, const json::object* old) {
  if (manager.empty()) return;
  const api::schema::Type* type = nullptr;
  if (auto slash = api_version.find('/'); true) {
    std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    std::string version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
    type = api::schema::TypeForKind(group, version, api::GetString(obj, "kind"));
  }
  std::vector<FieldPath> changed = old ? ChangedFields(*old, obj, type) : LeafFields(obj, type);
  if (changed.empty() && old) {
    // No change by this manager: keep the stored managedFields as they are (no new timestamp).
    auto om = old->find("metadata");
    if (om != old->end() && om->value().is_object()) {
      auto mf = om->value().as_object().find("managedFields");
      if (mf != om->value().as_object().end()) api::MutableObject(obj, "metadata")["managedFields"] = mf->value();
      else api::MutableObject(obj, "metadata").erase("managedFields");
    }
    return;
  }
  // The client may send managedFields (a read-modify-write carries them back); otherwise the
  // stored ones continue.
  json::object& meta = api::MutableObject(obj, "metadata");
  if (!meta.contains("managedFields") && old) {
    auto om = old->find("metadata");
    if (om != old->end() && om->value().is_object()) {
      if (auto mf = om->value().as_object().find("managedFields"); mf != om->value().as_object().end()) {
        meta["managedFields"] = mf->value();
      }
    }
  }
  json::value& mf = meta["managedFields"];
  if (!mf.is_array()) mf = json::array();
  json::array& managed = mf.as_array();
  std::set<std::string> drop;  // PathKey()s of the changed paths, built only if an entry needs them
  auto dropped = [&](const FieldPath& p) {
    if (drop.empty()) {
      for (const auto& c : changed) drop.insert(PathKey(c));
    }
    return drop.count(PathKey(p)) > 0;
  };
  std::vector<FieldPath> mine;
  for (auto it = managed.begin(); it != managed.end();) {
    if (!it->is_object()) {
      it = managed.erase(it);
      continue;
    }
    auto& e = it->as_object();
    auto fv = e.find("fieldsV1");
    const bool has_fields = fv != e.end() && fv->value().is_object();
    const bool is_mine = api::GetString(e, "manager") == manager && api::GetString(e, "operation") == operation;
    // Another manager's entry that owns none of the changed fields stays as it is, unexpanded
    // (for a status patch the creator's entry holds the whole spec).
    if (!is_mine && has_fields && !HasAnyField(fv->value().as_object(), changed)) {
      ++it;
      continue;
    }
    std::vector<FieldPath> fields;
    if (has_fields) fields = FromFieldsV1(fv->value().as_object());
    if (is_mine) {
      mine = std::move(fields);
      it = managed.erase(it);
      continue;
    }
    std::vector<FieldPath> kept;
    for (auto& p : fields) {
      if (!dropped(p)) kept.push_back(std::move(p));
    }
    if (kept.empty()) {
      it = managed.erase(it);
      continue;
    }
    e["fieldsV1"] = ToFieldsV1(kept);
    ++it;
  }
  if (mine.empty()) {
    mine = std::move(changed);  // the first write by this manager (a create): nothing to merge
  } else {
    std::set<std::string> have;
    for (const auto& p : mine) have.insert(PathKey(p));
    for (auto& p : changed) {
      if (have.insert(PathKey(p)).second) mine.push_back(std::move(p));
    }
  }
  if (!mine.empty()) {
    json::object e{{"manager", manager}, {"operation", operation}, {"apiVersion", api_version}, {"time", api::NowTime()},
                   {"fieldsType", "FieldsV1"}, {"fieldsV1", ToFieldsV1(mine)}};
    managed.push_back(std::move(e));
  }
  if (managed.empty()) meta.erase("managedFields");
}

void RecordApply(json::object& obj, const json::object& applied, const std::string& manager,
                 const std::string& api_version) {
  const api::schema::Type* type = nullptr;
  {
    auto slash = api_version.find('/');
    std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    std::string version = slash == std::string::npos ? api_version : api_version.substr(slash + 1);
    type = api::schema::TypeForKind(group, version, api::GetString(obj, "kind").empty() ? api::GetString(applied, "kind") : api::GetString(obj, "kind"));
  }
  auto fields = LeafFields(applied, type);
  json::array managed;
  if (!fields.empty()) {
    managed.push_back(json::object{{"manager", manager}, {"operation", "Apply"}, {"apiVersion", api_version},
                                   {"time", api::NowTime()}, {"fieldsType", "FieldsV1"}, {"fieldsV1", ToFieldsV1(fields)}});
  }
  api::MutableObject(obj, "metadata")["managedFields"] = std::move(managed);
}

}  // namespace kite::apiserver
