#include "server/apiserver/handlers/handlers.h"

#include <boost/json.hpp>

#include <optional>

#include "api/object.h"
#include "api/defaults.h"
#include "api/json_schema.h"
#include "api/protobuf_decode.h"
#include "api/json_patch.h"
#include "api/json_text.h"
#include "api/merge_patch.h"
#include "api/schema.h"
#include "api/schema_check.h"
#include "api/yaml_json.h"
#include "server/apiserver/crds/crd_defaults.h"
#include "server/apiserver/handlers/handlers_internal.h"
#include "server/apiserver/handlers/list_stream.h"
#include "server/apiserver/handlers/routes.h"
#include "server/apiserver/handlers/service_proxy.h"
#include "server/apiserver/rbac/escalation.h"
#include "server/apiserver/rbac/node_restriction.h"
#include "server/apiserver/strategy/strategy.h"


namespace kite::apiserver {
namespace json = boost::json;
namespace asio = boost::asio;

namespace {

std::string MediaType(const HttpsRequest& req) {
  std::string t = req.Header("content-type");
  if (auto semi = t.find(';'); semi != std::string::npos) t.resize(semi);
  while (!t.empty() && t.back() == ' ') t.pop_back();
  return t;
}

Result<json::value> ParseText(const HttpsRequest& req, const std::string& media) {
  if (media == "application/yaml" || media == "application/apply-patch+yaml" || media == "text/yaml") {
    auto v = api::YamlToJson(req.body);
    if (!v.ok()) return BadRequest("error converting YAML to JSON: " + v.status().message());
    return std::move(v.value());
  }
  auto v = api::ParseJson(req.body);
  if (!v.ok()) return BadRequest("error decoding the request body: " + v.status().message());
  return std::move(v.value());
}

std::optional<Status> CheckPropagationPolicy(const std::string& p) {
  if (p.empty() || p == "Background" || p == "Foreground" || p == "Orphan") return std::nullopt;
  return Status::Api(422, "Invalid", "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported value: \"" + p +
                                      "\": supported values: \"Foreground\", \"Background\", \"Orphan\", \"nil\"");
}

// Upstream's ValidateFieldManager on Create/Update/PatchOptions: at most 128 bytes, printable.
std::optional<Status> CheckFieldManager(const std::string& verb, const std::string& m) {
  std::string problem;
  if (m.size() > 128) problem = "Too long: may not be more than 128 bytes";
  for (unsigned char ch : m) {
    if (ch < 0x20 || ch == 0x7f) problem = "Invalid value: " + json::serialize(json::string(m)) + ": invalid characters";
  }
  if (problem.empty()) return std::nullopt;
  std::string kind = verb == "create" ? "CreateOptions" : verb == "update" ? "UpdateOptions" : "PatchOptions";
  Status::Details d;
  d.causes.push_back({problem.rfind("Too long", 0) == 0 ? "FieldValueTooLong" : "FieldValueInvalid", problem, "fieldManager"});
  return Status::Api(422, "Invalid", kind + ".meta.k8s.io \"\" is invalid: fieldManager: " + problem).set_details(std::move(d));
}

}  // namespace

Result<json::object> DecodeProtobufBody(const std::string& body) {
  auto decoded = api::DecodeProtobufEnvelope(body);
  if (!decoded.ok()) return BadRequest("error decoding the protobuf request body: " + decoded.status().message());
  return std::move(decoded.value().object);
}

Result<json::object> DecodeBody(const HttpsRequest& req, const api::ResourceInfo& r, const std::string& kind,
                               const std::string& group_version) {
  const std::string want_kind = kind.empty() ? r.kind : kind;
  const std::string want_gv = group_version.empty() ? r.group_version() : group_version;
  const std::string media = MediaType(req);
  json::object o;
  if (media == "application/vnd.kubernetes.protobuf") {
    auto decoded = DecodeProtobufBody(req.body);
    if (!decoded.ok()) return decoded.error();
    o = std::move(decoded.value());
  } else if (media.empty() || media == "application/json" || media == "application/yaml" || media == "text/yaml" ||
             media == "*/*") {
    auto v = ParseText(req, media);
    if (!v.ok()) return v.error();
    if (!v.value().is_object()) return BadRequest("the body of the request must be a JSON object");
    o = std::move(v.value().as_object());
  } else {
    return Status::Api(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    "application/json, application/yaml, application/vnd.kubernetes.protobuf");
  }
  std::string av = api::GetString(o, "apiVersion"), k = api::GetString(o, "kind");
  if (!av.empty() && av != want_gv) {
    return BadRequest("the API version in the data (" + av + ") does not match the expected API version (" + want_gv + ")");
  }
  if (!k.empty() && k != want_kind) {
    return BadRequest("the kind in the data (" + k + ") does not match the expected kind (" + want_kind + ")");
  }
  return o;
}

std::string ManagerName(const HttpsRequest& req) {
  if (std::string m = req.Query("fieldManager"); !m.empty()) return m;
  // Upstream names an unnamed manager after the client's User-Agent program.
  std::string ua = req.Header("user-agent");
  ua = ua.substr(0, ua.find('/'));
  return ua.empty() ? "unknown" : ua;
}

Result<std::vector<std::string>> PrepareObject(const HttpsRequest& req, const api::ResourceInfo& r, json::object& obj,
                                              bool defaults, CustomResources* crds, const json::object* old,
                                              bool validate) {
  std::vector<std::string> warnings;
  obj["apiVersion"] = r.group_version();
  obj["kind"] = r.kind;
  std::string validation = req.Query("fieldValidation");
  if (!validation.empty() && validation != "Strict" && validation != "Warn" && validation != "Ignore") {
    return BadRequest("fieldValidation: Unsupported value: \"" + validation +
                      "\": supported values: \"Ignore\", \"Strict\", \"Warn\"");
  }
  if (validation.empty()) validation = "Warn";
  if (const api::schema::Type* t = api::schema::TypeForKind(r.group, r.version, r.kind)) {
    auto checked = api::CheckAgainstSchema(obj, *t);
    const std::string prefix = r.kind + " in version \"" + r.version + "\" cannot be handled as a " + r.kind + ": ";
    if (!checked.ok()) return BadRequest(prefix + checked.status().message());
    if (!checked->unknown_fields.empty() && validation != "Ignore") {
      std::string msg;
      for (const auto& f : checked->unknown_fields) {
        if (validation == "Strict") msg += (msg.empty() ? "" : ", ") + std::string("unknown field \"") + f + "\"";
        else warnings.push_back("unknown field \"" + f + "\"");
      }
      if (validation == "Strict") return BadRequest(prefix + "strict decoding error: " + msg);
    }
  }
  if (r.custom && r.crd_version) {
    auto sc = r.crd_version->find("schema");
    const json::object* schema = nullptr;
    if (sc != r.crd_version->end() && sc->value().is_object()) {
      auto o = sc->value().as_object().find("openAPIV3Schema");
      if (o != sc->value().as_object().end() && o->value().is_object()) schema = &o->value().as_object();
    }
    if (schema) {
      ApplyCrdDefaults(r, obj);  // before the checks, as upstream defaults while decoding
      auto checked = api::CheckAgainstJsonSchema(obj, *schema);
      if (!checked.unknown_fields.empty() && validation != "Ignore") {
        std::string msg;
        for (const auto& f : checked.unknown_fields) {
          if (validation == "Strict") msg += (msg.empty() ? "" : ", ") + std::string("unknown field \"") + f + "\"";
          else warnings.push_back("unknown field \"" + f + "\"");
        }
        if (validation == "Strict") return BadRequest("strict decoding error: " + msg);
      }
      if (!checked.errors.empty()) {
        Status::Details d;
        std::string list;
        for (size_t i = 0; i < checked.errors.size(); ++i) {
          const auto& ce = checked.errors[i];
          list += (i ? ", " : "") + ce.field + ": " + ce.message;
          d.causes.push_back({ce.reason, ce.message, ce.field});
        }
        const std::string name = api::GetString(api::MutableObject(obj, "metadata"), "name");
        d.name = name;
        d.group = r.group;
        d.kind = r.kind;
        return Status::Api(422, "Invalid", r.kind + "." + r.group + " \"" + name + "\" is invalid: " +
                                               (checked.errors.size() > 1 ? "[" + list + "]" : list))
            .set_details(std::move(d));
      }
    }
  }
  StrategyFor(r).Normalize(obj);
  if (defaults) api::ApplyDefaults(r, obj);
  if (crds) {
    if (auto e = StrategyFor(r).PrepareForWrite(obj, *crds); e) return *e;
  }
  if (old) StrategyFor(r).PrepareForUpdate(obj, *old);
  if (!validate) return warnings;
  if (auto e = ValidateObject(r, obj); e) return *e;
  return warnings;
}

asio::awaitable<Result<ApiResponse>> ResourceHandlers::Handle(HttpsRequest& req, HttpsResponder& res,
                                                             const RequestInfo& info, const api::ResourceInfo& r,
                                                             const RequestAttributes& a) {
  Call c{req, res, info, r, a, r.namespaced ? info.namespace_ : "", false};
  // The streaming verbs, before the checks of the other verbs' options (dryRun, fieldManager).
  if (info.verb == "watch") co_return co_await Watch(c);
  const Route route = FindRoute(r, info.subresource, info.verb);  // routes.cc
  if (route.before_write_options) co_return co_await Dispatch(route.handler, c);
  std::string dry = req.Query("dryRun");
  if (!dry.empty() && dry != "All") {
    co_return BadRequest("dryRun: Unsupported value: \"" + dry + "\": supported values: \"All\"");
  }
  c.dry_run = dry == "All";
  const std::string& verb = info.verb;
  if (verb == "create" || verb == "update" || verb == "patch") {
    if (auto e = CheckFieldManager(verb, req.Query("fieldManager"))) co_return *e;
  }
  if (ReviewAnswer answer = ReviewFor(r)) {
    if (verb != "create") co_return MethodNotSupported(verb, QualifiedResource(r));
    co_return co_await Review(c, answer);
  }
  if (route.handler != RouteHandler::kNone) co_return co_await Dispatch(route.handler, c);
  if (route.code == 404) co_return NotFoundPath();
  if (route.code == 405) co_return MethodNotSupported(verb, QualifiedResource(r));
  if (verb == "get") {  // the hot path: no Dispatch frame
    auto got = co_await registry_.Get(r, c.ns, info.name);
    if (!got.ok()) co_return got.error();
    co_return ApiResponse{200, std::move(got.value()), {}};
  }
  if (verb == "list") {
    auto opts = ParseListOptions(req, r);
    if (!opts.ok()) co_return opts.error();
    // Straight from the stored text when nothing needs the objects decoded (list_stream.h).
    if (StreamableList(r, req)) co_return co_await StreamList(c.res, store_, r, c.ns, opts.value());
    auto list = co_await registry_.List(r, c.ns, opts.value());
    if (!list.ok()) co_return list.error();
    co_return ApiResponse{200, std::move(list.value()), {}};
  }
  if (verb == "create") co_return co_await Create(c);
  if (verb == "update") co_return co_await Update(c, UpdateOptions::Scope::kMain);
  if (verb == "patch") co_return co_await Patch(c, UpdateOptions::Scope::kMain);
  if (verb == "delete") co_return co_await Delete(c);
  if (verb == "deletecollection") co_return co_await DeleteCollection(c);
  co_return MethodNotSupported(verb, QualifiedResource(r));
}

asio::awaitable<Result<ApiResponse>> ResourceHandlers::Dispatch(RouteHandler handler, Call& c) {
  switch (handler) {
    case RouteHandler::kGetObject: {
      auto got = co_await registry_.Get(c.r, c.ns, c.info.name);
      if (!got.ok()) co_return got.error();
      co_return ApiResponse{200, std::move(got.value()), {}};
    }
    case RouteHandler::kUpdateStatus: co_return co_await Update(c, UpdateOptions::Scope::kStatus);
    case RouteHandler::kPatchStatus: co_return co_await Patch(c, UpdateOptions::Scope::kStatus);
    case RouteHandler::kUpdateObject: co_return co_await Update(c, UpdateOptions::Scope::kMain);
    case RouteHandler::kPatchObject: co_return co_await Patch(c, UpdateOptions::Scope::kMain);
    case RouteHandler::kScale: co_return co_await Scale(c);
    case RouteHandler::kEviction: co_return co_await Eviction(c);
    case RouteHandler::kBinding: co_return co_await Binding(c, c.info.name);
    case RouteHandler::kBindingFromBody: {
      auto body = DecodeBody(c.req, c.r);
      if (!body.ok()) co_return body.error();
      // Named first: no temporary may live across a suspension (g++ 12; see base/https_server.cc).
      const std::string pod_name = api::GetString(api::MutableObject(body.value(), "metadata"), "name");
      co_return co_await Binding(c, pod_name);
    }
    case RouteHandler::kTokenRequest: co_return co_await TokenRequest(c);
    case RouteHandler::kPodLog: co_return co_await PodLog(c);
    case RouteHandler::kNodeProxy: co_return co_await NodeProxy(c);
    case RouteHandler::kObjectProxy: co_return co_await PodOrServiceProxy(registry_, c.r, c.ns, c.info.name, c.req, c.res);
    case RouteHandler::kRemoteCommand: co_return co_await RemoteCommand(c);
    case RouteHandler::kNone: break;
  }
  co_return MethodNotSupported(c.info.verb, QualifiedResource(c.r));
}

Status ResourceHandlers::Escalation(Call& c, json::object& obj, const json::object* old) {
  if (RequesterAdmission admit = RequesterAdmissionFor(c.r)) {  // routes.cc
    if (auto s = admit(c.info.subresource, *authz_, c.a.user, obj, old); !s.ok()) return s;
  }
  if (node_graph_ && c.info.subresource.empty()) {
    if (auto s = rbac::NodeRestrictionObject(c.a.user, c.r, c.info.verb, obj); !s.ok()) return s;
  }
  if (!rbac_) return Status::Ok();
  return rbac::ConfirmNoEscalation(*authz_, *rbac_, c.a.user, c.r, c.ns, obj, old);
}

asio::awaitable<Result<ApiResponse>> ResourceHandlers::Create(Call& c) {
  auto body = DecodeBody(c.req, c.r);
  if (!body.ok()) co_return body.error();
  json::object& obj = body.value();
  auto warnings = PrepareObject(c.req, c.r, obj, true, crds_);
  if (!warnings.ok()) co_return warnings.error();
  if (auto e = ValidateCreate(c.r, obj)) co_return *e;
  ServiceAddressHolds::Hold hold(&address_holds_);  // until the write returned
  if (auto admitted = co_await AdmitCreate(c.r, c.ns, obj, &hold); !admitted.ok()) co_return admitted.error();
  if (auto e = Escalation(c, obj, nullptr); !e.ok()) co_return e;
  const std::string created_name = api::GetString(api::MutableObject(obj, "metadata"), "name");
  if (Status s = co_await AdmitByWebhooks(c, "CREATE", &obj, nullptr, created_name, &warnings.value()); !s.ok()) co_return s;
  RecordManager(obj, ManagerName(c.req), "Update", c.r.group_version(), nullptr);
  auto out = co_await registry_.Create(c.r, c.ns, std::move(obj), c.dry_run);
  if (!out.ok()) co_return out.error();
  co_return ApiResponse{201, std::move(out.value()), std::move(warnings.value())};
}

asio::awaitable<Result<ApiResponse>> ResourceHandlers::Update(Call& c, UpdateOptions::Scope scope) {
  auto body = DecodeBody(c.req, c.r);
  if (!body.ok()) co_return body.error();
  json::object& obj = body.value();
  // Validated once the stored object is read (below): what the update changes may depend on it.
  auto warnings = PrepareObject(c.req, c.r, obj, true, crds_, nullptr, false);
  if (!warnings.ok()) co_return warnings.error();
  // A body that pins its resourceVersion is conditional on that version: a concurrent write is
  // 409. Without one the update is unconditional: when a writer gets in between the read and
  // the write, read again and redo it (upstream's GuaranteedUpdate), so it is never 409.
  const bool pinned = !api::GetString(api::MutableObject(obj, "metadata"), "resourceVersion").empty();
  for (int attempt = 0;; ++attempt) {
    auto current = co_await registry_.Get(c.r, c.ns, c.info.name);
    if (!current.ok()) co_return current.error();
    // The body's uid is a precondition, checked first as upstream does (not retried, and before
    // admission and validation could answer otherwise).
    if (auto e = CheckUidPrecondition(c.r, c.ns, c.info.name, obj, current.value())) co_return *e;
    json::object next = obj;  // this attempt's copy: allocation and managedFields change it
    if (c.info.subresource.empty()) StrategyFor(c.r).PrepareForUpdate(next, current.value());
    if (auto e = ValidateObject(c.r, next); e) co_return *e;
    if (scope == UpdateOptions::Scope::kMain && !c.info.subresource.empty()) {
      StrategyFor(c.r).PrepareSubresourceUpdate(c.info.subresource, next, current.value());
    }
    ServiceAddressHolds::Hold hold(&address_holds_);  // until this attempt's write returned
    if (auto admitted = co_await AdmitUpdate(c.r, next, current.value(), &hold); !admitted.ok()) co_return admitted.error();
    if (auto e = Escalation(c, next, &current.value()); !e.ok()) co_return e;
    if (auto e = ValidateUpdate(c.r, next, current.value(), c.info.subresource); e) co_return *e;
    std::vector<std::string> more = warnings.value();
    if (Status s = co_await AdmitByWebhooks(c, "UPDATE", &next, &current.value(), c.info.name, &more); !s.ok()) co_return s;
    if (scope != UpdateOptions::Scope::kStatus) {  // a …/status write keeps the stored metadata
      RecordManager(next, ManagerName(c.req), "Update", c.r.group_version(), &current.value());
    }
    // Update takes the version just read (no second read), so a write in between is a conflict.
    auto out = co_await registry_.Update(c.r, c.ns, c.info.name, std::move(next),
                                         UpdateOptions{c.dry_run, scope, &current.value()});
    if (!out.ok()) {
      if (out.error().http_code() == 409 && out.error().reason() == "Conflict" && !pinned && attempt < kConflictRetries) continue;
      co_return out.error();
    }
    co_return ApiResponse{200, std::move(out.value()), std::move(more)};
  }
}

asio::awaitable<Result<ApiResponse>> ResourceHandlers::Patch(Call& c, UpdateOptions::Scope scope) {
  const std::string media = MediaType(c.req);
  const bool apply = media == "application/apply-patch+yaml";
  if (!apply && media != "application/json-patch+json" && media != "application/merge-patch+json" &&
      media != "application/strategic-merge-patch+json") {
    co_return Status::Api(415, "UnsupportedMediaType",
                       "the body of the request was in an unknown format - accepted media types include: "
                       "application/json-patch+json, application/merge-patch+json, "
                       "application/apply-patch+yaml, application/strategic-merge-patch+json");
  }
  const std::string manager = c.req.Query("fieldManager");
  if (apply && manager.empty()) {
    co_return Status::Api(422, "Invalid", "PatchOptions.meta.k8s.io \"\" is invalid: fieldManager: Required value: is required for apply patch");
  }
  auto patch = ParseText(c.req, media);
  if (!patch.ok()) co_return patch.error();
  // A concurrent writer makes the update conflict; re-read and re-apply, as upstream does, unless
  // the patch itself pins a resourceVersion.
  for (int attempt = 0;; ++attempt) {
    auto current = co_await registry_.Get(c.r, c.ns, c.info.name);
    if (!current.ok()) {
      if (apply && current.error().http_code() == 404 && scope == UpdateOptions::Scope::kMain && c.info.subresource.empty()) {
        // Apply to a missing object creates it.
        if (!patch.value().is_object()) co_return BadRequest("the apply patch must be an object");
        json::object obj = patch.value().as_object();
        if (std::string n = api::GetString(api::MutableObject(obj, "metadata"), "name"); !n.empty() && n != c.info.name) {
          co_return BadRequest("the name of the object (" + n + ") does not match the name on the URL (" + c.info.name + ")");
        }
        api::MutableObject(obj, "metadata")["name"] = c.info.name;
        json::object applied = obj;
        auto warnings = PrepareObject(c.req, c.r, obj, true, crds_);
        if (!warnings.ok()) co_return warnings.error();
        if (auto e = ValidateCreate(c.r, obj)) co_return *e;
        ServiceAddressHolds::Hold hold(&address_holds_);  // until the write returned
        if (auto admitted = co_await AdmitCreate(c.r, c.ns, obj, &hold); !admitted.ok()) co_return admitted.error();
        if (auto e = Escalation(c, obj, nullptr); !e.ok()) co_return e;
        if (Status s = co_await AdmitByWebhooks(c, "CREATE", &obj, nullptr, c.info.name, &warnings.value()); !s.ok()) {
          co_return s;
        }
        RecordApply(obj, applied, manager, c.r.group_version());
        auto out = co_await registry_.Create(c.r, c.ns, std::move(obj), c.dry_run);
        if (!out.ok()) co_return out.error();
        co_return ApiResponse{201, std::move(out.value()), std::move(warnings.value())};
      }
      co_return current.error();
    }
    const json::object& cur = current.value();
    auto patched = ApplyPatch(c.r, media, cur, patch.value(), manager, QueryBool(c.req, "force"));
    if (!patched.ok()) co_return patched.error();
    json::object obj = std::move(patched.value());
    if (auto e = ValidatePatchedUid(c.r, obj, cur); e) co_return *e;
    if (scope == UpdateOptions::Scope::kMain && !c.info.subresource.empty()) {
      StrategyFor(c.r).PrepareSubresourceUpdate(c.info.subresource, obj, cur);
    }
    auto warnings = PrepareObject(c.req, c.r, obj, true, crds_, c.info.subresource.empty() ? &cur : nullptr);
    if (!warnings.ok()) co_return warnings.error();
    ServiceAddressHolds::Hold hold(&address_holds_);  // until this attempt's write returned
    if (auto admitted = co_await AdmitUpdate(c.r, obj, cur, &hold); !admitted.ok()) co_return admitted.error();
    if (auto e = Escalation(c, obj, &cur); !e.ok()) co_return e;
    if (auto e = ValidateUpdate(c.r, obj, cur, c.info.subresource); e) co_return *e;
    if (Status s = co_await AdmitByWebhooks(c, "UPDATE", &obj, &cur, c.info.name, &warnings.value()); !s.ok()) co_return s;
    // A …/status write keeps the stored metadata (Registry::Update), managedFields included, so
    // there is nothing to record for it.
    if (!apply && scope != UpdateOptions::Scope::kStatus) {
      RecordManager(obj, ManagerName(c.req), "Update", c.r.group_version(), &cur);
    }
    const bool pinned = api::GetString(api::MutableObject(obj, "metadata"), "resourceVersion") != api::GetString(api::MutableObject(current.value(), "metadata"), "resourceVersion");
    if (!pinned) api::MutableObject(obj, "metadata")["resourceVersion"] = api::GetString(api::MutableObject(current.value(), "metadata"), "resourceVersion");
    // Update takes `current` (no second read); on a conflict the loop reads it again.
    auto out = co_await registry_.Update(c.r, c.ns, c.info.name, std::move(obj),
                                         UpdateOptions{c.dry_run, scope, &current.value()});
    if (!out.ok()) {
      if (out.error().http_code() == 409 && out.error().reason() == "Conflict" && !pinned && attempt < kConflictRetries) continue;
      co_return out.error();
    }
    co_return ApiResponse{200, std::move(out.value()), std::move(warnings.value())};
  }
}

asio::awaitable<Result<ApiResponse>> ResourceHandlers::Delete(Call& c) {
  DeleteOptions o;
  o.dry_run = c.dry_run;
  std::optional<bool> orphan;  // the deprecated orphanDependents
  if (!c.req.body.empty()) {
    auto v = ParseText(c.req, MediaType(c.req));
    if (!v.ok()) co_return v.error();
    if (!v.value().is_object()) co_return BadRequest("DeleteOptions must be a JSON object");
    const auto& b = v.value().as_object();
    o.propagation_policy = api::GetString(b, "propagationPolicy");
    if (auto it = b.find("orphanDependents"); it != b.end() && it->value().is_bool()) orphan = it->value().as_bool();
    if (auto it = b.find("gracePeriodSeconds"); it != b.end() && it->value().is_int64()) {
      o.grace_period_seconds = it->value().as_int64();
    }
    if (auto it = b.find("preconditions"); it != b.end() && it->value().is_object()) {
      o.precondition_uid = api::GetString(it->value().as_object(), "uid");
      o.precondition_resource_version = api::GetString(it->value().as_object(), "resourceVersion");
    }
    if (auto it = b.find("dryRun"); it != b.end() && it->value().is_array()) {
      for (const auto& d : it->value().as_array()) o.dry_run |= d.is_string() && d.as_string() == "All";
    }
  }
  if (auto p = c.req.Query("propagationPolicy"); !p.empty()) o.propagation_policy = p;
  auto grace = QueryInt(c.req, "gracePeriodSeconds");
  if (!grace.ok()) co_return grace.error();
  if (grace.value()) o.grace_period_seconds = *grace.value();
  if (c.req.HasQuery("orphanDependents")) orphan = QueryBool(c.req, "orphanDependents");
  if (auto e = CheckPropagationPolicy(o.propagation_policy)) co_return *e;
  if (orphan) {
    // The deprecated orphanDependents: true is Orphan, false is Background; not with a policy.
    if (!o.propagation_policy.empty()) {
      co_return Status::Api(422, "Invalid", "DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Invalid value: \"" +
                                             o.propagation_policy + "\": orphanDependents and deletionPropagation cannot be both set");
    }
    o.propagation_policy = *orphan ? "Orphan" : "Background";
  }
  if (o.propagation_policy.empty()) o.propagation_policy = StrategyFor(c.r).DefaultPropagationPolicy();
  if (Status s = co_await AdmitByWebhooks(c, "DELETE", nullptr, nullptr, c.info.name); !s.ok()) co_return s;
  auto out = co_await registry_.Delete(c.r, c.ns, c.info.name, o);
  if (!out.ok()) co_return out.error();
  DeleteResult& d = out.value();
  if (!d.gone || StrategyFor(c.r).ReturnsDeletedObject()) co_return ApiResponse{200, std::move(d.object), {}};
  // Upstream answers most finished deletes with a Success Status naming the object.
  json::object details{{"name", c.info.name}, {"kind", c.r.resource}};
  if (!c.r.group.empty()) details["group"] = c.r.group;
  if (auto uid = api::GetString(api::MutableObject(d.object, "metadata"), "uid"); !uid.empty()) details["uid"] = uid;
  co_return ApiResponse{200,
                        json::object{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()},
                                     {"status", "Success"}, {"details", details}},
                        {}};
}

