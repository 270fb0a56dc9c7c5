// Impersonation (upstream's filter of that name): the headers Impersonate-User,
// Impersonate-Group (repeatable), Impersonate-Uid and Impersonate-Extra-<key> make a request act
// as another user, when the requester may `impersonate` each of them: users (or serviceaccounts
// for system:serviceaccount:<ns>:<name>), groups, uids and userextras/<key> in
// authentication.k8s.io. The impersonated user gets system:authenticated (a service account
// also system:serviceaccounts and system:serviceaccounts:<ns>; system:anonymous gets
// system:unauthenticated), as upstream adds them.
#pragma once

#include <optional>

#include "base/https_server.h"
#include "base/status.h"
#include "server/apiserver/filters/authz.h"

namespace kite::apiserver {

// nullopt when the request has no impersonation headers; the user to act as; or 403 Forbidden
// (upstream's message, verb impersonate) / 400 for headers that name no user.
Result<std::optional<UserInfo>> Impersonate(const HttpsRequest& req, const UserInfo& requester, const Authorizer& authz);

}  // namespace kite::apiserver
