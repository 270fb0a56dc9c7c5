// The add-ons kite-server deploys at start, as k3s deploys its packaged manifests: today the
// cluster DNS (kite-dns.yaml: ServiceAccount, RBAC, Deployment kite-dns and Service kube-dns at
// --cluster-dns, labelled k8s-app=kube-dns as upstream's). The manifests are compiled into the
// program (no files to lose on a node), their %{...}% placeholders filled from the options.
//
// Apply creates each object that is missing and leaves an existing one as it is (a user's edit
// of the Deployment survives a restart; deleting the object and restarting brings back ours).
// A disabled add-on (--disable=kite-dns, or coredns, k3s's name for it) is not created; objects
// it created before are left for the user to delete.
#pragma once

#include <string>
#include <vector>

#include "base/status.h"
#include "client/client.h"

namespace kite::addons {

struct AddonOptions {
  std::vector<std::string> disable;  // add-on names: kite-dns (alias coredns)
  std::string cluster_dns = "10.43.0.10";
  std::string cluster_domain = "cluster.local";
  std::string dns_image;             // the image reference packaging/images built
};

// The objects of every enabled add-on, placeholders filled. Fails on a manifest that does not
// parse (a build defect) or an unknown name in `disable`.
Result<std::vector<boost::json::object>> AddonObjects(const AddonOptions& o);

// Creates what is missing. Returns the first error other than AlreadyExists, after trying all.
Status ApplyAddons(const client::Client& client, const AddonOptions& o);

}  // namespace kite::addons
