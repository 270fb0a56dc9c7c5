#include "server/apiserver/filters/audit.h"

#include <boost/json.hpp>

#include <ctime>

#include "api/object.h"
#include "api/protobuf_decode.h"
#include "api/yaml_json.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/storage/stored_json.h"

namespace kite::apiserver::audit {
namespace json = boost::json;

namespace {

json::object UserJson(const UserInfo& u) {
  json::object o{{"username", u.name}};
  if (!u.uid.empty()) o["uid"] = u.uid;
  if (!u.groups.empty()) o["groups"] = json::array(u.groups.begin(), u.groups.end());
  if (!u.extra.empty()) {
    json::object extra;
    for (const auto& [k, v] : u.extra) extra[k] = json::array(v.begin(), v.end());
    o["extra"] = std::move(extra);
  }
  return o;
}

// The peer's IP without its port ("1.2.3.4:5" → "1.2.3.4", "[::1]:5" → "::1").
std::string PeerIp(const std::string& remote) {
  if (!remote.empty() && remote[0] == '[') return remote.substr(1, remote.find(']') - 1);
  const size_t colon = remote.rfind(':');
  return colon == std::string::npos || remote.find(':') != colon ? remote : remote.substr(0, colon);
}

json::array SourceIps(const HttpsRequest& req) {
  json::array ips;
  const std::string fwd = req.Header("x-forwarded-for");
  for (size_t b = 0; b < fwd.size();) {
    size_t e = fwd.find(',', b);
    if (e == std::string::npos) e = fwd.size();
    std::string ip = fwd.substr(b, e - b);
    ip.erase(0, ip.find_first_not_of(' '));
    ip.erase(ip.find_last_not_of(' ') + 1);
    if (!ip.empty()) ips.push_back(json::string(ip));
    b = e + 1;
  }
  const std::string peer = PeerIp(req.remote);
  if (!peer.empty() && std::find(ips.begin(), ips.end(), json::value(json::string(peer))) == ips.end()) {
    ips.push_back(json::string(peer));
  }
  return ips;
}

void DropManagedFields(json::value& v) {
  if (!v.is_object()) return;
  if (auto* meta = v.as_object().if_contains("metadata"); meta && meta->is_object()) meta->as_object().erase("managedFields");
  if (auto* items = v.as_object().if_contains("items"); items && items->is_array()) {
    for (auto& item : items->as_array()) DropManagedFields(item);
  }
}

// The request body as upstream logs requestObject: the decoded object (JSON, YAML or protobuf), or a
// patch document as sent.
std::optional<json::value> RequestObject(const HttpsRequest& req) {
  if (req.body.empty()) return std::nullopt;
  const std::string type = req.Header("content-type");
  if (type.rfind("application/vnd.kubernetes.protobuf", 0) == 0) {
    auto d = api::DecodeProtobufEnvelope(req.body);
    if (!d.ok()) return std::nullopt;
    return json::value(std::move(d->object));
  }
  boost::system::error_code ec;
  json::value v = json::parse(req.body, ec);
  if (!ec) return v;
  if (type.find("yaml") != std::string::npos) {
    auto y = api::YamlToJson(req.body);
    if (y.ok()) return std::move(*y);
  }
  return std::nullopt;
}

std::string NewAuditId() { return NewUid(); }

}  // namespace

std::string MicroTime(std::chrono::system_clock::time_point t) {
  const std::time_t secs = std::chrono::system_clock::to_time_t(t);
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count() % 1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[64];
  std::snprintf(out, sizeof out, "%s.%06dZ", buf, static_cast<int>(us));
  return out;
}

std::unique_ptr<RequestAudit> Auditor::Begin(const HttpsRequest& req, const RequestAttributes& a) const {
  const AuditDecision d = Evaluate(policy_, a);
  if (d.level == Level::kNone) return nullptr;
  auto ra = std::make_unique<RequestAudit>(this, d, req, a);
  return ra;
}

RequestAudit::RequestAudit(const Auditor* auditor, AuditDecision d, const HttpsRequest& req, const RequestAttributes& a)
    : auditor_(auditor), decision_(d), received_(std::chrono::system_clock::now()) {
  id_ = req.Header("audit-id");
  if (id_.empty()) id_ = NewAuditId();
  event_["kind"] = "Event";
  event_["apiVersion"] = "audit.k8s.io/v1";
  event_["level"] = LevelName(d.level);
  event_["auditID"] = id_;
  event_["stage"] = "";
  event_["requestURI"] = req.target;
  event_["verb"] = a.verb;
  event_["user"] = UserJson(a.user);
  event_["sourceIPs"] = SourceIps(req);
  if (std::string ua = req.Header("user-agent"); !ua.empty()) event_["userAgent"] = ua;
  if (a.resource_request) {
    json::object ref;
    if (!a.resource.empty()) ref["resource"] = a.resource;
    if (!a.namespace_.empty()) ref["namespace"] = a.namespace_;
    if (!a.name.empty()) ref["name"] = a.name;
    if (!a.api_group.empty()) ref["apiGroup"] = a.api_group;
    if (!a.api_version.empty()) ref["apiVersion"] = a.api_version;
    if (!a.subresource.empty()) ref["subresource"] = a.subresource;
    event_["objectRef"] = std::move(ref);
  }
  if (d.level >= Level::kRequest) {
    if (auto obj = RequestObject(req)) {
      if (d.omit_managed_fields) DropManagedFields(*obj);
      event_["requestObject"] = std::move(*obj);
    }
  }
  needs_name_ = a.resource_request && a.name.empty() && a.verb == "create" && !event_.contains("requestObject");
  event_["requestReceivedTimestamp"] = MicroTime(received_);
  Emit(kRequestReceived);
}

void RequestAudit::Impersonated(const UserInfo& as) { event_["impersonatedUser"] = UserJson(as); }

void RequestAudit::Authorized(const Decision& d) {
  json::object& ann = api::MutableObject(event_, "annotations");
  ann["authorization.k8s.io/decision"] = d.allowed ? "allow" : "forbid";
  ann["authorization.k8s.io/reason"] = d.reason;
}

void RequestAudit::Emit(Stage stage) {
  if (decision_.omit_stages & stage) return;
  event_["stage"] = StageName(stage);
  event_["stageTimestamp"] = MicroTime(std::chrono::system_clock::now());
  auditor_->log().Write(json::serialize(event_));
}

void RequestAudit::Started(int code) {
  event_["responseStatus"] = json::object{{"metadata", json::object()}, {"code", code}};
  Emit(kResponseStarted);
}

void RequestAudit::Complete(int code, std::string_view content_type, std::string_view body) {
  json::object status{{"metadata", json::object()}, {"code", code}};
  json::value parsed;
  bool have = false;
  if (!body.empty() && content_type.rfind("application/json", 0) == 0 && (code >= 300 || decision_.level == Level::kRequestResponse)) {
    boost::system::error_code ec;
    parsed = json::parse(body, ec);
    have = !ec;
  }
  if (have && code >= 300 && parsed.is_object() && api::GetString(parsed.as_object(), "kind") == "Status") {
    const json::object& s = parsed.as_object();
    for (const char* k : {"status", "message", "reason"}) {
      if (std::string v = api::GetString(s, k); !v.empty()) status[k] = v;
    }
    if (decision_.level >= Level::kRequest) {
      if (const json::value* details = s.if_contains("details")) status["details"] = *details;
    }
  }
  event_["responseStatus"] = std::move(status);
  NameFromAnswer(code, content_type, body, have ? &parsed : nullptr);
  if (have && decision_.level == Level::kRequestResponse) {
    if (decision_.omit_managed_fields) DropManagedFields(parsed);
    event_["responseObject"] = std::move(parsed);
  }
  Emit(kResponseComplete);
}

void RequestAudit::NameFromAnswer(int code, std::string_view content_type, std::string_view body, const json::value* parsed) {
  // As upstream completes objectRef from the object: a create names it only in its body.
  json::value* ref = event_.if_contains("objectRef");
  if (!ref || !ref->is_object() || ref->as_object().contains("name") || code >= 300) return;
  json::object& r = ref->as_object();
  std::string name;
  if (const json::value* req = event_.if_contains("requestObject"); req && req->is_object()) {
    name = api::GetString(api::Metadata(req->as_object()), "name");
  }
  if (name.empty() && parsed && parsed->is_object() && !parsed->as_object().contains("items")) {
    name = api::GetString(api::Metadata(parsed->as_object()), "name");
  }
  if (name.empty() && !parsed && content_type.rfind("application/json", 0) == 0 && !body.empty() &&
      (api::GetString(event_, "verb") == "create")) {
    // The metadata alone (stored_json.h finds it), not the whole object.
    if (auto scan = ScanStoredObject(body); scan && scan->meta_begin != StoredObjectScan::npos) {
      boost::system::error_code ec;
      json::value meta = json::parse(body.substr(scan->meta_begin, scan->meta_end - scan->meta_begin), ec);
      if (!ec && meta.is_object()) name = api::GetString(meta.as_object(), "name");
    }
  }
  if (!name.empty()) r["name"] = name;
}

void AuditingResponder::Finish() { audit_.Complete(code_, content_type_, body_); }

boost::asio::awaitable<void> AuditingResponder::Send(int status, std::string content_type, std::string body, Headers headers) {
  code_ = status;
  content_type_ = content_type;
  if (status >= 300 || audit_.level() == Level::kRequestResponse || audit_.NeedsName()) body_ = body;
  headers.emplace_back("Audit-ID", audit_.id());
  co_await inner_.Send(status, std::move(content_type), std::move(body), std::move(headers));
}

boost::asio::awaitable<bool> AuditingResponder::BeginStream(int status, std::string content_type, Headers headers) {
  code_ = status;
  audit_.Started(status);
  headers.emplace_back("Audit-ID", audit_.id());
  co_return co_await inner_.BeginStream(status, std::move(content_type), std::move(headers));
}

boost::asio::awaitable<std::unique_ptr<WebSocket>> AuditingResponder::AcceptWebSocket(std::string subprotocol) {
  auto ws = co_await inner_.AcceptWebSocket(std::move(subprotocol));
  if (ws) {
    code_ = 101;
    audit_.Started(101);
  }
  co_return ws;
}

}  // namespace kite::apiserver::audit
