#include "server/apiserver/filters/serviceaccount_authn.h"

#include <boost/json.hpp>

#include <chrono>

#include "api/object.h"
#include "api/time.h"
#include "base/clock.h"
#include "base/encoding.h"
#include "server/serviceaccount/tokens.h"

namespace kite::apiserver {
namespace json = boost::json;

namespace {

Status Invalid(const std::string& why) { return Status(Code::kUnauthenticated, why); }

// Reads a bound object and checks its uid; `what` names it in the reason.
Result<json::object> Fetch(const ServiceAccountAuthenticator::Getter& get, const std::string& resource,
                           const std::string& ns, const serviceaccount::ObjectRef& ref, const std::string& what) {
  auto obj = get(resource, ns, ref.name);
  if (!obj.ok()) {
    if (obj.status().code() == Code::kNotFound || obj.status().http_code() == 404) {
      return Invalid(what + " " + ns + (ns.empty() ? "" : "/") + ref.name + " has been deleted");
    }
    return obj.status();
  }
  if (!ref.uid.empty() && api::Uid(*obj) != ref.uid) {
    return Invalid(what + " UID (" + ref.uid + ") does not match the " + what + " " + ref.name + " in the cluster");
  }
  return obj;
}

}  // namespace

ServiceAccountAuthenticator::ServiceAccountAuthenticator(serviceaccount::SigningKeys keys, Getter get,
                                                         std::function<int64_t()> now)
    : keys_(std::move(keys)), get_(std::move(get)), now_(std::move(now)) {}

int64_t ServiceAccountAuthenticator::Now() const {
  if (now_) return now_();
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::Real()->Now().time_since_epoch()).count();
}

Result<UserInfo> ServiceAccountAuthenticator::Authenticate(std::string_view token,
                                                           const std::vector<std::string>& audiences) const {
  const std::vector<std::string> wanted = audiences.empty() ? serviceaccount::ApiAudiences() : audiences;
  auto claims = serviceaccount::Verify(token, keys_.verifying, Now(), wanted);
  if (!claims.ok()) return claims.status();
  if (Status s = CheckBound(*claims, token); !s.ok()) {
    // A datastore failure is not the client's fault, but the request still cannot go on as anyone.
    return s.code() == Code::kUnauthenticated ? s : Invalid("cannot validate the token: " + s.message());
  }
  const serviceaccount::Claims& c = *claims;
  UserInfo u;
  u.name = serviceaccount::UserName(c.ns, c.service_account.name);
  u.uid = c.service_account.uid;
  u.groups = {"system:serviceaccounts", "system:serviceaccounts:" + c.ns, "system:authenticated"};
  if (!c.pod.empty()) {
    u.extra["authentication.kubernetes.io/pod-name"] = {c.pod.name};
    u.extra["authentication.kubernetes.io/pod-uid"] = {c.pod.uid};
  }
  if (!c.node.empty()) {
    u.extra["authentication.kubernetes.io/node-name"] = {c.node.name};
    if (!c.node.uid.empty()) u.extra["authentication.kubernetes.io/node-uid"] = {c.node.uid};
  }
  if (!c.id.empty()) u.extra["authentication.kubernetes.io/credential-id"] = {"JTI=" + c.id};
  return u;
}

Status ServiceAccountAuthenticator::CheckBound(const serviceaccount::Claims& c, std::string_view token) const {
  auto sa = get_("serviceaccounts", c.ns, c.service_account.name);
  if (!sa.ok()) {
    if (sa.status().code() == Code::kNotFound || sa.status().http_code() == 404) {
      return Invalid("service account " + c.ns + "/" + c.service_account.name + " has been deleted");
    }
    return sa.status();
  }
  const std::string sa_uid = api::Uid(*sa);
  if (c.legacy) {
    auto secret = Fetch(get_, "secrets", c.ns, c.secret, "secret");
    if (!secret.ok()) return secret.status();
    const json::object& annotations = api::Annotations(*secret);
    if (api::GetString(*secret, "type") != "kubernetes.io/service-account-token" ||
        api::GetString(annotations, "kubernetes.io/service-account.name") != c.service_account.name ||
        (!c.service_account.uid.empty() && c.service_account.uid != sa_uid)) {
      return Invalid("token does not belong to the service account " + c.ns + "/" + c.service_account.name);
    }
    auto stored = Base64Decode(api::GetString(api::GetObject(*secret, "data"), "token"));
    if (!stored || *stored != token) return Invalid("token does not match the secret " + c.ns + "/" + c.secret.name);
    return {};
  }
  if (sa_uid != c.service_account.uid) {
    return Invalid("service account UID (" + c.service_account.uid + ") does not match the service account " +
                   c.ns + "/" + c.service_account.name + " in the cluster");
  }
  if (!c.pod.empty()) {
    auto pod = Fetch(get_, "pods", c.ns, c.pod, "pod");
    if (!pod.ok()) return pod.status();
    const std::string deleted = api::GetString(api::Metadata(*pod), "deletionTimestamp");
    if (auto t = api::ParseTime(deleted)) {
      const int64_t deadline = std::chrono::duration_cast<std::chrono::seconds>(t->time_since_epoch()).count();
      if (deadline + 60 < Now()) return Invalid("pod " + c.ns + "/" + c.pod.name + " has been deleted");
    }
    return {};
  }
  if (!c.secret.empty()) return Fetch(get_, "secrets", c.ns, c.secret, "secret").status();
  if (!c.node.empty()) return Fetch(get_, "nodes", "", c.node, "node").status();
  return {};
}

}  // namespace kite::apiserver
