// API errors as values, and their one rendering as a metav1.Status (the only place a Status
// body is produced). Reasons and codes follow upstream's StatusReason table.
#pragma once

#include <string>
#include <variant>
#include <vector>

namespace kite::apiserver {

struct ApiError {
  ApiError() = default;
  ApiError(int c, std::string r, std::string m) : code(c), reason(std::move(r)), message(std::move(m)) {}
  int code = 500;
  std::string reason;   // e.g. NotFound, Unauthorized, Forbidden, Invalid, Conflict
  std::string message;
  // details: the object's name, group and kind (upstream puts the *resource* name in kind).
  std::string name, group, kind;
  struct Cause {
    std::string reason, message, field;
  };
  std::vector<Cause> causes;
  int retry_after_seconds = 0;  // > 0: details.retryAfterSeconds and a Retry-After header
};

// A value or an ApiError.
template <typename T>
class ApiOr {
 public:
  ApiOr(T v) : v_(std::move(v)) {}          // NOLINT: implicit by design
  ApiOr(ApiError e) : v_(std::move(e)) {}   // NOLINT: implicit by design
  bool ok() const { return std::holds_alternative<T>(v_); }
  T& value() { return std::get<T>(v_); }
  const ApiError& error() const { return std::get<ApiError>(v_); }

 private:
  std::variant<T, ApiError> v_;
};

ApiError Unauthorized();
ApiError Forbidden(const std::string& message);
ApiError NotFoundPath();  // "the server could not find the requested resource"
ApiError BadRequest(const std::string& message);
ApiError InternalError(const std::string& message);
ApiError MethodNotSupported(const std::string& verb, const std::string& qualified_resource);
// 429 of the max-in-flight filter: "Too many requests, please try again later.", retry in 1 s.
ApiError TooManyRequests();

std::string StatusJson(const ApiError& e);
std::string JsonEscape(const std::string& s);

}  // namespace kite::apiserver
