// Service-account token claims, as upstream's API server writes and reads them.
//
// Bound tokens (TokenRequest):
//   {"iss": "https://kubernetes.default.svc.cluster.local", "sub": "system:serviceaccount:<ns>:<sa>",
//    "aud": [...], "exp", "iat", "nbf", "jti",
//    "kubernetes.io": {"namespace", "serviceaccount": {"name", "uid"},
//                      "pod" | "secret": {"name", "uid"}, "node": {"name", "uid"}}}
// Legacy tokens (the kubernetes.io/service-account-token Secret; no expiry, no audience):
//   {"iss": "kubernetes/serviceaccount", "sub", "kubernetes.io/serviceaccount/namespace",
//    "kubernetes.io/serviceaccount/secret.name", "kubernetes.io/serviceaccount/service-account.name",
//    "kubernetes.io/serviceaccount/service-account.uid"}
//
// Verify checks signature, issuer, time (with upstream's 60 s leeway) and audience; that the
// service account and bound objects still exist is the authenticator's check (it can read them).
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "server/serviceaccount/jwt.h"
#include "server/serviceaccount/keys.h"

namespace kite::serviceaccount {

inline constexpr char kIssuer[] = "https://kubernetes.default.svc.cluster.local";
inline constexpr char kLegacyIssuer[] = "kubernetes/serviceaccount";
// The API server's audiences (k3s's): the default of a TokenRequest, and what the API server
// accepts.
std::vector<std::string> ApiAudiences();

struct ObjectRef {
  std::string name, uid;
  bool empty() const { return name.empty(); }
};

struct Claims {
  bool legacy = false;
  std::string ns;
  ObjectRef service_account;
  ObjectRef pod, secret, node;  // bound objects (empty when not bound)
  std::vector<std::string> audiences;
  int64_t issued_at = 0, not_before = 0, expires = 0;  // Unix seconds; legacy: 0
  std::string id;  // jti
};

// "system:serviceaccount:<ns>:<name>".
std::string UserName(const std::string& ns, const std::string& name);

// The JSON claims of `c` (legacy or bound form).
boost::json::object ToJson(const Claims& c);

// Signs `c` (a new jti is set for bound tokens when empty).
Result<std::string> Issue(const jwt::Key& key, Claims c);

// The claims of a token signed by one of `keys`, valid at `now` for one of `audiences` (bound
// tokens; legacy tokens have none). kUnauthenticated with the reason otherwise.
// `allow_legacy`: whether legacy tokens are accepted at all.
Result<Claims> Verify(std::string_view token, const std::vector<jwt::Key>& keys, int64_t now,
                      const std::vector<std::string>& audiences, bool allow_legacy = true);

// A random RFC 4122 version-4 UUID (the jti).
std::string NewTokenId();

}  // namespace kite::serviceaccount
