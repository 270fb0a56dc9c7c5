// The audit filter: who did what, as upstream's audit.k8s.io/v1 Events (--audit-log-path,
// --audit-policy-file; audit_policy.h decides the level, audit_log.h writes).
//
// A request is audited after authentication, with the authenticated user (impersonation shows
// as impersonatedUser, as upstream's filter order has it). Stages: RequestReceived when it is
// taken in, ResponseStarted when a long-running answer (a watch, logs -f) starts streaming,
// ResponseComplete when the answer is sent; the policy's omitStages leave some out. Each event
// carries auditID (the request's Audit-ID header, else a new UUID, answered in Audit-ID), the
// level, stage, requestURI, verb, user, sourceIPs (X-Forwarded-For, then the peer), userAgent,
// objectRef, responseStatus, requestReceivedTimestamp, stageTimestamp and the authorization
// annotations (authorization.k8s.io/decision and reason); at Request level the request body as
// requestObject (protobuf bodies decoded), at RequestResponse the answer as responseObject.
//
// A request whose authentication failed (401 before any user is known) is audited as upstream's
// failed-authentication filter does: the policy is evaluated without a user, and one event is
// written, at stage ResponseStarted, with an empty user ("user":{}), responseStatus code 401 and
// the message "Authentication failed, attempted: <basic, bearer, access_token, x509>" (the kinds
// of credentials the request carried) or "Authentication failed, no credentials provided".
//
// Cost: an unaudited request pays one policy evaluation (a few string compares per rule). An
// audited one writes its event's text directly (no JSON tree): the parts every stage shares
// (user, sourceIPs, objectRef, …) are serialised once when the request is taken in, and each
// stage appends only its stage, timestamp and response; request and response bodies are parsed
// only at the Request and RequestResponse levels (and an error's Status at any level).
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "base/https_server.h"
#include "server/apiserver/filters/audit_log.h"
#include "server/apiserver/filters/audit_policy.h"
#include "server/apiserver/filters/authz.h"

namespace kite::apiserver::audit {

class RequestAudit;

class Auditor {
 public:
  Auditor(Policy policy, std::unique_ptr<AuditLog> log) : policy_(std::move(policy)), log_(std::move(log)) {}

  // The request's audit, or null when the policy says None. Writes RequestReceived.
  std::unique_ptr<RequestAudit> Begin(const HttpsRequest& req, const RequestAttributes& a) const;
  // Audits a request answered 401 because its credentials did not authenticate (see above);
  // `a` holds the request's attributes without a user. Returns the event's auditID for the
  // answer's Audit-ID header, or "" when the policy leaves the request (or the stage) out.
  std::string FailedAuthentication(const HttpsRequest& req, const RequestAttributes& a) const;
  AuditLog& log() const { return *log_; }

 private:
  Policy policy_;
  std::unique_ptr<AuditLog> log_;
};

class RequestAudit {
 public:
  // `authenticated` false: a failed authentication (no RequestReceived, no request object).
  RequestAudit(const Auditor* auditor, AuditDecision d, const HttpsRequest& req, const RequestAttributes& a,
               bool authenticated = true);

  void Impersonated(const UserInfo& as);
  void Authorized(const Decision& d);
  // The answer: code, and its body when the level keeps it (RequestResponse) or it is an error.
  void Started(int code, std::string_view message = {});
  void Complete(int code, std::string_view content_type, std::string_view body);

  const std::string& id() const { return id_; }
  // Whether the answer's body is needed to name the object (a create whose name the server gives).
  bool NeedsName() const { return needs_name_; }
  Level level() const { return decision_.level; }

 private:
  // The fields of objectRef (resource requests only).
  struct ObjectRef {
    std::string resource, namespace_, name, api_group, api_version, subresource;
  };
  void Emit(Stage stage);
  void NameFromAnswer(int code, std::string_view content_type, std::string_view body, const boost::json::value* parsed);
  void SerializeObjectRef();

  const Auditor* auditor_;
  AuditDecision decision_;
  std::string id_;
  std::string verb_;
  std::optional<ObjectRef> ref_;
  std::string request_name_;  // metadata.name of the request object, when it was decoded
  // Serialised once: each is a run of `,"field":value` members (or empty), spliced per stage.
  std::string head_;            // kind, apiVersion, level, auditID (opens the object)
  std::string who_;             // requestURI, verb, user, sourceIPs, userAgent
  std::string impersonated_;    // impersonatedUser
  std::string object_ref_;      // objectRef (again after NameFromAnswer)
  std::string request_object_;  // requestObject
  std::string response_;        // responseStatus, responseObject
  std::string received_;        // requestReceivedTimestamp
  std::string annotations_;     // annotations
  bool needs_name_ = false;
};

// A responder that forwards to `inner` and tells `audit` what was answered.
class AuditingResponder final : public HttpsResponder {
 public:
  AuditingResponder(HttpsResponder& inner, RequestAudit& audit) : inner_(inner), audit_(audit) {}
  // Ends the audit (ResponseComplete) with what was answered; call once the handler returned.
  void Finish();

  boost::asio::awaitable<void> Send(int status, std::string content_type, std::string body, Headers headers) override;
  boost::asio::awaitable<bool> BeginStream(int status, std::string content_type, Headers headers) override;
  boost::asio::awaitable<bool> WriteChunk(std::string data) override { return inner_.WriteChunk(std::move(data)); }
  boost::asio::awaitable<void> EndStream() override { return inner_.EndStream(); }
  void Abort() override { inner_.Abort(); }
  boost::asio::awaitable<std::unique_ptr<WebSocket>> AcceptWebSocket(std::string subprotocol) override;
  HttpsResponder* Decorated() override { return &inner_; }
  void Upgraded(int status) override;

 private:
  HttpsResponder& inner_;
  RequestAudit& audit_;
  int code_ = 0;
  std::string content_type_, body_;
};

// RFC 3339 with microseconds, UTC ("2026-12-05T18:30:00.123456Z"), as audit timestamps are.
std::string MicroTime(std::chrono::system_clock::time_point t);

}  // namespace kite::apiserver::audit
