#include "client/client.h"

#include <boost/json.hpp>

#include "base/encoding.h"

namespace kite::client {
namespace json = boost::json;

namespace {

const char* PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kJson: return "application/json-patch+json";
    case PatchType::kMerge: return "application/merge-patch+json";
    case PatchType::kStrategic: return "application/strategic-merge-patch+json";
    case PatchType::kApply: return "application/apply-patch+yaml";
  }
  return "application/merge-patch+json";
}

// The API's answer as a Result: 2xx bodies parse as the object; anything else as its Status
// (reason and message from the body; a reason the body lacks follows the HTTP code).
Result<json::object> FromResponse(const Response& resp) {
  if (resp.code == 0) return Status(Code::kUnavailable, resp.error);
  boost::system::error_code ec;
  json::value v = json::parse(resp.body, ec);
  if (resp.code >= 200 && resp.code < 300) {
    if (ec || !v.is_object()) return Status::Api(resp.code, "InternalError", "response is not a JSON object");
    return std::move(v.as_object());
  }
  std::string reason, message = resp.body;
  if (!ec && v.is_object()) {
    const auto& o = v.as_object();
    if (auto* r = o.if_contains("reason"); r && r->is_string()) reason = std::string(r->as_string());
    if (auto* m = o.if_contains("message"); m && m->is_string()) message = std::string(m->as_string());
  }
  if (reason.empty()) {
    switch (resp.code) {
      case 404: reason = "NotFound"; break;
      case 409: reason = "Conflict"; break;
      case 410: reason = "Expired"; break;
      case 422: reason = "Invalid"; break;
      case 429: reason = "TooManyRequests"; break;
      default: reason = "InternalError";
    }
  }
  return Status::Api(resp.code, std::move(reason), std::move(message));
}

void AddListQuery(Request& req, const ListParams& p) {
  if (!p.label_selector.empty()) req.query.emplace_back("labelSelector", p.label_selector);
  if (!p.field_selector.empty()) req.query.emplace_back("fieldSelector", p.field_selector);
  if (p.limit > 0) req.query.emplace_back("limit", std::to_string(p.limit));
  if (!p.continue_token.empty()) req.query.emplace_back("continue", p.continue_token);
  if (!p.resource_version.empty()) req.query.emplace_back("resourceVersion", p.resource_version);
  if (p.timeout_seconds > 0) req.query.emplace_back("timeoutSeconds", std::to_string(p.timeout_seconds));
  if (p.allow_bookmarks) req.query.emplace_back("allowWatchBookmarks", "true");
}

}  // namespace

std::string EncodeTarget(const Request& request) {
  std::string t = request.path;
  char sep = '?';
  for (const auto& [k, v] : request.query) {
    t += sep;
    t += PercentEncode(k);
    t += '=';
    t += PercentEncode(v);
    sep = '&';
  }
  return t;
}

std::string Client::Path(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                         const std::string& subresource) {
  std::string p = r.group.empty() ? "/api/" + r.version : "/apis/" + r.group + "/" + r.version;
  if (r.namespaced && !ns.empty()) p += "/namespaces/" + ns;
  p += "/" + r.resource;
  if (!name.empty()) p += "/" + name;
  if (!subresource.empty()) p += "/" + subresource;
  return p;
}

Result<json::object> Client::Call(Request req) const {
  Response resp = transport_->Do(req);
  if (req.body_unused && resp.code >= 200 && resp.code < 300) return json::object();
  return FromResponse(resp);
}

Request Client::SubresourcePost(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                const std::string& subresource, const json::object& body) {
  Request req;
  req.method = "POST";
  req.path = Path(r, ns, name, subresource);
  req.body = json::serialize(body);
  return req;
}

Result<json::object> Client::Get(const api::ResourceInfo& r, const std::string& ns, const std::string& name) const {
  Request req;
  req.path = Path(r, ns, name);
  return Call(std::move(req));
}

Result<json::object> Client::List(const api::ResourceInfo& r, const std::string& ns, const ListParams& p) const {
  Request req;
  req.path = Path(r, ns);
  AddListQuery(req, p);
  return Call(std::move(req));
}

Result<json::object> Client::Create(const api::ResourceInfo& r, const std::string& ns, const json::object& obj) const {
  Request req;
  req.method = "POST";
  req.path = Path(r, ns);
  req.body = json::serialize(obj);
  return Call(std::move(req));
}

Result<json::object> Client::Update(const api::ResourceInfo& r, const std::string& ns, const json::object& obj,
                                    const std::string& subresource) const {
  Request req;
  req.method = "PUT";
  req.path = Path(r, ns, api::Name(obj), subresource);
  req.body = json::serialize(obj);
  return Call(std::move(req));
}

