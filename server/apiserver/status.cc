#include "server/apiserver/status.h"

#include <boost/json.hpp>

#include "datastore/errors.h"

namespace kite::apiserver {

Status Unauthorized() { return Status::Api(401, "Unauthorized", "Unauthorized"); }
Status Forbidden(const std::string& message) { return Status::Api(403, "Forbidden", message); }
Status NotFoundPath() { return Status::Api(404, "NotFound", "the server could not find the requested resource"); }

Status BadRequest(const std::string& message) { return Status::Api(400, "BadRequest", message); }
Status InternalError(const std::string& message) {
  // A write refused for lack of space (quota, full disk) reaches upstream's clients as etcd's
  // own error: the storage layer passes it through, and a non-Status error becomes a 500 with
  // no reason and the message as is ("Error from server: etcdserver: mvcc: database space
  // exceeded" in kubectl).
  if (message == datastore::errors::NoSpace().message()) return Status::Api(500, "", message);
  return Status::Api(500, "InternalError", "Internal error occurred: " + message);
}
Status MethodNotSupported(const std::string& verb, const std::string& qualified_resource) {
  return Status::Api(405, "MethodNotAllowed", "the server does not allow this method on the requested resource");
}

Status TooManyRequests() {
  Status::Details d;
  d.retry_after_seconds = 1;
  return Status::Api(429, "TooManyRequests", "Too many requests, please try again later.").set_details(std::move(d));
}

std::string JsonEscape(const std::string& s) {
  std::string quoted = boost::json::serialize(boost::json::string(s));
  return quoted.substr(1, quoted.size() - 2);
}

std::string StatusJson(const Status& e) {
  boost::json::object o;
  o["kind"] = "Status";
  o["apiVersion"] = "v1";
  o["metadata"] = boost::json::object();
  o["status"] = "Failure";
  o["message"] = e.message();
  if (!e.reason().empty()) o["reason"] = e.reason();  // upstream omits an unknown reason
  const Status::Details& x = e.details();
  if (!x.name.empty() || !x.kind.empty() || !x.causes.empty() || x.retry_after_seconds > 0) {
    boost::json::object d;
    if (!x.name.empty()) d["name"] = x.name;
    if (!x.group.empty()) d["group"] = x.group;
    if (!x.kind.empty()) d["kind"] = x.kind;
    if (!x.causes.empty()) {
      boost::json::array causes;
      for (const auto& c : x.causes) {
        causes.push_back(boost::json::object{{"reason", c.reason}, {"message", c.message}, {"field", c.field}});
      }
      d["causes"] = std::move(causes);
    }
    if (x.retry_after_seconds > 0) d["retryAfterSeconds"] = x.retry_after_seconds;
    o["details"] = std::move(d);
  }
  o["code"] = e.http_code();
  return boost::json::serialize(o);
}

}  // namespace kite::apiserver
