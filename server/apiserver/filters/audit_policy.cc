#include "server/apiserver/filters/audit_policy.h"

#include <boost/json.hpp>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "api/object.h"
#include "api/yaml_json.h"

namespace kite::apiserver::audit {
namespace json = boost::json;

namespace {

Status Bad(const std::string& why) { return Status(Code::kInvalidArgument, "audit policy: " + why); }

bool Has(const std::vector<std::string>& list, const std::string& v) {
  return std::find(list.begin(), list.end(), v) != list.end();
}

Result<std::vector<std::string>> Strings(const json::object& o, std::string_view key, const std::string& where) {
  std::vector<std::string> out;
  const json::value* v = o.if_contains(key);
  if (!v || v->is_null()) return out;
  if (!v->is_array()) return Bad(where + "." + std::string(key) + ": must be a list of strings");
  for (const auto& s : v->as_array()) {
    if (!s.is_string()) return Bad(where + "." + std::string(key) + ": must be a list of strings");
    out.emplace_back(s.as_string());
  }
  return out;
}

Result<unsigned> Stages(const json::object& o, const std::string& where) {
  auto names = Strings(o, "omitStages", where);
  if (!names.ok()) return names.status();
  unsigned bits = 0;
  for (const auto& n : *names) {
    if (n == "RequestReceived") bits |= kRequestReceived;
    else if (n == "ResponseStarted") bits |= kResponseStarted;
    else if (n == "ResponseComplete") bits |= kResponseComplete;
    else if (n == "Panic") bits |= kPanic;
    else return Bad(where + ".omitStages: Invalid value: \"" + n + "\": allowed stages are RequestReceived, ResponseStarted, ResponseComplete, Panic");
  }
  return bits;
}

Result<PolicyRule> ParseRule(const json::object& o, const std::string& where) {
  PolicyRule r;
  const std::string level = api::GetString(o, "level");
  if (level == "None") r.level = Level::kNone;
  else if (level == "Metadata") r.level = Level::kMetadata;
  else if (level == "Request") r.level = Level::kRequest;
  else if (level == "RequestResponse") r.level = Level::kRequestResponse;
  else if (level.empty()) return Bad(where + ".level: Required value");
  else return Bad(where + ".level: Unsupported value: \"" + level + "\"");
  for (auto [key, target] : {std::pair<const char*, std::vector<std::string>*>{"users", &r.users},
                             {"userGroups", &r.user_groups},
                             {"verbs", &r.verbs},
                             {"namespaces", &r.namespaces},
                             {"nonResourceURLs", &r.non_resource_urls}}) {
    auto list = Strings(o, key, where);
    if (!list.ok()) return list.status();
    *target = std::move(*list);
  }
  for (const auto& u : r.non_resource_urls) {
    const size_t star = u.find('*');
    if (u.empty() || (u != "*" && u[0] != '/') || (star != std::string::npos && star != u.size() - 1)) {
      return Bad(where + ".nonResourceURLs: Invalid value: \"" + u + "\": must be an absolute path, optionally ending in *");
    }
  }
  if (const json::value* res = o.if_contains("resources"); res && !res->is_null()) {
    if (!res->is_array()) return Bad(where + ".resources: must be a list");
    for (const auto& g : res->as_array()) {
      if (!g.is_object()) return Bad(where + ".resources: must be a list of objects");
      GroupResources gr;
      gr.group = api::GetString(g.as_object(), "group");
      auto names = Strings(g.as_object(), "resources", where + ".resources");
      if (!names.ok()) return names.status();
      gr.resources = std::move(*names);
      auto rn = Strings(g.as_object(), "resourceNames", where + ".resources");
      if (!rn.ok()) return rn.status();
      gr.resource_names = std::move(*rn);
      r.resources.push_back(std::move(gr));
    }
  }
  if (!r.non_resource_urls.empty() && (!r.resources.empty() || !r.namespaces.empty())) {
    return Bad(where + ": rules cannot apply to both regular resources and non-resource URLs");
  }
  auto stages = Stages(o, where);
  if (!stages.ok()) return stages.status();
  r.omit_stages = *stages;
  if (const json::value* m = o.if_contains("omitManagedFields"); m && m->is_bool()) r.omit_managed_fields = m->as_bool();
  return r;
}

bool PathMatches(const std::string& path, const std::string& spec) {
  if (spec == "*" || spec == path) return true;
  return !spec.empty() && spec.back() == '*' && path.compare(0, spec.size() - 1, spec, 0, spec.size() - 1) == 0;
}

bool MatchesResource(const PolicyRule& r, const RequestAttributes& a) {
  if (!a.resource_request) return false;
  if (!r.namespaces.empty() && !Has(r.namespaces, a.namespace_)) return false;
  if (r.resources.empty()) return true;
  const std::string combined = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  for (const auto& gr : r.resources) {
    if (gr.group != a.api_group) continue;
    if (gr.resources.empty()) return true;
    if (!gr.resource_names.empty() && !Has(gr.resource_names, a.name)) continue;
    for (const auto& res : gr.resources) {
      if (res == combined || res == "*") return true;
      if (!a.subresource.empty() && res.size() > 2 && res.compare(0, 2, "*/") == 0 && res.substr(2) == a.subresource) return true;
      if (res.size() > 2 && res.compare(res.size() - 2, 2, "/*") == 0 && res.substr(0, res.size() - 2) == a.resource) return true;
    }
  }
  return false;
}

bool Matches(const PolicyRule& r, const RequestAttributes& a) {
  if (!r.users.empty() && !Has(r.users, a.user.name)) return false;
  if (!r.user_groups.empty() &&
      std::none_of(a.user.groups.begin(), a.user.groups.end(), [&](const std::string& g) { return Has(r.user_groups, g); })) {
    return false;
  }
  if (!r.verbs.empty() && !Has(r.verbs, a.verb)) return false;
  if (!r.namespaces.empty() || !r.resources.empty()) return MatchesResource(r, a);
  if (!r.non_resource_urls.empty()) {
    if (a.resource_request) return false;
    return std::any_of(r.non_resource_urls.begin(), r.non_resource_urls.end(),
                       [&](const std::string& spec) { return PathMatches(a.path, spec); });
  }
  return true;
}

}  // namespace

const char* StageName(Stage s) {
  switch (s) {
    case kRequestReceived: return "RequestReceived";
    case kResponseStarted: return "ResponseStarted";
    case kResponseComplete: return "ResponseComplete";
    case kPanic: return "Panic";
  }
  return "";
}

const char* LevelName(Level l) {
  switch (l) {
    case Level::kNone: return "None";
    case Level::kMetadata: return "Metadata";
    case Level::kRequest: return "Request";
    case Level::kRequestResponse: return "RequestResponse";
  }
  return "None";
}

Result<Policy> ParsePolicy(std::string_view text) {
  auto v = api::YamlToJson(text);
  if (!v.ok()) return Bad(v.status().message());
  if (!v->is_object()) return Bad("must be an object");
  const json::object& o = v->as_object();
  if (api::GetString(o, "apiVersion") != "audit.k8s.io/v1") return Bad("apiVersion must be audit.k8s.io/v1");
  if (api::GetString(o, "kind") != "Policy") return Bad("kind must be Policy");
  Policy p;
  auto stages = Stages(o, "policy");
  if (!stages.ok()) return stages.status();
  p.omit_stages = *stages;
  p.omit_managed_fields = api::GetBool(o, "omitManagedFields");
  const json::value* rules = o.if_contains("rules");
  if (!rules || !rules->is_array() || rules->as_array().empty()) return Bad("rules: Required value: at least one rule");
  for (size_t i = 0; i < rules->as_array().size(); ++i) {
    const json::value& rv = rules->as_array()[i];
    const std::string where = "rules[" + std::to_string(i) + "]";
    if (!rv.is_object()) return Bad(where + ": must be an object");
    auto r = ParseRule(rv.as_object(), where);
    if (!r.ok()) return r.status();
    p.rules.push_back(std::move(*r));
  }
  return p;
}

Result<Policy> LoadPolicy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kNotFound, "cannot read the audit policy " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto p = ParsePolicy(ss.str());
  if (!p.ok()) return p.status().Annotate(path);
  return p;
}

AuditDecision Evaluate(const Policy& p, const RequestAttributes& a) {
  for (const auto& r : p.rules) {
    if (Matches(r, a)) {
      return AuditDecision{r.level, p.omit_stages | r.omit_stages, r.omit_managed_fields.value_or(p.omit_managed_fields)};
    }
  }
  return AuditDecision{Level::kNone, p.omit_stages, p.omit_managed_fields};
}

}  // namespace kite::apiserver::audit
