#include "server/apiserver/rbac/escalation.h"

#include <boost/json.hpp>

#include "api/object.h"
#include "server/apiserver/status.h"

namespace kite::apiserver::rbac {
namespace json = boost::json;

namespace {

constexpr const char* kGroup = "rbac.authorization.k8s.io";

// Go's %q of a []string.
std::string QuotedList(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? " \"" : "\"") + v[i] + "\"";
  return out + "]";
}

Status Refuse(const api::ResourceInfo& r, const std::string& name, const std::string& why) {
  return Forbidden(r.resource + "." + r.group + " \"" + name + "\" is forbidden: " + why);
}

bool Allowed(const Authorizer& authz, const UserInfo& user, const std::string& verb, const std::string& resource,
             const std::string& ns, const std::string& name) {
  RequestAttributes a;
  a.user = user;
  a.verb = verb;
  a.resource_request = true;
  a.api_group = kGroup;
  a.api_version = "v1";
  a.resource = resource;
  a.namespace_ = ns;
  a.name = name;
  return authz.Authorize(a).allowed;
}

// Upstream's ConfirmNoEscalation: the user's rules in `ns` must cover `rules`.
Status Cover(RbacAuthorizer& rbac, const UserInfo& user, const std::string& ns, const std::vector<PolicyRule>& rules,
             const api::ResourceInfo& r, const std::string& name) {
  rbac.Sync();  // a role or binding written just before must count
  std::vector<PolicyRule> missing;
  if (Covers(rbac.RulesFor(user, ns), rules, &missing)) return Status::Ok();
  std::string msg = "user \"" + user.name + "\" (groups=" + QuotedList(user.groups) +
                    ") is attempting to grant RBAC permissions not currently held:";
  for (const auto& m : missing) msg += "\n" + CompactString(m);
  return Refuse(r, name, msg);
}

}  // namespace

Status ConfirmNoEscalation(const Authorizer& authz, RbacAuthorizer& rbac, const UserInfo& user,
                           const api::ResourceInfo& r, const std::string& ns, const json::object& obj,
                           const json::object* old) {
  if (r.group != kGroup || user.InGroup("system:masters")) return Status::Ok();
  const std::string name = api::GetString(api::GetObject(obj, "metadata"), "name");
  if (r.resource == "roles" || r.resource == "clusterroles") {
    const std::vector<PolicyRule> rules = ParseRules(obj.if_contains("rules"));
    const json::value* agg = obj.if_contains("aggregationRule");
    const bool has_agg = agg && agg->is_object() && !api::GetArray(agg->as_object(), "clusterRoleSelectors").empty();
    if (old && ParseRules(old->if_contains("rules")) == rules) {
      const json::value* old_agg = old->if_contains("aggregationRule");
      if ((agg ? *agg : json::value()) == (old_agg ? *old_agg : json::value())) return Status::Ok();
    }
    if (Allowed(authz, user, "escalate", r.resource, ns, name)) return Status::Ok();
    if (has_agg) {
      const std::vector<PolicyRule> all = {PolicyRule{{"*"}, {"*"}, {"*"}, {}, {}}, PolicyRule{{"*"}, {}, {}, {}, {"*"}}};
      rbac.Sync();
      if (!Covers(rbac.RulesFor(user, ns), all)) {
        return Refuse(r, name, "must have cluster-admin privileges to use an aggregationRule");
      }
      if (rules.empty()) return Status::Ok();  // the aggregator fills them in
    }
    return Cover(rbac, user, ns, rules, r, name);
  }
  if (r.resource == "rolebindings" || r.resource == "clusterrolebindings") {
    if (old && api::GetArray(*old, "subjects") == api::GetArray(obj, "subjects") &&
        api::GetObject(*old, "roleRef") == api::GetObject(obj, "roleRef")) {
      return Status::Ok();
    }
    const json::object& ref = api::GetObject(obj, "roleRef");
    const std::string kind = api::GetString(ref, "kind");
    const std::string role = api::GetString(ref, "name");
    const std::string role_resource = kind == "Role" ? "roles" : "clusterroles";
    if (Allowed(authz, user, "bind", role_resource, ns, role)) return Status::Ok();
    rbac.Sync();
    auto rules = rbac.RoleRefRules(kind, ns, role);
    if (!rules) {
      return Refuse(r, name, role_resource + "." + kGroup + " \"" + role + "\" not found");
    }
    return Cover(rbac, user, ns, *rules, r, name);
  }
  return Status::Ok();
}

}  // namespace kite::apiserver::rbac
