// Service-account issuer discovery (upstream's ServiceAccountIssuerDiscovery): an OpenID
// Connect provider configuration at /.well-known/openid-configuration and the verification
// keys as a JWK set at /openid/v1/jwks, so that other parties (a cloud's workload identity,
// Vault) can check our service-account tokens without asking the API server. Upstream's
// system:service-account-issuer-discovery role lets unauthenticated clients read both paths.
#pragma once

#include <optional>
#include <string>

#include "base/https_server.h"
#include "server/apiserver/handlers/response.h"
#include "server/serviceaccount/keys.h"

namespace kite::apiserver {

// The answer for those two paths (GET only), or nullopt for any other request.
// `jwks_uri`: where the JWK set is served, as clients outside the cluster reach it.
std::optional<RawResponse> ServeIssuerDiscovery(const HttpsRequest& req, const serviceaccount::SigningKeys& keys,
                                                const std::string& jwks_uri);

}  // namespace kite::apiserver
