#include "server/apiserver/discovery/discovery.h"

#include <boost/json.hpp>

#include "api/resources.h"
#include "server/apiserver/handlers/routes.h"

namespace kite::apiserver {
namespace json = boost::json;

namespace {

json::array Strings(const std::vector<std::string>& v) {
  json::array a;
  for (const auto& s : v) a.emplace_back(s);
  return a;
}

json::object Kind(const std::string& group, const std::string& version, const std::string& kind) {
  return json::object{{"group", group}, {"version", version}, {"kind", kind}};
}

json::object GroupVersion(const std::string& group, const std::string& version) {
  std::string gv = group.empty() ? version : group + "/" + version;
  return json::object{{"groupVersion", gv}, {"version", version}};
}

json::object AggregatedResource(const api::ResourceInfo& r) {
  json::object o;
  o["resource"] = r.resource;
  o["responseKind"] = Kind("", "", r.kind);  // empty group/version: the parent's
  o["scope"] = r.namespaced ? "Namespaced" : "Cluster";
  o["singularResource"] = r.singular;
  o["verbs"] = Strings(r.verbs);
  if (!r.short_names.empty()) o["shortNames"] = Strings(r.short_names);
  if (!r.categories.empty()) o["categories"] = Strings(r.categories);
  if (!r.subresources.empty()) {
    json::array subs;
    for (const auto& s : r.subresources) {
      if (!SubresourceServed(r, s.name)) continue;
      subs.push_back(json::object{{"subresource", s.name},
                                  {"responseKind", Kind(s.group, s.version, s.kind)},
                                  {"verbs", Strings(s.verbs)}});
    }
    if (!subs.empty()) o["subresources"] = std::move(subs);
  }
  return o;
}

}  // namespace

DiscoveryFormat NegotiateDiscovery(const std::string& accept) {
  // Media-type parameters may come in any order; look for the profile of each version.
  size_t pos = 0;
  bool v2 = false, v2beta1 = false;
  while (pos <= accept.size()) {
    size_t comma = accept.find(',', pos);
    std::string part = accept.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (part.find("g=apidiscovery.k8s.io") != std::string::npos && part.find("as=APIGroupDiscoveryList") != std::string::npos) {
      if (part.find("v=v2beta1") != std::string::npos) v2beta1 = true;
      else if (part.find("v=v2") != std::string::npos) v2 = true;
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  if (v2) return DiscoveryFormat::kAggregatedV2;
  if (v2beta1) return DiscoveryFormat::kAggregatedV2Beta1;
  return DiscoveryFormat::kLegacy;
}

std::string DiscoveryContentType(DiscoveryFormat f) {
  switch (f) {
    case DiscoveryFormat::kAggregatedV2: return "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList";
    case DiscoveryFormat::kAggregatedV2Beta1:
      return "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList";
    default: return "application/json";
  }
}

std::string AggregatedDiscovery(const api::ResourceSet& set, bool core, DiscoveryFormat f) {
  json::array items;
  for (const auto& g : set.groups) {
    if (core != g.name.empty()) continue;
    json::array versions;
    for (const auto& v : g.versions) {
      json::array resources;
      for (const auto& r : set.resources) {
        if (r.group == g.name && r.version == v) resources.push_back(AggregatedResource(r));
      }
      versions.push_back(json::object{{"version", v}, {"resources", std::move(resources)}, {"freshness", "Current"}});
    }
    items.push_back(json::object{{"metadata", json::object{{"name", g.name}, {"creationTimestamp", nullptr}}},
                                 {"versions", std::move(versions)}});
  }
  json::object doc;
  doc["kind"] = "APIGroupDiscoveryList";
  doc["apiVersion"] = f == DiscoveryFormat::kAggregatedV2Beta1 ? "apidiscovery.k8s.io/v2beta1" : "apidiscovery.k8s.io/v2";
  doc["metadata"] = json::object();
  doc["items"] = std::move(items);
  return json::serialize(doc);
}

std::string LegacyApiVersions(const std::string& server_address) {
  json::object doc{{"kind", "APIVersions"},
                   {"versions", json::array{"v1"}},
                   {"serverAddressByClientCIDRs",
                    json::array{json::object{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
  return json::serialize(doc);
}

namespace {

json::object GroupObject(const api::GroupInfo& g) {
  json::array versions;
  for (const auto& v : g.versions) versions.push_back(GroupVersion(g.name, v));
  return json::object{{"name", g.name}, {"versions", versions}, {"preferredVersion", GroupVersion(g.name, g.versions.front())}};
}

}  // namespace

std::string LegacyApiGroupList(const api::ResourceSet& set) {
  json::array groups;
  for (const auto& g : set.groups) {
    if (!g.name.empty()) groups.push_back(GroupObject(g));
  }
  return json::serialize(json::object{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", std::move(groups)}});
}

std::optional<std::string> LegacyApiGroup(const api::ResourceSet& set, const std::string& group) {
  for (const auto& g : set.groups) {
    if (!g.name.empty() && g.name == group) {
      json::object o = GroupObject(g);
      o["kind"] = "APIGroup";
      o["apiVersion"] = "v1";
      return json::serialize(o);
    }
  }
  return std::nullopt;
}

std::optional<std::string> LegacyApiResourceList(const api::ResourceSet& set, const std::string& group,
                                                 const std::string& version) {
  json::array resources;
  bool found = false;
  for (const auto& r : set.resources) {
    if (r.group != group || r.version != version) continue;
    found = true;
    json::object o{{"name", r.resource}, {"singularName", r.singular}, {"namespaced", r.namespaced},
                   {"kind", r.kind}, {"verbs", Strings(r.verbs)}};
    if (!r.short_names.empty()) o["shortNames"] = Strings(r.short_names);
    if (!r.categories.empty()) o["categories"] = Strings(r.categories);
    resources.push_back(std::move(o));
    for (const auto& s : r.subresources) {
      if (!SubresourceServed(r, s.name)) continue;
      json::object so{{"name", r.resource + "/" + s.name}, {"singularName", ""}, {"namespaced", r.namespaced},
                      {"kind", s.kind}, {"verbs", Strings(s.verbs)}};
      if (!s.group.empty() || !s.version.empty()) {
        so["group"] = s.group;
        so["version"] = s.version;
      }
      resources.push_back(std::move(so));
    }
  }
  if (!found) return std::nullopt;
  std::string gv = group.empty() ? version : group + "/" + version;
  return json::serialize(json::object{{"kind", "APIResourceList"}, {"apiVersion", "v1"}, {"groupVersion", gv},
                                      {"resources", std::move(resources)}});
}

std::optional<RawResponse> ServeDiscovery(const HttpsRequest& req, const api::ResourceSet& set) {
  const std::string& p = req.path;
  if (p == "/api" || p == "/apis" || p == "/api/" || p == "/apis/") {
    bool core = p.rfind("/api", 0) == 0 && p.rfind("/apis", 0) != 0;
    auto f = NegotiateDiscovery(req.Header("accept"));
    if (f != DiscoveryFormat::kLegacy) return RawResponse{200, DiscoveryContentType(f), AggregatedDiscovery(set, core, f), {}};
    std::string host = req.Header("host");
    return RawResponse{200, "application/json", core ? LegacyApiVersions(host) : LegacyApiGroupList(set), {}};
  }
  std::vector<std::string> parts;
  for (size_t i = 1; i <= p.size();) {
    size_t j = p.find('/', i);
    if (j == std::string::npos) j = p.size();
    if (j > i) parts.push_back(p.substr(i, j - i));
    i = j + 1;
  }
  std::optional<std::string> doc;
  if (parts.size() == 2 && parts[0] == "api") doc = LegacyApiResourceList(set, "", parts[1]);
  else if (parts.size() == 2 && parts[0] == "apis") doc = LegacyApiGroup(set, parts[1]);
  else if (parts.size() == 3 && parts[0] == "apis") doc = LegacyApiResourceList(set, parts[1], parts[2]);
  if (!doc) return std::nullopt;
  return RawResponse{200, "application/json", std::move(*doc), {}};
}

}  // namespace kite::apiserver
