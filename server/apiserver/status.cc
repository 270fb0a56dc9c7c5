#include "server/apiserver/status.h"

#include <boost/json.hpp>

#include "datastore/errors.h"

namespace kite::apiserver {

ApiError Unauthorized() { return {401, "Unauthorized", "Unauthorized"}; }
ApiError Forbidden(const std::string& message) { return {403, "Forbidden", message}; }
ApiError NotFoundPath() { return {404, "NotFound", "the server could not find the requested resource"}; }

ApiError BadRequest(const std::string& message) { return {400, "BadRequest", message}; }
ApiError InternalError(const std::string& message) {
  // A write refused for lack of space (quota, full disk) reaches upstream's clients as etcd's
  // own error: the storage layer passes it through, and a non-Status error becomes a 500 with
  // no reason and the message as is ("Error from server: etcdserver: mvcc: database space
  // exceeded" in kubectl).
  if (message == datastore::errors::NoSpace().message()) return {500, "", message};
  return {500, "InternalError", "Internal error occurred: " + message};
}
ApiError MethodNotSupported(const std::string& verb, const std::string& qualified_resource) {
  return {405, "MethodNotAllowed", "the server does not allow this method on the requested resource"};
}

ApiError TooManyRequests() {
  ApiError e{429, "TooManyRequests", "Too many requests, please try again later."};
  e.retry_after_seconds = 1;
  return e;
}

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
  if (!e.reason.empty()) o["reason"] = e.reason;  // upstream omits an unknown reason
  if (!e.name.empty() || !e.kind.empty() || !e.causes.empty() || e.retry_after_seconds > 0) {
    boost::json::object d;
    if (!e.name.empty()) d["name"] = e.name;
    if (!e.group.empty()) d["group"] = e.group;
    if (!e.kind.empty()) d["kind"] = e.kind;
    if (!e.causes.empty()) {
      boost::json::array causes;
      for (const auto& c : e.causes) {
        causes.push_back(boost::json::object{{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
      }
      d["causes"] = std::move(causes);
    }
    if (e.retry_after_seconds > 0) d["retryAfterSeconds"] = e.retry_after_seconds;
    o["details"] = std::move(d);
  }
  o["code"] = e.code;
  return boost::json::serialize(o);
}

}  // namespace kite::apiserver
