// Authentication: who is making a request.
//
// In order: a verified TLS client certificate (CN = user, O = groups); then a bearer token from
// the static token file (kube-apiserver's --token-auth-file CSV: token,user,uid,"group1,group2");
// then a service-account JWT (serviceaccount_authn.h), when the server has its keys. A request with no credentials is
// anonymous (system:anonymous in system:unauthenticated); one whose token is unknown is rejected
// (401), never treated as anonymous. Authenticated users also get system:authenticated.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/https_server.h"
#include "base/status.h"

namespace kite::apiserver {

struct UserInfo {
  std::string name;
  std::string uid;
  std::vector<std::string> groups;
  // Upstream's user.Info extra (service-account tokens: authentication.kubernetes.io/pod-name…).
  std::map<std::string, std::vector<std::string>> extra;
  bool anonymous() const { return name == "system:anonymous"; }
  bool InGroup(const std::string& g) const;
};

class ServiceAccountAuthenticator;

class Authenticator {
 public:
  // Empty path: no token file. `service_accounts` (may be null): the service-account token
  // authenticator, shared with the TokenRequest handler.
  static Result<Authenticator> Create(const std::string& token_file,
                                      std::shared_ptr<const ServiceAccountAuthenticator> service_accounts = nullptr);
  // The user, or kUnauthenticated for bad credentials.
  Result<UserInfo> Authenticate(const HttpsRequest& req) const;
  // A bearer token alone (TokenReview): the user, or kUnauthenticated. `audiences`: those a
  // service-account token must be valid for (empty: the API server's).
  Result<UserInfo> AuthenticateToken(const std::string& token, const std::vector<std::string>& audiences = {}) const;
  // Null when the server signs no service-account tokens.
  const ServiceAccountAuthenticator* service_accounts() const { return service_accounts_.get(); }

 private:
  std::map<std::string, UserInfo> tokens_;
  std::shared_ptr<const ServiceAccountAuthenticator> service_accounts_;
};

}  // namespace kite::apiserver
