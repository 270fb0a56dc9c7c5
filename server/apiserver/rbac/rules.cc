#include "server/apiserver/rbac/rules.h"

#include <boost/json.hpp>

#include <algorithm>

#include "api/object.h"

namespace kite::apiserver::rbac {
namespace json = boost::json;

namespace {

bool Has(const std::vector<std::string>& set, std::string_view v) {
  return std::find(set.begin(), set.end(), v) != set.end();
}

json::array Array(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

// A rule's resource entry against the request's resource ("pods", or "pods/log" with its
// subresource "log"): `*`, the exact combined name, or `*/log`.
bool ResourceMatches(const PolicyRule& r, const std::string& combined, const std::string& sub) {
  for (const auto& res : r.resources) {
    if (res == "*" || res == combined) return true;
    if (sub.empty()) continue;
    if (res.size() == sub.size() + 2 && res.starts_with("*/") && res.ends_with(sub)) return true;
  }
  return false;
}

bool UrlMatches(const std::string& rule_url, const std::string& path) {
  if (rule_url == "*" || rule_url == path) return true;
  return rule_url.ends_with('*') && path.starts_with(std::string_view(rule_url).substr(0, rule_url.size() - 1));
}

// Upstream's resourceCoversAll: `*`, exact names, or `*/sub` for a subresource.
bool ResourcesCover(const std::vector<std::string>& owner, const std::vector<std::string>& wanted) {
  if (Has(owner, "*")) return true;
  for (const auto& path : wanted) {
    if (Has(owner, path)) continue;
    auto slash = path.find('/');
    if (slash == std::string::npos) return false;
    if (!Has(owner, "*" + path.substr(slash))) return false;
  }
  return true;
}

bool AllIn(const std::vector<std::string>& owner, const std::vector<std::string>& wanted) {
  return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& w) { return Has(owner, w); });
}

bool RuleCovers(const PolicyRule& owner, const PolicyRule& piece) {
  const bool verbs = Has(owner.verbs, "*") || AllIn(owner.verbs, piece.verbs);
  const bool groups = Has(owner.api_groups, "*") || AllIn(owner.api_groups, piece.api_groups);
  const bool resources = ResourcesCover(owner.resources, piece.resources);
  bool urls = true;
  for (const auto& u : piece.non_resource_urls) {
    bool one = false;
    for (const auto& o : owner.non_resource_urls) {
      if (o == u || (o.ends_with('*') && u.starts_with(std::string_view(o).substr(0, o.size() - 1)))) one = true;
    }
    if (!one) urls = false;
  }
  // An owner limited to names covers only a piece limited to some of those names.
  const bool names = piece.resource_names.empty() ? owner.resource_names.empty()
                                                  : owner.resource_names.empty() || AllIn(owner.resource_names, piece.resource_names);
  return verbs && groups && resources && urls && names;
}

// Upstream's BreakdownRule: one verb × group × resource (× name) or verb × URL per piece.
void Breakdown(const PolicyRule& r, std::vector<PolicyRule>* out) {
  for (const auto& g : r.api_groups) {
    for (const auto& res : r.resources) {
      for (const auto& v : r.verbs) {
        if (r.resource_names.empty()) {
          out->push_back(PolicyRule{{v}, {g}, {res}, {}, {}});
        } else {
          for (const auto& n : r.resource_names) out->push_back(PolicyRule{{v}, {g}, {res}, {n}, {}});
        }
      }
    }
  }
  for (const auto& u : r.non_resource_urls) {
    for (const auto& v : r.verbs) out->push_back(PolicyRule{{v}, {}, {}, {}, {u}});
  }
}

// Go's %q of a []string: ["a" "b"].
std::string Quoted(const std::vector<std::string>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += ' ';
    out += '"';
    for (char c : v[i]) {
      if (c == '"' || c == '\\') out += '\\';
      out += c;
    }
    out += '"';
  }
  return out + "]";
}

}  // namespace

std::vector<PolicyRule> ParseRules(const json::value* rules) {
  std::vector<PolicyRule> out;
  if (!rules || !rules->is_array()) return out;
  for (const auto& v : rules->as_array()) {
    if (!v.is_object()) continue;
    const auto& o = v.as_object();
    out.push_back(PolicyRule{api::GetStrings(o, "verbs"), api::GetStrings(o, "apiGroups"), api::GetStrings(o, "resources"),
                             api::GetStrings(o, "resourceNames"), api::GetStrings(o, "nonResourceURLs")});
  }
  return out;
}

json::value RuleJson(const PolicyRule& r) {
  json::object o;
  o["verbs"] = Array(r.verbs);
  if (!r.api_groups.empty()) o["apiGroups"] = Array(r.api_groups);
  if (!r.resources.empty()) o["resources"] = Array(r.resources);
  if (!r.resource_names.empty()) o["resourceNames"] = Array(r.resource_names);
  if (!r.non_resource_urls.empty()) o["nonResourceURLs"] = Array(r.non_resource_urls);
  return o;
}

bool RuleAllows(const PolicyRule& r, const RequestAttributes& a) {
  if (!Has(r.verbs, "*") && !Has(r.verbs, a.verb)) return false;
  if (!a.resource_request) {
    return std::any_of(r.non_resource_urls.begin(), r.non_resource_urls.end(),
                       [&](const std::string& u) { return UrlMatches(u, a.path); });
  }
  if (!Has(r.api_groups, "*") && !Has(r.api_groups, a.api_group)) return false;
  const std::string combined = a.subresource.empty() ? a.resource : a.resource + "/" + a.subresource;
  if (!ResourceMatches(r, combined, a.subresource)) return false;
  return r.resource_names.empty() || Has(r.resource_names, a.name);
}

bool Covers(const std::vector<PolicyRule>& owner, const std::vector<PolicyRule>& requested,
            std::vector<PolicyRule>* missing) {
  std::vector<PolicyRule> pieces;
  for (const auto& r : requested) Breakdown(r, &pieces);
  bool all = true;
  for (const auto& p : pieces) {
    if (std::any_of(owner.begin(), owner.end(), [&](const PolicyRule& o) { return RuleCovers(o, p); })) continue;
    all = false;
    if (!missing) break;
    missing->push_back(p);
  }
  return all;
}

std::string CompactString(const PolicyRule& r) {
  std::vector<std::string> parts;
  if (!r.api_groups.empty()) parts.push_back("APIGroups:" + Quoted(r.api_groups));
  if (!r.resources.empty()) parts.push_back("Resources:" + Quoted(r.resources));
  if (!r.non_resource_urls.empty()) parts.push_back("NonResourceURLs:" + Quoted(r.non_resource_urls));
  if (!r.resource_names.empty()) parts.push_back("ResourceNames:" + Quoted(r.resource_names));
  if (!r.verbs.empty()) parts.push_back("Verbs:" + Quoted(r.verbs));
  std::string out = "{";
  for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + parts[i];
  return out + "}";
}

}  // namespace kite::apiserver::rbac
