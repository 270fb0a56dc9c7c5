#include "base/status.h"

namespace kite {

struct Status::Api_ {
  int http_code = 500;
  std::string reason;
  Details details;
};

namespace {

Code CodeOfHttp(int http, std::string_view reason) {
  switch (http) {
    case 0: return Code::kUnavailable;  // no answer: the transport failed
    case 401: return Code::kUnauthenticated;
    case 403: return Code::kPermissionDenied;
    case 404: return Code::kNotFound;
    case 405: return Code::kUnimplemented;
    case 409: return reason == "AlreadyExists" ? Code::kAlreadyExists : Code::kAborted;
    case 410: return Code::kOutOfRange;  // Expired/Gone: compacted, as etcd says OutOfRange
    case 413: case 429: return Code::kResourceExhausted;
    case 503: return Code::kUnavailable;
    case 504: return Code::kDeadlineExceeded;
    default: break;
  }
  if (http >= 400 && http < 500) return Code::kInvalidArgument;
  if (http >= 200 && http < 300) return Code::kUnknown;  // an Api() error must not read as OK
  return Code::kInternal;
}

struct HttpOfCode {
  int http;
  std::string_view reason;
};

HttpOfCode HttpOf(Code code) {
  switch (code) {
    case Code::kOk: return {200, ""};
    case Code::kInvalidArgument: case Code::kFailedPrecondition: case Code::kOutOfRange: return {400, "BadRequest"};
    case Code::kUnauthenticated: return {401, "Unauthorized"};
    case Code::kPermissionDenied: return {403, "Forbidden"};
    case Code::kNotFound: return {404, "NotFound"};
    case Code::kUnimplemented: return {405, "MethodNotAllowed"};
    case Code::kAlreadyExists: return {409, "AlreadyExists"};
    case Code::kAborted: return {409, "Conflict"};
    case Code::kResourceExhausted: return {429, "TooManyRequests"};
    case Code::kUnavailable: return {503, "ServiceUnavailable"};
    case Code::kDeadlineExceeded: return {504, "Timeout"};
    default: return {500, "InternalError"};
  }
}

}  // namespace

Status Status::Api(int http_code, std::string reason, std::string message) {
  Status s(CodeOfHttp(http_code, reason), std::move(message));
  auto api = std::make_shared<Api_>();
  api->http_code = http_code;
  api->reason = std::move(reason);
  s.api_ = std::move(api);
  return s;
}

std::string_view Status::reason() const { return api_ ? std::string_view(api_->reason) : HttpOf(code_).reason; }

int Status::http_code() const { return api_ ? api_->http_code : HttpOf(code_).http; }

const Status::Details& Status::details() const {
  static const Details kNone;
  return api_ ? api_->details : kNone;
}

Status& Status::set_details(Details d) {
  auto api = std::make_shared<Api_>();
  if (api_) {
    api->http_code = api_->http_code;
    api->reason = api_->reason;
  } else {
    auto derived = HttpOf(code_);
    api->http_code = derived.http;
    api->reason = std::string(derived.reason);
  }
  api->details = std::move(d);
  api_ = std::move(api);
  return *this;
}

Status Status::Annotate(std::string_view what) const {
  Status s = *this;
  s.message_ = std::string(what) + ": " + message_;
  return s;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return "code " + std::to_string(static_cast<int>(code_)) + ": " + message_;
}

}  // namespace kite
