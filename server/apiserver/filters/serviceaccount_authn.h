// The service-account token authenticator (upstream's serviceaccount token authenticator and
// its validator): a bearer token that is one of our JWTs (server/serviceaccount/tokens.h) is
// the service account it names when
//   - its signature verifies with one of the verification keys, it is within exp/nbf, and one
//     of its audiences is one the API server accepts (or, for TokenReview, one asked for);
//   - the ServiceAccount still exists with the uid in the token;
//   - the Pod or Secret it is bound to still exists with the uid in the token (a pod whose
//     deletion deadline passed over 60 s ago counts as gone, as upstream); a token bound only to
//     a Node needs that Node;
//   - legacy tokens: the kubernetes.io/service-account-token Secret named in the token still
//     exists, belongs to that account, and holds exactly this token.
// The user is system:serviceaccount:<ns>:<name> with uid the account's, in system:serviceaccounts,
// system:serviceaccounts:<ns> and system:authenticated, with upstream's extra keys
// (authentication.kubernetes.io/pod-name, pod-uid, node-name, node-uid, credential-id).
//
// Objects are read through `get` at every request; the API server's getter is an in-memory
// cache that follows the datastore (serviceaccount_cache.h), so a deleted pod invalidates its
// tokens as soon as the delete is applied there (about a millisecond).
// Thread-safe: immutable after construction.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "server/apiserver/filters/authn.h"
#include "server/serviceaccount/keys.h"
#include "server/serviceaccount/tokens.h"

namespace kite::apiserver {

class ServiceAccountAuthenticator {
 public:
  // A core/v1 object by resource ("serviceaccounts", "pods", "secrets", "nodes"), namespace
  // ("" for nodes) and name; NotFound when absent.
  using Getter = std::function<Result<boost::json::object>(const std::string& resource, const std::string& ns,
                                                           const std::string& name)>;
  // `now`: Unix seconds; default the real clock.
  ServiceAccountAuthenticator(serviceaccount::SigningKeys keys, Getter get, std::function<int64_t()> now = {});

  // kUnauthenticated with the reason for a token that is not (or no longer) valid.
  // `audiences`: the accepted audiences; empty: the API server's.
  Result<UserInfo> Authenticate(std::string_view token, const std::vector<std::string>& audiences = {}) const;

  const serviceaccount::SigningKeys& keys() const { return keys_; }
  int64_t Now() const;
  const Getter& getter() const { return get_; }

 private:
  Status CheckBound(const serviceaccount::Claims& c, std::string_view token) const;

  serviceaccount::SigningKeys keys_;
  Getter get_;
  std::function<int64_t()> now_;
};

}  // namespace kite::apiserver
