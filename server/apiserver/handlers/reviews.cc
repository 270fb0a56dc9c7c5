// The review resources' answers and their table (reviews.h); the request's decoding is
// ResourceHandlers::Review's, at the end.
#include "server/apiserver/handlers/reviews.h"

#include <boost/json.hpp>

#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

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

Status ReviewInvalid(const api::ResourceInfo& r, const std::string& msg) {
  return Status::Api(422, "Invalid", r.kind + "." + r.group + " \"\" is invalid: " + msg);
}

json::object ReviewSpec(const json::object& obj) {
  const json::object* spec = api::FindObject(obj, "spec");
  return spec ? *spec : json::object();
}

Result<ApiResponse> ReviewCreated(json::object& obj, json::object status) {
  obj["status"] = std::move(status);
  return ApiResponse{201, std::move(obj), {}};
}

Result<ApiResponse> AnswerSelfSubjectReview(const ReviewContext& ctx, const api::ResourceInfo&, json::object& obj) {
  return ReviewCreated(obj, json::object{{"userInfo", UserJson(ctx.user)}});
}

Result<ApiResponse> AnswerTokenReview(const ReviewContext& ctx, const api::ResourceInfo& r, json::object& obj) {
  const json::object spec = ReviewSpec(obj);
  std::string token = api::GetString(spec, "token");
  if (token.empty()) return ReviewInvalid(r, "spec.token: Required value");
  // spec.audiences: the token must be good for one of them (default: the API server's), and
  // status.audiences says which of them it is good for.
  std::vector<std::string> wanted = api::GetStrings(spec, "audiences");
  auto user = ctx.authn->AuthenticateToken(token, wanted);
  json::object status{{"authenticated", user.ok()}};
  if (user.ok()) status["user"] = UserJson(user.value());
  else status["error"] = user.error().message() == "Unauthorized" ? "invalid bearer token" : "[invalid bearer token, " + user.error().message() + "]";
  json::array audiences;
  if (user.ok()) {
    if (wanted.empty()) wanted = {"https://kubernetes.default.svc.cluster.local", "k3s"};
    for (const auto& a : wanted) audiences.emplace_back(a);
  }
  status["audiences"] = std::move(audiences);
  return ReviewCreated(obj, std::move(status));
}

// What RBAC grants the caller in spec.namespace (upstream's rules review asks the RBAC
// authorizer's rule resolver the same way; the Node authorizer lists nothing).
Result<ApiResponse> AnswerSelfSubjectRulesReview(const ReviewContext& ctx, const api::ResourceInfo&, json::object& obj) {
  const std::string ns = api::GetString(ReviewSpec(obj), "namespace");
  json::array resource_rules, non_resource_rules;
  std::vector<rbac::PolicyRule> rules;
  if (ctx.rbac) rules = ctx.rbac->RulesFor(ctx.user, ns);
  for (const auto& rule : rules) {
    json::object o = rbac::RuleJson(rule).as_object();
    if (rule.non_resource_urls.empty()) {
      if (!o.contains("apiGroups")) o["apiGroups"] = json::array();
      if (!o.contains("resources")) o["resources"] = json::array();
      resource_rules.push_back(std::move(o));
    } else {
      non_resource_rules.push_back(std::move(o));
    }
  }
  return ReviewCreated(obj, json::object{{"resourceRules", std::move(resource_rules)},
                                   {"nonResourceRules", std::move(non_resource_rules)}, {"incomplete", false}});
}

// The three access reviews differ only in whose access is asked (the requester's, or the spec's
// user and groups) and whether the attributes' namespace must be the request's.
enum class ReviewSubject { kRequester, kSpec };
enum class ReviewScope { kAny, kRequestNamespace };

template <ReviewSubject kSubject, ReviewScope kScope>
Result<ApiResponse> AnswerAccessReview(const ReviewContext& ctx, const api::ResourceInfo& r, json::object& obj) {
  const json::object spec = ReviewSpec(obj);
  UserInfo who = ctx.user;
  if (kSubject == ReviewSubject::kSpec) {
    who = UserInfo{api::GetString(spec, "user"), api::GetString(spec, "uid"), api::GetStrings(spec, "groups"), {}};
    if (who.name.empty() && who.groups.empty()) {
      return ReviewInvalid(r, "spec.user: Invalid value: \"\": at least one of user or group must be specified");
    }
  }
  auto attrs = AttributesOf(spec, who);
  if (!attrs) {
    return ReviewInvalid(r, "spec.resourceAttributes: Invalid value: \"null\": exactly one of nonResourceAttributes or resourceAttributes must be specified");
  }
  if (kScope == ReviewScope::kRequestNamespace) {
    if (attrs->namespace_ != ctx.ns) {
      return ReviewInvalid(r, "spec.resourceAttributes.namespace: Invalid value: \"" + attrs->namespace_ +
                            "\": must match metadata.namespace");
    }
    api::MutableObject(obj, "metadata")["namespace"] = ctx.ns;
  }
  Decision d = ctx.authz->Authorize(*attrs);
  json::object status{{"allowed", d.allowed}};
  if (!d.reason.empty()) status["reason"] = d.reason;
  return ReviewCreated(obj, std::move(status));
}

}  // namespace

ReviewAnswer ReviewFor(const api::ResourceInfo& r) {
  if (r.custom) return nullptr;
  using Key = std::pair<std::string_view, std::string_view>;  // group, resource
  static const std::map<Key, ReviewAnswer> kReviews = {
      {{"authentication.k8s.io", "selfsubjectreviews"}, &AnswerSelfSubjectReview},
      {{"authentication.k8s.io", "tokenreviews"}, &AnswerTokenReview},
      {{"authorization.k8s.io", "selfsubjectaccessreviews"}, &AnswerAccessReview<ReviewSubject::kRequester, ReviewScope::kAny>},
      {{"authorization.k8s.io", "subjectaccessreviews"}, &AnswerAccessReview<ReviewSubject::kSpec, ReviewScope::kAny>},
      {{"authorization.k8s.io", "localsubjectaccessreviews"},
       &AnswerAccessReview<ReviewSubject::kSpec, ReviewScope::kRequestNamespace>},
      {{"authorization.k8s.io", "selfsubjectrulesreviews"}, &AnswerSelfSubjectRulesReview},
  };
  auto it = kReviews.find(Key{r.group, r.resource});
  return it == kReviews.end() ? nullptr : it->second;
}

asio::awaitable<Result<ApiResponse>> ResourceHandlers::Review(Call& c, ReviewAnswer answer) {
  auto body = DecodeBody(c.req, c.r);
  if (!body.ok()) co_return body.error();
  json::object obj = std::move(body.value());
  obj["apiVersion"] = c.r.group_version();
  obj["kind"] = c.r.kind;
  json::object& meta = api::MutableObject(obj, "metadata");
  meta.erase("resourceVersion");
  if (!meta.contains("creationTimestamp")) meta["creationTimestamp"] = nullptr;
  const ReviewContext ctx{c.a.user, c.ns, authn_, authz_, rbac_};
  co_return answer(ctx, c.r, obj);
}

}  // namespace kite::apiserver