asio::awaitable<Status> ResourceHandlers::AdmitByWebhooks(Call& c, const char* operation, json::object* obj,
                                                          const json::object* old, const std::string& name,
                                                          std::vector<std::string>* warnings, const std::string& kind) {
  AdmissionAttributes a;
  a.kind = kind;
  a.warnings = warnings;
  a.r = &c.r;
  a.ns = c.ns;
  if (const json::object* of = old ? old : obj; of && !api::Namespace(*of).empty()) a.ns = api::Namespace(*of);
  a.name = name;
  a.subresource = c.info.subresource;
  a.operation = operation;
  a.user = &c.a.user;
  a.dry_run = c.dry_run;
  a.old = old;
  // One read of the configurations for the whole request; a request no rule matches ends here.
  const auto configs = co_await webhooks_.Current();
  if (!WebhookAdmission::AnyFor(*configs, a)) co_return Status::Ok();
  std::optional<json::object> stored;  // a DELETE's object, read only when a webhook may see it
  if (!obj && !old) {
    auto got = co_await registry_.Get(c.r, c.ns, name);
    if (!got.ok()) co_return Status::Ok();  // the delete itself answers NotFound
    stored = std::move(got.value());
    a.old = &*stored;
  }
  auto patched = co_await webhooks_.Mutate(*configs, a, obj);
  if (!patched.ok()) co_return patched.error();
  if (*patched && obj && kind.empty()) {
    if (auto e = old ? ValidateUpdate(c.r, *obj, *old, c.info.subresource) : ValidateObject(c.r, *obj)) co_return *e;
  }
  Status validated = co_await webhooks_.Validate(*configs, a, obj);
  co_return validated;
}

