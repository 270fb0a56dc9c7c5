#include "server/apiserver/discovery/oidc.h"

#include <boost/json.hpp>

#include <algorithm>

#include "server/serviceaccount/tokens.h"

namespace kite::apiserver {
namespace json = boost::json;

std::optional<RawResponse> ServeIssuerDiscovery(const HttpsRequest& req, const serviceaccount::SigningKeys& keys,
                                                const std::string& jwks_uri) {
  if (req.method != "GET") return std::nullopt;
  if (req.path == "/.well-known/openid-configuration") {
    json::array algs;
    for (const auto& k : keys.verifying) {
      if (std::find(algs.begin(), algs.end(), json::value(k.alg())) == algs.end()) algs.emplace_back(k.alg());
    }
    json::object doc{{"issuer", serviceaccount::kIssuer},
                     {"jwks_uri", jwks_uri},
                     {"response_types_supported", json::array{"id_token"}},
                     {"subject_types_supported", json::array{"public"}},
                     {"id_token_signing_alg_values_supported", std::move(algs)}};
    return RawResponse{200, "application/json", json::serialize(doc), {{"Cache-Control", "public, max-age=3600"}}};
  }
  if (req.path == "/openid/v1/jwks") {
    json::array set;
    for (const auto& k : keys.verifying) set.push_back(k.Jwk());
    return RawResponse{200, "application/jwk-set+json", json::serialize(json::object{{"keys", std::move(set)}}),
                       {{"Cache-Control", "public, max-age=3600"}}};
  }
  return std::nullopt;
}

}  // namespace kite::apiserver
