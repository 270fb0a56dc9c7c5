#include "server/apiserver/filters/authn.h"

#include <algorithm>
#include <fstream>

#include "server/apiserver/filters/serviceaccount_authn.h"
#include "server/serviceaccount/jwt.h"

namespace kite::apiserver {

bool UserInfo::InGroup(const std::string& g) const {
  return std::find(groups.begin(), groups.end(), g) != groups.end();
}

namespace {

// Splits one CSV line, honouring double quotes (the groups column is quoted).
std::vector<std::string> SplitCsv(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (char c : line) {
    if (c == '"') quoted = !quoted;
    else if (c == ',' && !quoted) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\r' || s.back() == '\t')) s.pop_back();
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  return s.substr(i);
}

}  // namespace

Result<Authenticator> Authenticator::Create(const std::string& token_file,
                                           std::shared_ptr<const ServiceAccountAuthenticator> service_accounts) {
  Authenticator a;
  a.service_accounts_ = std::move(service_accounts);
  if (token_file.empty()) return a;
  std::ifstream in(token_file);
  if (!in) return Status(Code::kInvalidArgument, "cannot read token file " + token_file);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    line = Trim(line);
    if (line.empty() || line[0] == '#') continue;
    auto cols = SplitCsv(line);
    if (cols.size() < 3 || Trim(cols[0]).empty() || Trim(cols[1]).empty()) {
      return Status(Code::kInvalidArgument, token_file + ":" + std::to_string(n) + ": want token,user,uid[,\"groups\"]");
    }
    UserInfo u{Trim(cols[1]), Trim(cols[2]), {}, {}};
    if (cols.size() > 3) {
      for (auto& g : SplitCsv(cols[3])) if (!Trim(g).empty()) u.groups.push_back(Trim(g));
    }
    a.tokens_[Trim(cols[0])] = u;
  }
  return a;
}

Result<UserInfo> Authenticator::Authenticate(const HttpsRequest& req) const {
  UserInfo u;
  if (req.peer) {
    u.name = req.peer->common_name;
    u.groups = req.peer->organizations;
  } else if (auto auth = req.Header("authorization"); !auth.empty()) {
    constexpr std::string_view kBearer = "Bearer ";
    if (auth.size() <= kBearer.size() || auth.compare(0, kBearer.size(), kBearer) != 0) {
      return Status(Code::kUnauthenticated, "Unauthorized");
    }
    return AuthenticateToken(Trim(auth.substr(kBearer.size())));
  } else {
    return UserInfo{"system:anonymous", "", {"system:unauthenticated"}, {}};
  }
  if (!u.InGroup("system:authenticated")) u.groups.push_back("system:authenticated");
  return u;
}

Result<UserInfo> Authenticator::AuthenticateToken(const std::string& token, const std::vector<std::string>& audiences) const {
  auto it = tokens_.find(token);
  if (it == tokens_.end()) {
    if (service_accounts_ && serviceaccount::jwt::LooksLikeJwt(token)) return service_accounts_->Authenticate(token, audiences);
    return Status(Code::kUnauthenticated, "Unauthorized");
  }
  UserInfo u = it->second;
  if (!u.InGroup("system:authenticated")) u.groups.push_back("system:authenticated");
  return u;
}

}  // namespace kite::apiserver