asio::awaitable<Result<ApiResponse>> ResourceHandlers::DeleteCollection(Call& c) {
  auto opts = ParseListOptions(c.req, c.r);
  if (!opts.ok()) co_return opts.error();
  std::string policy = c.req.Query("propagationPolicy");
  if (auto e = CheckPropagationPolicy(policy)) co_return *e;
  if (policy.empty()) policy = StrategyFor(c.r).DefaultPropagationPolicy();
  auto list = co_await registry_.List(c.r, c.ns, opts.value());
  if (!list.ok()) co_return list.error();
  json::array deleted;
  for (auto& item : list.value()["items"].as_array()) {
    auto& meta = api::MutableObject(item.as_object(), "metadata");
    DeleteOptions o;
    o.dry_run = c.dry_run;
    o.propagation_policy = policy;
    const std::string item_ns = api::GetString(meta, "namespace"), item_name = api::GetString(meta, "name");
    // Each item's DELETE goes to the webhooks, as upstream's DeleteCollection sends it.
    if (Status s = co_await AdmitByWebhooks(c, "DELETE", nullptr, &item.as_object(), item_name); !s.ok()) co_return s;
    auto out = co_await registry_.Delete(c.r, item_ns, item_name, o);
    if (out.ok()) deleted.push_back(std::move(out.value().object));
  }
  json::object result = std::move(list.value());
  result["items"] = std::move(deleted);
  co_return ApiResponse{200, std::move(result), {}};
}

}  // namespace kite::apiserver
