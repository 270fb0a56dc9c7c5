// Authentication: who is making a request.
//
// In order: a verified TLS client certificate (CN = user, O = groups); then a bearer token from
// the static token file (kube-apiserver's --token-auth-file CSV: token,user,uid,"group1,group2").
// Service-account and node tokens plug in here later. A request with no credentials is
// anonymous (system:anonymous in system:unauthenticated); one whose token is unknown is rejected
// (401), never treated as anonymous. Authenticated users also get system:authenticated.
#pragma once

#include <map>
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
  bool anonymous() const { return name == "system:anonymous"; }
  bool InGroup(const std::string& g) const;
};

class Authenticator {
 public:
  // Empty path: no token file.
  static Result<Authenticator> Create(const std::string& token_file);
  // The user, or kUnauthenticated for bad credentials.
  Result<UserInfo> Authenticate(const HttpsRequest& req) const;
  // A bearer token alone (TokenReview): the user, or kUnauthenticated.
  Result<UserInfo> AuthenticateToken(const std::string& token) const;

 private:
  std::map<std::string, UserInfo> tokens_;
};

}  // namespace kite::apiserver
