// The review resources of authentication.k8s.io and authorization.k8s.io: create-only objects
// answered from the authenticator and authorizer, never stored. `kubectl auth whoami` posts a
// SelfSubjectReview, `kubectl auth can-i` a SelfSubjectAccessReview (or a SelfSubjectRulesReview
// for --list); controllers and webhooks use TokenReview and (Local)SubjectAccessReview.
//
// One table (reviews.cc) names each review resource and the function that answers it;
// ResourceHandlers::Handle sends a request there when ReviewFor finds its resource, so adding a
// review is one entry, and no handler asks for a group or a kind by name.
#pragma once

#include <boost/json/object.hpp>

#include <string>

#include "api/resources.h"
#include "server/apiserver/filters/authn.h"
#include "server/apiserver/filters/authz.h"
#include "server/apiserver/handlers/response.h"
#include "server/apiserver/rbac/rbac_authorizer.h"
#include "server/apiserver/status.h"

namespace kite::apiserver {

// What a review may consult besides its body. None of the pointers is owned; `rbac` may be
// null (a rules review then lists nothing), the others may not.
struct ReviewContext {
  const UserInfo& user;  // the requester
  const std::string& ns;  // the request's namespace ("" for the cluster-scoped reviews)
  const Authenticator* authn;
  const Authorizer* authz;
  const rbac::RbacAuthorizer* rbac;
};

// Answers one review. `obj` is the decoded body with apiVersion, kind and metadata already set as
// the answer carries them; the function fills its status and answers 201, or refuses the body
// (422 Invalid, upstream's texts).
using ReviewAnswer = Result<ApiResponse> (*)(const ReviewContext& ctx, const api::ResourceInfo& r,
                                             boost::json::object& obj);

// The answer of review resource `r`, or nullptr when `r` is not a review (custom resources never
// are, whatever their group).
ReviewAnswer ReviewFor(const api::ResourceInfo& r);

}  // namespace kite::apiserver
