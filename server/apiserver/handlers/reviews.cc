// The authentication.k8s.io and authorization.k8s.io review resources: create-only objects
// answered from the authenticator and authorizer, never stored. `kubectl auth whoami` posts a
// SelfSubjectReview, `kubectl auth can-i` a SelfSubjectAccessReview (or a SelfSubjectRulesReview
// for --list); controllers and webhooks use TokenReview and (Local)SubjectAccessReview.
#include <boost/json.hpp>

#include "api/object.h"
#include "server/apiserver/handlers/handlers_internal.h"
#include "server/apiserver/rbac/rules.h"
#include "server/apiserver/storage/registry.h"

namespace kite::apiserver {
namespace json = boost::json;
namespace asio = boost::asio;

namespace {

json::object UserJson(const UserInfo& u) {
  json::array groups;
  for (const auto& g : u.groups) groups.push_back(json::string(g));
  json::object o{{"username", u.name}, {"groups", std::move(groups)}};
  if (!u.uid.empty()) o["uid"] = u.uid;
  if (!u.extra.empty()) {
    json::object extra;
    for (const auto& [k, vs] : u.extra) {
      json::array a;
      for (const auto& v : vs) a.emplace_back(v);
      extra[k] = std::move(a);
    }
    o["extra"] = std::move(extra);
  }
  return o;
}

std::vector<std::string> Strings(const json::object& o, const char* key) {
  std::vector<std::string> out;
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_array()) return out;
  for (const auto& v : it->value().as_array()) {
    if (v.is_string()) out.emplace_back(v.as_string());
  }
  return out;
}

// Attributes from a SubjectAccessReviewSpec's resourceAttributes / nonResourceAttributes.
std::optional<RequestAttributes> AttributesOf(const json::object& spec, const UserInfo& user) {
  RequestAttributes a;
  a.user = user;
  if (auto ra = spec.find("resourceAttributes"); ra != spec.end() && ra->value().is_object()) {
    const auto& r = ra->value().as_object();
    a.resource_request = true;
    a.namespace_ = api::GetString(r, "namespace");
    a.verb = api::GetString(r, "verb");
    a.api_group = api::GetString(r, "group");
    a.api_version = api::GetString(r, "version");
    a.resource = api::GetString(r, "resource");
    a.subresource = api::GetString(r, "subresource");
    a.name = api::GetString(r, "name");
    return a;
  }
  if (auto nr = spec.find("nonResourceAttributes"); nr != spec.end() && nr->value().is_object()) {
    a.resource_request = false;
    a.path = api::GetString(nr->value().as_object(), "path");
    a.verb = api::GetString(nr->value().as_object(), "verb");
    return a;
  }
  return std::nullopt;
}

}  // namespace

asio::awaitable<Result<ApiResponse>> ResourceHandlers::Review(Call& c) {
  auto body = DecodeBody(c.req, c.r);
  if (!body.ok()) co_return body.error();
  json::object obj = std::move(body.value());
  obj["apiVersion"] = c.r.group_version();
  obj["kind"] = c.r.kind;
  json::object& meta = api::MutableObject(obj, "metadata");
  meta.erase("resourceVersion");
  if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = nullptr;
  json::object spec = obj.contains("spec") && obj["spec"].is_object() ? obj["spec"].as_object() : json::object();
  const std::string& kind = c.r.kind;
  auto invalid = [&](const std::string& msg) {
    return Status::Api(422, "Invalid", kind + "." + c.r.group + " \"\" is invalid: " + msg);
  };

  if (kind == "SelfSubjectReview") {
    obj["status"] = json::object{{"userInfo", UserJson(c.a.user)}};
    co_return ApiResponse{201, std::move(obj), {}};
  }
  if (kind == "TokenReview") {
    std::string token = api::GetString(spec, "token");
    if (token.empty()) co_return invalid("spec.token: Required value");
    // spec.audiences: the token must be good for one of them (default: the API server's), and
    // status.audiences says which of them it is good for.
    std::vector<std::string> wanted = Strings(spec, "audiences");
    auto user = authn_->AuthenticateToken(token, wanted);
    json::object status{{"authenticated", user.ok()}};
    if (user.ok()) status["user"] = UserJson(user.value());
    else status["error"] = user.error().message() == "Unauthorized" ? "invalid bearer token" : "[invalid bearer token, " + user.error().message() + "]";
    json::array audiences;
    if (user.ok()) {
      if (wanted.empty()) wanted = {"https://kubernetes.default.svc.cluster.local", "k3s"};
      for (const auto& a : wanted) audiences.emplace_back(a);
    }
    status["audiences"] = std::move(audiences);
    obj["status"] = std::move(status);
    co_return ApiResponse{201, std::move(obj), {}};
  }
  if (kind == "SelfSubjectRulesReview") {
    // What RBAC grants the caller in spec.namespace (upstream's rules review asks the RBAC
    // authorizer's rule resolver the same way; the Node authorizer lists nothing).
    const std::string ns = api::GetString(spec, "namespace");
    json::array resource_rules, non_resource_rules;
    std::vector<rbac::PolicyRule> rules;
    if (rbac_) rules = rbac_->RulesFor(c.a.user, ns);
    for (const auto& r : rules) {
      json::object o = rbac::RuleJson(r).as_object();
      if (r.non_resource_urls.empty()) {
        if (!o.contains("apiGroups")) o["apiGroups"] = json::array();
        if (!o.contains("resources")) o["resources"] = json::array();
        resource_rules.push_back(std::move(o));
      } else {
        non_resource_rules.push_back(std::move(o));
      }
    }
    obj["status"] = json::object{{"resourceRules", std::move(resource_rules)},
                                 {"nonResourceRules", std::move(non_resource_rules)}, {"incomplete", false}};
    co_return ApiResponse{201, std::move(obj), {}};
  }
  // SelfSubjectAccessReview, SubjectAccessReview, LocalSubjectAccessReview.
  UserInfo who = c.a.user;
  if (kind != "SelfSubjectAccessReview") {
    who = UserInfo{api::GetString(spec, "user"), api::GetString(spec, "uid"), Strings(spec, "groups"), {}};
    if (who.name.empty() && who.groups.empty()) {
      co_return invalid("spec.user: Invalid value: \"\": at least one of user or group must be specified");
    }
  }
  auto attrs = AttributesOf(spec, who);
  if (!attrs) {
    co_return invalid("spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified");
  }
  if (kind == "LocalSubjectAccessReview") {
    if (attrs->namespace_ != c.ns) {
      co_return invalid("spec.resourceAttributes.namespace: Invalid value: \"" + attrs->namespace_ +
                        "\": must match metadata.namespace");
    }
    meta["namespace"] = c.ns;
  }
  Decision d = authz_->Authorize(*attrs);
  json::object status{{"allowed", d.allowed}};
  if (!d.reason.empty()) status["reason"] = d.reason;
  obj["status"] = std::move(status);
  co_return ApiResponse{201, std::move(obj), {}};
}

}  // namespace kite::apiserver