Result<json::object> Client::UpdateStatus(const api::ResourceInfo& r, const std::string& ns,
                                       const json::object& obj) const {
  return Update(r, ns, obj, "status");
}

Request Client::PatchRequest(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                             PatchType type, const std::string& body, const std::string& subresource) {
  Request req;
  req.method = "PATCH";
  req.path = Path(r, ns, name, subresource);
  req.body = body;
  req.content_type = PatchContentType(type);
  return req;
}

Result<json::object> Client::Patch(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                PatchType type, const std::string& body, const std::string& subresource,
                                const std::string& field_manager) const {
  Request req = PatchRequest(r, ns, name, type, body, subresource);
  if (!field_manager.empty()) req.query.emplace_back("fieldManager", field_manager);
  return Call(std::move(req));
}

Result<json::object> Client::PatchDiscardingResult(const api::ResourceInfo& r, const std::string& ns,
                                                const std::string& name, PatchType type, const std::string& body,
                                                const std::string& subresource) const {
  Request req = PatchRequest(r, ns, name, type, body, subresource);
  req.body_unused = true;
  return Call(std::move(req));
}

Result<json::object> Client::Delete(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                 const DeleteParams& p) const {
  Request req;
  req.method = "DELETE";
  req.path = Path(r, ns, name);
  json::object opts{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!p.propagation_policy.empty()) opts["propagationPolicy"] = p.propagation_policy;
  if (p.grace_period_seconds) opts["gracePeriodSeconds"] = *p.grace_period_seconds;
  if (!p.precondition_uid.empty() || !p.precondition_resource_version.empty()) {
    json::object pre;
    if (!p.precondition_uid.empty()) pre["uid"] = p.precondition_uid;
    if (!p.precondition_resource_version.empty()) pre["resourceVersion"] = p.precondition_resource_version;
    opts["preconditions"] = std::move(pre);
  }
  req.body = json::serialize(opts);
  return Call(std::move(req));
}

Result<json::object> Client::CreateSubresource(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                            const std::string& subresource, const json::object& body) const {
  return Call(SubresourcePost(r, ns, name, subresource, body));
}

void Client::CreateSubresourceAsync(const api::ResourceInfo& r, const std::string& ns, const std::string& name,
                                    const std::string& subresource, const json::object& body,
                                    std::function<void(Result<json::object>)> done) const {
  transport_->DoAsync(SubresourcePost(r, ns, name, subresource, body),
                      [done = std::move(done)](Response resp) { done(FromResponse(resp)); });
}

std::optional<WatchEvent> Client::ParseWatchEvent(std::string_view line) {
  boost::system::error_code ec;
  json::value v = json::parse(line, ec);
  if (ec || !v.is_object()) return std::nullopt;
  auto& o = v.as_object();
  WatchEvent ev;
  if (auto* t = o.if_contains("type"); t && t->is_string()) ev.type = std::string(t->as_string());
  if (auto* obj = o.if_contains("object"); obj && obj->is_object()) ev.object = std::move(obj->as_object());
  return ev;
}

std::unique_ptr<WatchStream> Client::Watch(const api::ResourceInfo& r, const std::string& ns, const ListParams& p,
                                           std::function<void(WatchEvent)> on_event,
                                           std::function<void(Status)> on_end) const {
  return WatchLines(
      r, ns, p,
      [on_event = std::move(on_event)](std::string_view line) {
        if (auto ev = ParseWatchEvent(line)) on_event(std::move(*ev));
      },
      std::move(on_end));
}

std::unique_ptr<WatchStream> Client::WatchLines(const api::ResourceInfo& r, const std::string& ns, const ListParams& p,
                                                std::function<void(std::string_view)> line_cb,
                                                std::function<void(Status)> on_end) const {
  Request req;
  req.path = Path(r, ns);
  req.query.emplace_back("watch", "true");
  AddListQuery(req, p);
  auto end_cb = [on_end = std::move(on_end)](Response resp) {
    if (resp.code >= 200 && resp.code < 300) {
      on_end(Status::Ok());
      return;
    }
    auto res = FromResponse(resp);
    on_end(res.status());
  };
  return transport_->Watch(req, std::move(line_cb), std::move(end_cb));
}

std::string Key(const json::object& obj) {
  std::string ns = api::Namespace(obj);
  return ns.empty() ? api::Name(obj) : ns + "/" + api::Name(obj);
}

}  // namespace kite::client
