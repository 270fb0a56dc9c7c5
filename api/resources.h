// The table of built-in API resources: group, version, kind, resource name, scope, verbs, short
// names, categories and subresources — what discovery serves, what routing resolves URLs
// against, and (later) what the per-kind schema, defaulting and validation hang off.
// Names and flags follow upstream's discovery documents for Kubernetes 1.32.
#pragma once

#include <boost/json/object.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace kite::api {

struct SubresourceInfo {
  std::string name;  // status, scale, log, exec, eviction, binding, ...
  std::string group, version, kind;  // responseKind; empty group/version = the parent's
  std::vector<std::string> verbs;
};

struct ResourceInfo {
  std::string group;  // "" for the core group
  std::string version;
  std::string kind;
  std::string resource;  // plural, lower case
  std::string singular;
  bool namespaced = true;
  std::vector<std::string> verbs;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
  std::vector<SubresourceInfo> subresources;
  // Custom resources (served from a CustomResourceDefinition): the CRD's spec.versions[] entry
  // for this version (schema.openAPIV3Schema, subresources, additionalPrinterColumns).
  bool custom = false;
  std::shared_ptr<const boost::json::object> crd_version;
  // Served by another API server through an APIService (server/apiserver/aggregator/): known
  // from that server's discovery document, every request for it proxied there, nothing stored.
  bool aggregated = false;
  // Answered by a handler another component of kite-server registers (ApiServer::Delegate),
  // nothing stored: metrics.k8s.io and core/v1 componentstatuses.
  bool delegated = false;
  // The warning upstream sends with every answer about this resource, when it is deprecated.
  std::string deprecation;

  std::string group_version() const { return group.empty() ? version : group + "/" + version; }
  const SubresourceInfo* Subresource(std::string_view name) const;
};

struct GroupInfo {
  std::string name;                   // "" for core
  std::vector<std::string> versions;  // preferred first
};

const std::vector<ResourceInfo>& BuiltinResources();
// Groups in discovery order (core first), each with its versions, preferred first.
const std::vector<GroupInfo>& BuiltinGroups();
const ResourceInfo* FindResource(std::string_view group, std::string_view version, std::string_view resource);

// A served set of resources: the built-ins plus custom resources. Immutable once built.
struct ResourceSet {
  std::vector<ResourceInfo> resources;
  std::vector<GroupInfo> groups;  // discovery order, preferred version first
  const ResourceInfo* Find(std::string_view group, std::string_view version, std::string_view resource) const;
  // Built-ins followed by `custom` (groups appended in the order given). Built-ins for which
  // `omit` says true are left out (a group left empty with them), so a custom or aggregated
  // resource may take their place.
  static std::shared_ptr<const ResourceSet> With(std::vector<ResourceInfo> custom,
                                                 const std::function<bool(const ResourceInfo&)>& omit = nullptr);
};

}  // namespace kite::api
