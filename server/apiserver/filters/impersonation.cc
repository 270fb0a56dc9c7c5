#include "server/apiserver/filters/impersonation.h"

#include <algorithm>

#include "server/apiserver/status.h"

namespace kite::apiserver {

namespace {

std::vector<std::string> SplitHeader(const std::string& v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    if (comma == std::string::npos) comma = v.size();
    std::string part = v.substr(start, comma - start);
    const size_t b = part.find_first_not_of(' ');
    const size_t e = part.find_last_not_of(' ');
    if (b != std::string::npos) out.push_back(part.substr(b, e - b + 1));
    start = comma + 1;
  }
  return out;
}

void AddGroup(std::vector<std::string>& groups, const std::string& g) {
  if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
}

}  // namespace

Result<std::optional<UserInfo>> Impersonate(const HttpsRequest& req, const UserInfo& requester, const Authorizer& authz) {
  const std::string user = req.Header("impersonate-user");
  const std::vector<std::string> groups = SplitHeader(req.Header("impersonate-group"));
  const std::string uid = req.Header("impersonate-uid");
  std::vector<std::pair<std::string, std::string>> extras;
  constexpr std::string_view kExtra = "impersonate-extra-";
  for (const auto& [name, value] : req.headers) {
    if (!name.starts_with(kExtra)) continue;
    for (const auto& v : SplitHeader(value)) extras.emplace_back(name.substr(kExtra.size()), v);
  }
  if (user.empty() && groups.empty() && uid.empty() && extras.empty()) return std::optional<UserInfo>();
  if (user.empty()) {
    return BadRequest("requested impersonation of groups, a uid or extra fields without impersonating a user");
  }
  auto check = [&](RequestAttributes a) -> Status {
    a.user = requester;
    a.verb = "impersonate";
    a.resource_request = true;
    if (authz.Authorize(a).allowed) return Status::Ok();
    return Forbidden(ForbiddenMessage(a));
  };
  UserInfo as;
  as.name = user;
  constexpr std::string_view kSa = "system:serviceaccount:";
  RequestAttributes target;
  if (user.starts_with(kSa) && user.find(':', kSa.size()) != std::string::npos) {
    const size_t colon = user.find(':', kSa.size());
    target.resource = "serviceaccounts";
    target.namespace_ = user.substr(kSa.size(), colon - kSa.size());
    target.name = user.substr(colon + 1);
    if (groups.empty()) {
      as.groups = {"system:serviceaccounts", "system:serviceaccounts:" + target.namespace_};
    }
  } else {
    target.resource = "users";
    target.name = user;
  }
  if (auto s = check(target); !s.ok()) return s;
  for (const auto& g : groups) {
    RequestAttributes a;
    a.resource = "groups";
    a.name = g;
    if (auto s = check(a); !s.ok()) return s;
    AddGroup(as.groups, g);
  }
  if (!uid.empty()) {
    RequestAttributes a;
    a.api_group = "authentication.k8s.io";
    a.resource = "uids";
    a.name = uid;
    if (auto s = check(a); !s.ok()) return s;
    as.uid = uid;
  }
  for (const auto& [key, value] : extras) {
    RequestAttributes a;
    a.api_group = "authentication.k8s.io";
    a.resource = "userextras";
    a.subresource = key;
    a.name = value;
    if (auto s = check(a); !s.ok()) return s;
  }
  if (as.anonymous()) AddGroup(as.groups, "system:unauthenticated");
  else AddGroup(as.groups, "system:authenticated");
  return std::optional<UserInfo>(std::move(as));
}

}  // namespace kite::apiserver
