// The store half of the fake API: what each write does to the stored objects (see
// fake_transport.h for the contract). Every function here runs with mu_ held.
#include <algorithm>
#include <stdexcept>

#include "api/json_patch.h"
#include "api/merge_patch.h"
#include "api/schema.h"
#include "api/strategic_merge.h"
#include "api/time.h"
#include "client/testing/fake_objects.h"
#include "client/testing/fake_transport.h"

namespace kite::client::testing {
namespace json = boost::json;
using namespace fake_objects;

json::object FakeTransport::StoreLocked(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                        json::object obj, const std::string& type) {
  ++rv_;
  obj["apiVersion"] = r.group_version();
  obj["kind"] = r.kind;
  api::MutableObject(obj, "metadata")["resourceVersion"] = std::to_string(rv_);
  auto& table = objects_[ResourceId(r)];
  if (type == "DELETED") table.erase(ObjKey(ns, name));
  else table[ObjKey(ns, name)] = obj;
  Change c{rv_, ResourceId(r), ns, type, obj};
  Publish(c);
  log_.push_back(std::move(c));
  return obj;
}

bool FakeTransport::MaybeFinishDeleteLocked(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                            json::object& obj) {
  if (!api::Metadata(obj).contains("deletionTimestamp") || HasFinalizers(r, obj)) return false;
  obj = StoreLocked(r, ns, name, std::move(obj), "DELETED");
  return true;
}

json::object FakeTransport::Add(json::object obj) {
  const std::string api_version = api::GetString(obj, "apiVersion"), kind = api::GetString(obj, "kind");
  const api::ResourceInfo* found = nullptr;
  {
    std::lock_guard lock(mu_);
    for (const auto& r : api::BuiltinResources()) {
      if (r.group_version() == api_version && r.kind == kind) {
        found = &r;
        break;
      }
    }
    for (const auto& r : custom_) {
      if (!found && r.group_version() == api_version && r.kind == kind) found = &r;
    }
  }
  if (!found) throw std::invalid_argument("FakeTransport::Add: no resource for " + api_version + " " + kind);
  return Add(*found, std::move(obj));
}

json::object FakeTransport::Add(const api::ResourceInfo& r, json::object obj) {
  std::lock_guard lock(mu_);
  auto& m = api::MutableObject(obj, "metadata");
  const std::string name = api::GetString(m, "name");
  const std::string ns = r.namespaced ? api::GetString(m, "namespace") : "";
  if (!m.contains("uid")) m["uid"] = NewUid();
  if (!m.contains("creationTimestamp")) m["creationTimestamp"] = api::FormatTime(clock_->Now());
  if (!m.contains("generation")) m["generation"] = 1;
  const bool exists = objects_[ResourceId(r)].count(ObjKey(ns, name)) > 0;
  return StoreLocked(r, ns, name, std::move(obj), exists ? "MODIFIED" : "ADDED");
}

std::optional<json::object> FakeTransport::Get(const api::ResourceInfo& r, const std::string& ns,
                                               const std::string& name) const {
  std::lock_guard lock(mu_);
  auto t = objects_.find(ResourceId(r));
  if (t == objects_.end()) return std::nullopt;
  auto it = t->second.find(ObjKey(r.namespaced ? ns : "", name));
  if (it == t->second.end()) return std::nullopt;
  return it->second;
}

std::vector<json::object> FakeTransport::List(const api::ResourceInfo& r, const std::string& ns) const {
  std::lock_guard lock(mu_);
  std::vector<json::object> out;
  auto t = objects_.find(ResourceId(r));
  if (t == objects_.end()) return out;
  for (const auto& [k, v] : t->second) {
    if (ns.empty() || api::GetString(api::Metadata(v), "namespace") == ns) out.push_back(v);
  }
  return out;
}

Response FakeTransport::CreateLocked(const Parsed& p, json::object obj, Action& a) {
  auto& m = api::MutableObject(obj, "metadata");
  std::string name = api::GetString(m, "name");
  if (name.empty()) {
    const std::string prefix = api::GetString(m, "generateName");
    if (prefix.empty()) return StatusResponse(422, "Invalid", "name or generateName is required");
    static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    int64_t n = ++name_seq_;
    std::string suffix;
    for (int i = 0; i < 5; ++i, n /= 27) suffix += kAlphabet[n % 27];
    name = prefix + suffix;
    m["name"] = name;
  }
  if (p.r->namespaced) m["namespace"] = p.ns;
  auto& table = objects_[ResourceId(*p.r)];
  if (table.count(ObjKey(p.ns, name))) {
    return StatusResponse(409, "AlreadyExists", Quoted(p.r->resource, name) + " already exists");
  }
  m["uid"] = NewUid();
  m["creationTimestamp"] = api::FormatTime(clock_->Now());
  m["generation"] = 1;
  m.erase("resourceVersion");
  m.erase("deletionTimestamp");
  a.object = StoreLocked(*p.r, p.ns, name, std::move(obj), "ADDED");
  return Response{201, json::serialize(a.object), ""};
}

Response FakeTransport::UpdateLocked(const Parsed& p, json::object obj, bool status, Action& a) {
  auto& table = objects_[ResourceId(*p.r)];
  auto it = table.find(ObjKey(p.ns, p.name));
  if (it == table.end()) return StatusResponse(404, "NotFound", Quoted(p.r->resource, p.name) + " not found");
  const json::object& cur = it->second;
  // A uid in the body is a precondition on the stored object's, checked first, with the API
  // server's answer (CheckUidPrecondition in server/apiserver/storage/registry.h).
  if (const std::string uid = api::Uid(obj); !uid.empty() && uid != api::Uid(cur)) {
    const api::ResourceInfo& r = *p.r;
    const std::string qualified = r.group.empty() ? r.resource : r.resource + "." + r.group;
    const std::string key = (r.custom ? "/registry/" + r.group + "/" : std::string("/registry/")) + r.resource + "/" +
                            (r.namespaced ? p.ns + "/" : std::string()) + p.name;
    return StatusResponse(409, "Conflict",
                          "Operation cannot be fulfilled on " + Quoted(qualified, p.name) +
                              ": StorageError: invalid object, Code: 4, Key: " + key +
                              ", ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: " +
                              uid + ", UID in object meta: " + api::Uid(cur));
  }
  const std::string rv = api::GetString(api::Metadata(obj), "resourceVersion");
  if (!rv.empty() && rv != api::GetString(api::Metadata(cur), "resourceVersion")) {
    return StatusResponse(409, "Conflict",
                          "Operation cannot be fulfilled on " + Quoted(p.r->resource, p.name) +
                              ": the object has been modified; please apply your changes to the latest version and "
                              "try again");
  }
  json::object next;
  if (status) {
    next = cur;
    if (auto* s = obj.if_contains("status")) next["status"] = *s;
    else next.erase("status");
  } else if (p.sub == "finalize") {
    next = cur;  // namespaces/<ns>/finalize: only spec.finalizers changes
    json::value& spec = next["spec"];
    if (!spec.is_object()) spec = json::object();
    json::array fin;
    if (auto* s = obj.if_contains("spec"); s && s->is_object()) {
      if (auto* f = s->as_object().if_contains("finalizers"); f && f->is_array()) fin = f->as_array();
    }
    spec.as_object()["finalizers"] = std::move(fin);
  } else {
    next = std::move(obj);
    auto& m = api::MutableObject(next, "metadata");
    const auto& cm = api::Metadata(cur);
    for (const char* keep : {"uid", "creationTimestamp", "deletionTimestamp", "namespace", "name", "generation"}) {
      if (auto* v = cm.if_contains(keep)) m[keep] = *v;
      else m.erase(keep);
    }
    if (HasStatusSubresource(*p.r)) {
      if (auto* s = cur.if_contains("status")) next["status"] = *s;
      else next.erase("status");
    }
    const json::value* old_spec = cur.if_contains("spec");
    const json::value* new_spec = next.if_contains("spec");
    if ((old_spec == nullptr) != (new_spec == nullptr) || (old_spec && *old_spec != *new_spec)) {
      int64_t gen = 1;
      if (auto* g = cm.if_contains("generation"); g && g->is_int64()) gen = g->as_int64();
      m["generation"] = gen + 1;
    }
  }
  if (MaybeFinishDeleteLocked(*p.r, p.ns, p.name, next)) {
    a.object = next;
    return Response{200, json::serialize(next), ""};
  }
  a.object = StoreLocked(*p.r, p.ns, p.name, std::move(next), "MODIFIED");
  return Response{200, json::serialize(a.object), ""};
}

Response FakeTransport::PatchLocked(const Parsed& p, const Request& req, Action& a) {
  auto& table = objects_[ResourceId(*p.r)];
  auto it = table.find(ObjKey(p.ns, p.name));
  if (it == table.end()) return StatusResponse(404, "NotFound", Quoted(p.r->resource, p.name) + " not found");
  const json::object cur = it->second;
  json::object patched;
  if (a.patch_type == "merge") {
    boost::system::error_code ec;
    json::value patch = json::parse(req.body, ec);
    if (ec) return StatusResponse(400, "BadRequest", "Invalid JSON Patch");
    json::value out = api::ApplyMergePatch(json::value(cur), patch);
    if (!out.is_object()) return StatusResponse(422, "Invalid", "the patch does not make an object");
    patched = std::move(out.as_object());
  } else if (a.patch_type == "strategic") {
    auto out = api::ApplyStrategicMergePatch(json::serialize(cur), req.body,
                                             api::schema::TypeForKind(p.r->group, p.r->version, p.r->kind));
    if (!out.ok()) return StatusResponse(400, "BadRequest", out.status().message());
    patched = std::move(out.value());
  } else if (a.patch_type == "json") {
    auto out = api::ApplyJsonPatch(json::value(cur), req.body);
    if (!out.ok() || !out->is_object()) return StatusResponse(422, "Invalid", "the JSON patch does not apply");
    patched = std::move(out->as_object());
  } else {
    return StatusResponse(415, "UnsupportedMediaType", "the fake does not do server-side apply");
  }
  // metadata.uid is immutable: a patch naming another uid (an adoption pinned to an object since
  // replaced under the same name) is refused with the API server's Status.
  if (const std::string uid = api::Uid(patched); !uid.empty() && uid != api::Uid(cur)) {
    const std::string kind = p.r->group.empty() ? p.r->kind : p.r->kind + "." + p.r->group;
    return StatusResponse(422, "Invalid", kind + " \"" + p.name + "\" is invalid: metadata.uid: Invalid value: \"" + uid +
                                              "\": field is immutable");
  }
  // A patch that names a resourceVersion is a precondition on it (the garbage collector's
  // pinned patches); otherwise it applies to whatever is current.
  if (p.sub.empty() || p.sub == "status") return UpdateLocked(p, std::move(patched), p.sub == "status", a);
  return StatusResponse(404, "NotFound", "the fake does not serve " + p.r->resource + "/" + p.sub);
}

Response FakeTransport::DeleteLocked(const Parsed& p, const json::value& options, Action& a) {
  auto& table = objects_[ResourceId(*p.r)];
  auto it = table.find(ObjKey(p.ns, p.name));
  if (it == table.end()) return StatusResponse(404, "NotFound", Quoted(p.r->resource, p.name) + " not found");
  json::object obj = it->second;
  auto& m = api::MutableObject(obj, "metadata");
  std::string policy;
  if (options.is_object()) {
    const auto& o = options.as_object();
    policy = api::GetString(o, "propagationPolicy");
    if (auto* pre = o.if_contains("preconditions"); pre && pre->is_object()) {
      const std::string uid = api::GetString(pre->as_object(), "uid"), rv = api::GetString(pre->as_object(), "resourceVersion");
      if (!uid.empty() && uid != api::GetString(m, "uid")) {
        return StatusResponse(409, "Conflict", "Precondition failed: UID in precondition: " + uid +
                                                   ", UID in object meta: " + api::GetString(m, "uid"));
      }
      if (!rv.empty() && rv != api::GetString(m, "resourceVersion")) {
        return StatusResponse(409, "Conflict",
                              "Precondition failed: ResourceVersion in precondition: " + rv +
                                  ", ResourceVersion in object meta: " + api::GetString(m, "resourceVersion"));
      }
    }
  }
  if (m.contains("deletionTimestamp")) {  // already terminating: nothing more to do
    a.object = obj;
    return Response{200, json::serialize(obj), ""};
  }
  const char* add = policy == "Foreground" ? "foregroundDeletion" : policy == "Orphan" ? "orphan" : nullptr;
  if (add) {
    json::value& f = m["finalizers"];
    if (!f.is_array()) f = json::array();
    if (std::find(f.as_array().begin(), f.as_array().end(), json::value(add)) == f.as_array().end()) {
      f.as_array().push_back(json::string(add));
    }
  }
  if (!HasFinalizers(*p.r, obj)) {
    a.object = StoreLocked(*p.r, p.ns, p.name, std::move(obj), "DELETED");
    return Response{200, json::serialize(a.object), ""};
  }
  m["deletionTimestamp"] = api::FormatTime(clock_->Now());
  m["deletionGracePeriodSeconds"] = 0;
  if (p.r->group.empty() && p.r->resource == "namespaces") {
    json::value& st = obj["status"];
    if (!st.is_object()) st = json::object();
    st.as_object()["phase"] = "Terminating";
  }
  a.object = StoreLocked(*p.r, p.ns, p.name, std::move(obj), "MODIFIED");
  return Response{200, json::serialize(a.object), ""};
}

Response FakeTransport::SubresourcePostLocked(const Parsed& p, const json::value& body, Action& a) {
  const bool pods = p.r->group.empty() && p.r->resource == "pods";
  if (pods && (p.sub == "binding" || p.sub == "eviction")) {
    auto& table = objects_[ResourceId(*p.r)];
    auto it = table.find(ObjKey(p.ns, p.name));
    if (it == table.end()) return StatusResponse(404, "NotFound", Quoted(p.r->resource, p.name) + " not found");
    if (p.sub == "eviction") {
      json::value opts;
      if (body.is_object()) {
        if (auto* d = body.as_object().if_contains("deleteOptions")) opts = *d;
      }
      Response r = DeleteLocked(p, opts, a);
      if (r.code != 200) return r;
      return Success();
    }
    json::object pod = it->second;
    std::string node;
    if (body.is_object()) {
      if (auto* t = body.as_object().if_contains("target"); t && t->is_object()) node = api::GetString(t->as_object(), "name");
    }
    json::value& spec = pod["spec"];
    if (!spec.is_object()) spec = json::object();
    spec.as_object()["nodeName"] = node;
    a.object = StoreLocked(*p.r, p.ns, p.name, std::move(pod), "MODIFIED");
    return Success();
  }
  return Response{201, json::serialize(body), ""};
}

}  // namespace kite::client::testing
