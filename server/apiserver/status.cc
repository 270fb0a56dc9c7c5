#include "server/apiserver/status.h"

#include <boost/json.hpp>

namespace kite::apiserver {

ApiError Unauthorized() { return {401, "Unauthorized", "Unauthorized"}; }
ApiError Forbidden(const std::string& message) { return {403, "Forbidden", message}; }
ApiError NotFoundPath() { return {404, "NotFound", "the server could not find the requested resource"}; }

std::string JsonEscape(const std::string& s) {
  std::string quoted = boost::json::serialize(boost::json::string(s));
  return quoted.substr(1, quoted.size() - 2);
}

std::string StatusJson(const ApiError& e) {
  boost::json::object o;
  o["kind"] = "Status";
  o["apiVersion"] = "v1";
  o["metadata"] = boost::json::object();
  o["status"] = "Failure";
  o["message"] = e.message;
  o["reason"] = e.reason;
  o["code"] = e.code;
  return boost::json::serialize(o);
}

}  // namespace kite::apiserver
