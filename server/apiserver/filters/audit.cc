#include "server/apiserver/filters/audit.h"

#include <boost/json.hpp>

#include <algorithm>
#include <cctype>
#include <vector>

#include "api/object.h"
#include "api/protobuf_decode.h"
#include "api/time.h"
#include "api/yaml_json.h"
#include "base/clock.h"
#include "server/apiserver/storage/registry.h"
#include "server/apiserver/storage/stored_json.h"

namespace kite::apiserver::audit {
namespace json = boost::json;

namespace {

// Appends `s` as a JSON string (quotes and escapes; UTF-8 passes through as boost.json's
// serialiser lets it).
void AppendString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t run = 0;  // start of the bytes not yet copied
  for (size_t i = 0; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

// `,"key":"value"` (key is a literal without escapes).
void AppendMember(std::string& out, std::string_view key, std::string_view value) {
  out += ",\"";
  out += key;
  out += "\":";
  AppendString(out, value);
}

void AppendStrings(std::string& out, const std::vector<std::string>& v) {
  out += '[';
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ',';
    AppendString(out, v[i]);
  }
  out += ']';
}

// authentication/v1 UserInfo; an empty user (a failed authentication) is {} as upstream's.
void AppendUser(std::string& out, const UserInfo& u) {
  std::string o;
  if (!u.name.empty()) AppendMember(o, "username", u.name);
  if (!u.uid.empty()) AppendMember(o, "uid", u.uid);
  if (!u.groups.empty()) {
    o += ",\"groups\":";
    AppendStrings(o, u.groups);
  }
  if (!u.extra.empty()) {
    o += ",\"extra\":{";
    bool first = true;
    for (const auto& [k, v] : u.extra) {
      if (!first) o += ',';
      first = false;
      AppendString(o, k);
      o += ':';
      AppendStrings(o, v);
    }
    o += '}';
  }
  out += '{';
  if (!o.empty()) out.append(o, 1);  // without the first comma
  out += '}';
}

std::vector<std::string> SourceIps(const HttpsRequest& req) {
  std::vector<std::string> ips;
  const std::string fwd = req.Header("x-forwarded-for");
  for (size_t b = 0; b < fwd.size();) {
    size_t e = fwd.find(',', b);
    if (e == std::string::npos) e = fwd.size();
    std::string ip = fwd.substr(b, e - b);
    ip.erase(0, ip.find_first_not_of(' '));
    ip.erase(ip.find_last_not_of(' ') + 1);
    if (!ip.empty()) ips.push_back(std::move(ip));
    b = e + 1;
  }
  std::string peer = req.RemoteIp();
  if (!peer.empty() && std::find(ips.begin(), ips.end(), peer) == ips.end()) ips.push_back(std::move(peer));
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

// upstream's list of the credentials a failed request carried.
std::string AuthenticationFailure(const HttpsRequest& req) {
  std::vector<std::string> methods;
  std::string auth = req.Header("authorization");
  auth.erase(0, auth.find_first_not_of(" \t"));
  const size_t space = auth.find(' ');
  std::string scheme = auth.substr(0, space);
  std::transform(scheme.begin(), scheme.end(), scheme.begin(), [](unsigned char c) { return std::tolower(c); });
  const bool has_credentials = space != std::string::npos && auth.find_first_not_of(" \t", space) != std::string::npos;
  if (scheme == "basic" && has_credentials) methods.emplace_back("basic");
  if (scheme == "bearer" && has_credentials) methods.emplace_back("bearer");
  if (std::string t = req.Query("access_token"); t.find_first_not_of(" \t") != std::string::npos) methods.emplace_back("access_token");
  if (req.peer) methods.emplace_back("x509");
  if (methods.empty()) return "Authentication failed, no credentials provided";
  std::string out = "Authentication failed, attempted: ";
  for (size_t i = 0; i < methods.size(); ++i) out += (i ? ", " : "") + methods[i];
  return out;
}

std::string NewAuditId() { return NewUid(); }

}  // namespace

std::string MicroTime(std::chrono::system_clock::time_point t) { return api::FormatMicroTime(t); }

std::unique_ptr<RequestAudit> Auditor::Begin(const HttpsRequest& req, const RequestAttributes& a) const {
  const AuditDecision d = Evaluate(policy_, a);
  if (d.level == Level::kNone) return nullptr;
  auto ra = std::make_unique<RequestAudit>(this, d, req, a);
  return ra;
}

std::string Auditor::FailedAuthentication(const HttpsRequest& req, const RequestAttributes& a) const {
  const AuditDecision d = Evaluate(policy_, a);
  if (d.level == Level::kNone || (d.omit_stages & kResponseStarted)) return "";
  RequestAudit ra(this, d, req, a, /*authenticated=*/false);
  ra.Started(401, AuthenticationFailure(req));
  return ra.id();
}

RequestAudit::RequestAudit(const Auditor* auditor, AuditDecision d, const HttpsRequest& req, const RequestAttributes& a,
                           bool authenticated)
    : auditor_(auditor), decision_(d), verb_(a.verb) {
  const auto received = kite::Clock::Real()->Now();
  id_ = req.Header("audit-id");
  if (id_.empty()) id_ = NewAuditId();
  head_.reserve(128);
  head_ = R"({"kind":"Event","apiVersion":"audit.k8s.io/v1")";
  AppendMember(head_, "level", LevelName(d.level));
  AppendMember(head_, "auditID", id_);
  who_.reserve(256);
  AppendMember(who_, "requestURI", req.target);
  AppendMember(who_, "verb", a.verb);
  who_ += ",\"user\":";
  AppendUser(who_, a.user);
  who_ += ",\"sourceIPs\":";
  AppendStrings(who_, SourceIps(req));
  if (std::string ua = req.Header("user-agent"); !ua.empty()) AppendMember(who_, "userAgent", ua);
  if (a.resource_request) {
    ref_ = ObjectRef{a.resource, a.namespace_, a.name, a.api_group, a.api_version, a.subresource};
    SerializeObjectRef();
  }
  if (authenticated && d.level >= Level::kRequest) {
    if (auto obj = RequestObject(req)) {
      if (d.omit_managed_fields) DropManagedFields(*obj);
      if (obj->is_object()) request_name_ = api::GetString(api::Metadata(obj->as_object()), "name");
      request_object_ = ",\"requestObject\":" + json::serialize(*obj);
    }
  }
  needs_name_ = a.resource_request && a.name.empty() && a.verb == "create" && request_object_.empty();
  AppendMember(received_, "requestReceivedTimestamp", MicroTime(received));
  if (authenticated) Emit(kRequestReceived);
}

void RequestAudit::SerializeObjectRef() {
  object_ref_.clear();
  if (!ref_) return;
  std::string o;
  if (!ref_->resource.empty()) AppendMember(o, "resource", ref_->resource);
  if (!ref_->namespace_.empty()) AppendMember(o, "namespace", ref_->namespace_);
  if (!ref_->name.empty()) AppendMember(o, "name", ref_->name);
  if (!ref_->api_group.empty()) AppendMember(o, "apiGroup", ref_->api_group);
  if (!ref_->api_version.empty()) AppendMember(o, "apiVersion", ref_->api_version);
  if (!ref_->subresource.empty()) AppendMember(o, "subresource", ref_->subresource);
  object_ref_ = ",\"objectRef\":{";
  if (!o.empty()) object_ref_.append(o, 1);
  object_ref_ += '}';
}

void RequestAudit::Impersonated(const UserInfo& as) {
  impersonated_ = ",\"impersonatedUser\":";
  AppendUser(impersonated_, as);
}

void RequestAudit::Authorized(const Decision& d) {
  annotations_ = ",\"annotations\":{\"authorization.k8s.io/decision\":";
  annotations_ += d.allowed ? "\"allow\"" : "\"forbid\"";
  annotations_ += ",\"authorization.k8s.io/reason\":";
  AppendString(annotations_, d.reason);
  annotations_ += '}';
}

void RequestAudit::Emit(Stage stage) {
  if (decision_.omit_stages & stage) return;
  std::string line;
  line.reserve(head_.size() + who_.size() + impersonated_.size() + object_ref_.size() + response_.size() +
               request_object_.size() + received_.size() + annotations_.size() + 96);
  line += head_;
  AppendMember(line, "stage", StageName(stage));
  line += who_;
  line += impersonated_;
  line += object_ref_;
  line += response_;
  line += request_object_;
  line += received_;
  AppendMember(line, "stageTimestamp", MicroTime(kite::Clock::Real()->Now()));
  line += annotations_;
  line += '}';
  auditor_->log().Write(std::move(line));
}

void RequestAudit::Started(int code, std::string_view message) {
  response_ = ",\"responseStatus\":{\"metadata\":{}";
  if (!message.empty()) AppendMember(response_, "message", message);
  response_ += ",\"code\":" + std::to_string(code) + "}";
  Emit(kResponseStarted);
}

void RequestAudit::Complete(int code, std::string_view content_type, std::string_view body) {
  response_ = ",\"responseStatus\":{\"metadata\":{},\"code\":" + std::to_string(code);
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
      if (std::string v = api::GetString(s, k); !v.empty()) AppendMember(response_, k, v);
    }
    if (decision_.level >= Level::kRequest) {
      if (const json::value* details = s.if_contains("details")) response_ += ",\"details\":" + json::serialize(*details);
    }
  }
  response_ += '}';
  NameFromAnswer(code, content_type, body, have ? &parsed : nullptr);
  if (have && decision_.level == Level::kRequestResponse) {
    if (decision_.omit_managed_fields) DropManagedFields(parsed);
    response_ += ",\"responseObject\":" + json::serialize(parsed);
  }
  Emit(kResponseComplete);
}

void RequestAudit::NameFromAnswer(int code, std::string_view content_type, std::string_view body, const json::value* parsed) {
  // As upstream completes objectRef from the object: a create names it only in its body.
  if (!ref_ || !ref_->name.empty() || code >= 300) return;
  std::string name = request_name_;
  if (name.empty() && parsed && parsed->is_object() && !parsed->as_object().contains("items")) {
    name = api::GetString(api::Metadata(parsed->as_object()), "name");
  }
  if (name.empty() && !parsed && content_type.rfind("application/json", 0) == 0 && !body.empty() && verb_ == "create") {
    // The metadata alone (stored_json.h finds it), not the whole object.
    if (auto scan = ScanStoredObject(body); scan && scan->meta_begin != StoredObjectScan::npos) {
      boost::system::error_code ec;
      json::value meta = json::parse(body.substr(scan->meta_begin, scan->meta_end - scan->meta_begin), ec);
      if (!ec && meta.is_object()) name = api::GetString(meta.as_object(), "name");
    }
  }
  if (name.empty()) return;
  ref_->name = std::move(name);
  SerializeObjectRef();
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

void AuditingResponder::Upgraded(int status) {
  code_ = status;
  audit_.Started(status);
}

}  // namespace kite::apiserver::audit
