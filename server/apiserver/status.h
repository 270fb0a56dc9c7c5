// API errors as values, and their one rendering as a metav1.Status (the only place a Status
// body is produced). Reasons and codes follow upstream's StatusReason table.
#pragma once

#include <string>

namespace kite::apiserver {

struct ApiError {
  int code = 500;
  std::string reason;   // e.g. NotFound, Unauthorized, Forbidden, Invalid, Conflict
  std::string message;
};

ApiError Unauthorized();
ApiError Forbidden(const std::string& message);
ApiError NotFoundPath();  // "the server could not find the requested resource"

std::string StatusJson(const ApiError& e);
std::string JsonEscape(const std::string& s);

}  // namespace kite::apiserver
