// The objects every cluster starts with, written straight to the datastore when the API server
// starts (upstream's bootstrap controller and post-start hooks): each is created once and kept if
// it exists, so a restart changes nothing an administrator edited.
#pragma once

#include <string>

#include "base/status.h"
#include "datastore/store.h"

namespace kite::apiserver {

// default, kube-system, kube-public, kube-node-lease.
Status EnsureSystemNamespaces(datastore::Store* store);

// system-node-critical and system-cluster-critical, so that add-ons naming them are admitted.
Status EnsureSystemPriorityClasses(datastore::Store* store);

// The `kubernetes` Service (`service_ip`:443, the first address of --service-cidr: 10.43.0.1)
// and its Endpoints (`ip`:`port`, this server), which in-cluster clients and `kubectl
// cluster-info` look for. The endpoint port follows the serving port. A Service made at an
// earlier start keeps its address (upstream does not move it either).
Status EnsureKubernetesService(datastore::Store* store, const std::string& service_ip, const std::string& ip, int port);

}  // namespace kite::apiserver
