#include "server/apiserver/filters/authz.h"

namespace kite::apiserver {

Decision MastersAuthorizer::Authorize(const RequestAttributes& a) const {
  if (a.user.InGroup("system:masters")) return {true, ""};
  if (always_allow_) return {true, ""};
  if (!a.resource_request && a.verb == "get" &&
      (a.path == "/healthz" || a.path == "/livez" || a.path == "/readyz" || a.path == "/version" ||
       a.path == "/version/")) {
    return {true, ""};
  }
  // Discovery is readable by every authenticated user (upstream's system:discovery role).
  bool discovery = a.path == "/api" || a.path == "/apis" || a.path.rfind("/api/", 0) == 0 ||
                   a.path.rfind("/apis/", 0) == 0 || a.path.rfind("/openapi/", 0) == 0;
  if (!a.resource_request && a.verb == "get" && discovery && !a.user.anonymous()) return {true, ""};
  // Everyone authenticated may ask who they are and what they may do (system:basic-user).
  if (a.resource_request && a.verb == "create" && !a.user.anonymous() &&
      ((a.api_group == "authorization.k8s.io" &&
        (a.resource == "selfsubjectaccessreviews" || a.resource == "selfsubjectrulesreviews")) ||
       (a.api_group == "authentication.k8s.io" && a.resource == "selfsubjectreviews"))) {
    return {true, ""};
  }
  return {false, ""};
}

std::string ForbiddenMessage(const RequestAttributes& a) {
  std::string user = "User \"" + a.user.name + "\"";
  if (!a.resource_request) return "forbidden: " + user + " cannot " + a.verb + " path \"" + a.path + "\"";
  std::string res = a.resource + (a.subresource.empty() ? "" : "/" + a.subresource);
  std::string what = a.name.empty() ? res : res + " \"" + a.name + "\"";
  std::string msg = what + " is forbidden: " + user + " cannot " + a.verb + " resource \"" + res + "\" in API group \"" +
                    a.api_group + "\"";
  msg += a.namespace_.empty() ? " at the cluster scope" : " in the namespace \"" + a.namespace_ + "\"";
  return msg;
}

}  // namespace kite::apiserver
