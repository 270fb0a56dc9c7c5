#include "server/apiserver/filters/authz.h"

namespace kite::apiserver {

Decision ChainAuthorizer::Authorize(const RequestAttributes& a) const {
  if (a.user.InGroup("system:masters")) return {true, ""};
  if (always_allow_) return {true, ""};
  std::string reason;
  for (const Authorizer* z : chain_) {
    Decision d = z->Authorize(a);
    if (d.allowed) return d;
    if (!d.reason.empty()) reason = std::move(d.reason);
  }
  return {false, reason};
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

Decision AuthorizeRequest(const Authorizer& authz, const RequestAttributes& attrs, RequestAttributes* asked) {
  *asked = attrs;
  Decision decision = authz.Authorize(attrs);
  if (decision.allowed && attrs.verb == "get" && attrs.api_group.empty() && attrs.resource == "pods" &&
      (attrs.subresource == "exec" || attrs.subresource == "attach" || attrs.subresource == "portforward")) {
    asked->verb = "create";
    decision = authz.Authorize(*asked);
  }
  return decision;
}

}  // namespace kite::apiserver
