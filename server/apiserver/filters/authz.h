// Authorization: may this user do this? Upstream's chain: members of system:masters (the
// superuser group) may do everything before any authorizer is asked; then each authorizer of
// --authorization-mode in turn (Node, then RBAC: server/apiserver/rbac/) until one allows.
#pragma once

#include <string>
#include <vector>

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

// system:masters, then `chain` in order (none is owned; each must outlive this). With
// `always_allow` (upstream's AlwaysAllow mode) everything is allowed, to anyone.
class ChainAuthorizer final : public Authorizer {
 public:
  ChainAuthorizer(bool always_allow, std::vector<const Authorizer*> chain)
      : always_allow_(always_allow), chain_(std::move(chain)) {}
  Decision Authorize(const RequestAttributes& attrs) const override;

 private:
  bool always_allow_;
  std::vector<const Authorizer*> chain_;
};

// The authorization filter's question for one request: `attrs`, and for a WebSocket
// exec/attach/portforward (it arrives as GET, verb get, but opens a session) also `create` on the
// subresource, as upstream's AuthorizePodWebsocketUpgradeCreatePermission (on by default) asks,
// so `get` alone never grants a shell. `*asked` becomes the attributes of the last question (what
// a Forbidden message names).
Decision AuthorizeRequest(const Authorizer& authz, const RequestAttributes& attrs, RequestAttributes* asked);

// Upstream's 403 message, e.g. `pods is forbidden: User "bob" cannot list resource "pods" in
// API group "" in the namespace "default"`.
std::string ForbiddenMessage(const RequestAttributes& attrs);

}  // namespace kite::apiserver
