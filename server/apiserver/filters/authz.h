// Authorization: may this user do this? The seam RBAC plugs into (a later issue). For now
// members of system:masters may do everything and everyone else nothing, except the public
// info endpoints that upstream's system:public-info-viewer role opens to all, and what
// upstream's system:node role grants kubelets to members of system:nodes.
#pragma once

#include <string>

#include "server/apiserver/filters/authn.h"

namespace kite::apiserver {

struct RequestAttributes {
  UserInfo user;
  std::string verb;  // get, list, watch, create, update, patch, delete, deletecollection
  bool resource_request = false;
  std::string api_group, api_version, resource, subresource, namespace_, name;
  std::string path;  // for non-resource requests
};

struct Decision {
  bool allowed = false;
  std::string reason;
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual Decision Authorize(const RequestAttributes& attrs) const = 0;
};

// `always_allow`: upstream's AlwaysAllow mode — everything is allowed, to anyone.
class MastersAuthorizer final : public Authorizer {
 public:
  explicit MastersAuthorizer(bool always_allow = false) : always_allow_(always_allow) {}
  Decision Authorize(const RequestAttributes& attrs) const override;

 private:
  bool always_allow_;
};

// Upstream's 403 message, e.g. `pods is forbidden: User "bob" cannot list resource "pods" in
// API group "" in the namespace "default"`.
std::string ForbiddenMessage(const RequestAttributes& attrs);

}  // namespace kite::apiserver
