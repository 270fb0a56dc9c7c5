#include "server/apiserver/rbac/rbac_authorizer.h"

#include <boost/json.hpp>

#include <algorithm>
#include <mutex>

#include "api/labels.h"
#include "api/object.h"
#include "base/log.h"

namespace kite::apiserver::rbac {
namespace json = boost::json;

namespace {

constexpr std::string_view kClusterRoles = "/registry/clusterroles/";
constexpr std::string_view kRoles = "/registry/roles/";
constexpr std::string_view kClusterRoleBindings = "/registry/clusterrolebindings/";
constexpr std::string_view kRoleBindings = "/registry/rolebindings/";

}  // namespace

RbacAuthorizer::RbacAuthorizer(datastore::Store* store) : store_(store) {
  follower_ = std::make_unique<KeyFollower>(
      store,
      std::vector<std::string>{std::string(kClusterRoles), std::string(kRoles), std::string(kClusterRoleBindings),
                               std::string(kRoleBindings)},
      [this](const std::string& key, const datastore::Value& value) { Apply(key, value); },
      [this] { Aggregate(); });
}

RbacAuthorizer::~RbacAuthorizer() { follower_.reset(); }

void RbacAuthorizer::RemoveBinding(const std::string& key) {
  auto it = subjects_of_.find(key);
  if (it == subjects_of_.end()) return;
  for (const auto& s : it->second) {
    auto b = by_subject_.find(s);
    if (b == by_subject_.end()) continue;
    b->second.erase(key);
    if (b->second.empty()) by_subject_.erase(b);
  }
  subjects_of_.erase(it);
}

void RbacAuthorizer::Apply(const std::string& key, const datastore::Value& value) {
  auto obj = KeyFollower::DecodeObject(value);
  std::unique_lock lock(mu_);
  if (key.starts_with(kClusterRoles)) {
    const std::string name = key.substr(kClusterRoles.size());
    if (!obj) {
      cluster_roles_.erase(name);
      aggregate_needed_ = true;
      return;
    }
    ClusterRole cr;
    cr.rules = std::make_shared<const std::vector<PolicyRule>>(ParseRules(obj->if_contains("rules")));
    const json::object& meta = api::GetObject(*obj, "metadata");
    for (const auto& [k, v] : api::GetObject(meta, "labels")) {
      if (v.is_string()) cr.labels[std::string(k)] = std::string(v.as_string());
    }
    const json::array& sel = api::GetArray(api::GetObject(*obj, "aggregationRule"), "clusterRoleSelectors");
    cr.selectors.assign(sel.begin(), sel.end());
    cr.stored = value;
    cluster_roles_[name] = std::move(cr);
    aggregate_needed_ = true;
    return;
  }
  if (key.starts_with(kRoles)) {
    const std::string rest = key.substr(kRoles.size());  // ns/name
    if (!obj) roles_.erase(rest);
    else roles_[rest] = std::make_shared<const std::vector<PolicyRule>>(ParseRules(obj->if_contains("rules")));
    return;
  }
  const bool cluster = key.starts_with(kClusterRoleBindings);
  if (!cluster && !key.starts_with(kRoleBindings)) return;
  RemoveBinding(key);
  if (!obj) return;
  Binding b;
  if (!cluster) {
    const std::string rest = key.substr(kRoleBindings.size());
    b.ns = rest.substr(0, rest.find('/'));
  }
  const json::object& ref = api::GetObject(*obj, "roleRef");
  b.cluster_role = api::GetString(ref, "kind") != "Role";
  b.role = api::GetString(ref, "name");
  if (cluster && !b.cluster_role) return;  // a ClusterRoleBinding can only name a ClusterRole
  std::vector<std::string> keys;
  for (const auto& s : api::GetArray(*obj, "subjects")) {
    if (!s.is_object()) continue;
    const std::string kind = api::GetString(s.as_object(), "kind");
    const std::string name = api::GetString(s.as_object(), "name");
    if (kind == "User") {
      keys.push_back("u:" + name);
    } else if (kind == "Group") {
      keys.push_back("g:" + name);
    } else if (kind == "ServiceAccount") {
      std::string ns = api::GetString(s.as_object(), "namespace");
      if (ns.empty()) ns = b.ns;
      if (ns.empty()) continue;
      keys.push_back("u:system:serviceaccount:" + ns + ":" + name);
    }
  }
  for (const auto& k : keys) by_subject_[k][key] = b;
  subjects_of_[key] = std::move(keys);
}

template <typename F>
void RbacAuthorizer::VisitRules(const UserInfo& user, const std::string& ns, F&& visit) const {
  auto visit_subject = [&](const std::string& subject_key) {
    auto it = by_subject_.find(subject_key);
    if (it == by_subject_.end()) return false;
    for (const auto& [key, b] : it->second) {
      if (!b.ns.empty() && b.ns != ns) continue;
      const std::vector<PolicyRule>* rules = nullptr;
      if (b.cluster_role) {
        auto r = cluster_roles_.find(b.role);
        if (r != cluster_roles_.end()) rules = r->second.rules.get();
      } else {
        auto r = roles_.find(b.ns + "/" + b.role);
        if (r != roles_.end()) rules = r->second.get();
      }
      if (rules && visit(*rules)) return true;
    }
    return false;
  };
  if (visit_subject("u:" + user.name)) return;
  for (const auto& g : user.groups) {
    if (visit_subject("g:" + g)) return;
  }
}

Decision RbacAuthorizer::Authorize(const RequestAttributes& a) const {
  std::shared_lock lock(mu_);
  bool allowed = false;
  // Non-resource requests and cluster-scoped resources see ClusterRoleBindings only.
  const std::string ns = a.resource_request ? a.namespace_ : "";
  VisitRules(a.user, ns, [&](const std::vector<PolicyRule>& rules) {
    allowed = std::any_of(rules.begin(), rules.end(), [&](const PolicyRule& r) { return RuleAllows(r, a); });
    return allowed;
  });
  if (allowed) return {true, "RBAC: allowed"};
  return {false, ""};
}

std::vector<PolicyRule> RbacAuthorizer::RulesFor(const UserInfo& user, const std::string& ns) const {
  std::shared_lock lock(mu_);
  std::vector<PolicyRule> out;
  VisitRules(user, ns, [&](const std::vector<PolicyRule>& rules) {
    out.insert(out.end(), rules.begin(), rules.end());
    return false;
  });
  return out;
}

std::optional<std::vector<PolicyRule>> RbacAuthorizer::RoleRefRules(const std::string& kind, const std::string& ns,
                                                                    const std::string& name) const {
  std::shared_lock lock(mu_);
  if (kind == "ClusterRole") {
    auto it = cluster_roles_.find(name);
    if (it == cluster_roles_.end()) return std::nullopt;
    return *it->second.rules;
  }
  auto it = roles_.find(ns + "/" + name);
  if (it == roles_.end()) return std::nullopt;
  return *it->second;
}

// Runs on the follower's thread after a batch: each aggregated ClusterRole gets the rules of
// the ClusterRoles its selectors match (in name order, each rule once), written back when they
// differ. The write comes back through the follower, and settles once nothing differs.
void RbacAuthorizer::Aggregate() {
  struct Write {
    std::string name;
    datastore::Value stored;
    json::array rules;
  };
  std::vector<Write> writes;
  {
    std::shared_lock lock(mu_);
    if (!aggregate_needed_) return;
    std::map<std::string, const ClusterRole*> sorted;
    for (const auto& [name, cr] : cluster_roles_) sorted[name] = &cr;
    for (const auto& [name, cr] : sorted) {
      if (cr->selectors.empty()) continue;
      std::vector<PolicyRule> rules;
      for (const auto& sel_json : cr->selectors) {
        auto sel = api::LabelSelector::FromLabelSelectorJson(sel_json);
        if (!sel.ok() || sel->Empty()) continue;  // an empty selector would take every role
        for (const auto& [other_name, other] : sorted) {
          if (other_name == name || !sel->Matches(other->labels)) continue;
          for (const auto& r : *other->rules) {
            if (std::find(rules.begin(), rules.end(), r) == rules.end()) rules.push_back(r);
          }
        }
      }
      if (rules == *cr->rules) continue;
      json::array arr;
      for (const auto& r : rules) arr.push_back(RuleJson(r));
      writes.push_back(Write{name, cr->stored, std::move(arr)});
    }
  }
  aggregate_needed_ = false;
  for (auto& w : writes) {
    auto obj = KeyFollower::DecodeObject(w.stored);
    if (!obj) continue;
    (*obj)["rules"] = std::move(w.rules);
    const std::string key = std::string(kClusterRoles) + w.name;
    datastore::TxnRequest t;
    datastore::Compare c;
    c.key = key;
    c.target = datastore::Compare::Target::kValue;
    c.value = *w.stored;
    t.compare.push_back(c);
    datastore::PutRequest put;
    put.key = key;
    put.value = std::make_shared<const std::string>(json::serialize(*obj));
    t.success.push_back(datastore::RequestOp{std::move(put)});
    // Blocks this thread until the commit; a lost race is seen again in a later batch.
    if (auto r = store_->TxnSync(std::move(t)); !r.ok()) {
      KITE_LOG(0) << "clusterrole aggregation: writing " << w.name << ": " << r.status().ToString();
    }
  }
}

}  // namespace kite::apiserver::rbac
