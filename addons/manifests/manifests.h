// The add-ons kite-server ships, as k3s ships its packaged manifests: the cluster DNS
// (kite-dns.yaml: ServiceAccount, RBAC, Deployment kite-dns and Service kube-dns at
// --cluster-dns, labelled k8s-app=kube-dns as upstream's), the Ingress controller
// (kite-ingress.yaml: IngressClass traefik, the default, as k3s's; Deployment and LoadBalancer
// Service kite-ingress in kube-system) and the RuntimeClasses of the runtimes
// nodes offer (runtimes.yaml: crun and runc; k3s's runtimes.yaml has its own list). The
// manifests are compiled into the program (no files to lose on a node), their %{...}%
// placeholders filled from the options; at start kite-server writes each enabled one into
// <data-dir>/server/manifests/, from where the deployer (deployer.h) applies it like any
// manifest a user drops there.
//
// A disabled add-on (--disable=kite-dns, or coredns, k3s's name for it; --disable=kite-ingress,
// or traefik, k3s's name for its Ingress controller; --disable=runtimes, as k3s's) is not written, and its file is removed; objects it created before are left for the
// user to delete.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "base/status.h"

namespace kite::addons {

struct AddonOptions {
  std::vector<std::string> disable;  // add-on names: kite-dns (alias coredns), kite-ingress (alias traefik), runtimes
  std::string cluster_dns = "10.43.0.10";
  std::string cluster_domain = "cluster.local";
  std::string dns_image;             // the image references packaging/images built
  std::string ingress_image;
};

struct PackagedManifest {
  std::string name;     // the file's name without .yaml: "kite-dns"
  std::string text;     // placeholders filled
  bool enabled = true;  // false: named in --disable
};

// Whether `name` names a packaged add-on for --disable: kite-dns, coredns (its k3s name),
// kite-ingress, traefik (its k3s name), runtimes. (kite-server's other --disable names are parts of its own process: main.cc.)
bool IsPackagedAddon(std::string_view name);

// Every packaged add-on, enabled or not. Fails on an unknown name in `disable`.
Result<std::vector<PackagedManifest>> PackagedManifests(const AddonOptions& o);

// The objects of a multi-document YAML (or JSON) manifest; documents of comments only are
// skipped, a List's items are flattened. Fails on a document that does not parse.
Result<std::vector<boost::json::object>> ParseManifest(std::string_view text);

}  // namespace kite::addons
