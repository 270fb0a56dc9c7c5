// The API server's errors: kite::Status values made with Status::Api (HTTP code, metav1 reason,
// message; details for the object's name/group/kind, causes, retry-after), and their one
// rendering as a metav1.Status body (StatusJson, the only place a Status body is produced).
// Reasons and codes follow upstream's StatusReason table.
#pragma once

#include <string>

#include "base/status.h"

namespace kite::apiserver {

Status Unauthorized();
Status Forbidden(const std::string& message);
Status NotFoundPath();  // "the server could not find the requested resource"
Status BadRequest(const std::string& message);
Status InternalError(const std::string& message);
Status MethodNotSupported(const std::string& verb, const std::string& qualified_resource);
// 429 of the max-in-flight filter: "Too many requests, please try again later.", retry in 1 s.
Status TooManyRequests();

std::string StatusJson(const Status& e);
std::string JsonEscape(const std::string& s);

}  // namespace kite::apiserver
