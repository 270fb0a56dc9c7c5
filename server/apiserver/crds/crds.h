// CustomResourceDefinitions: the served resource set (built-ins plus every established CRD's
// served versions), rebuilt from the datastore whenever a CRD is written through this server,
// and the rules for CRD objects themselves (names, versions, the status a CRD gets once its
// names are accepted).
//
// Custom resources are stored under /registry/<group>/<plural>/..., validated and pruned
// against their version's openAPIV3Schema (api/json_schema.h), printed with their
// additionalPrinterColumns, and get status/scale subresources when the CRD asks for them.
// Several kite-servers sharing one datastore would each need to watch CRDs; one server is what
// runs today (see the issue note).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/json.hpp>

#include <memory>
#include <mutex>
#include <set>
#include <optional>
#include <string_view>
#include <vector>

#include "api/resources.h"
#include "datastore/store.h"
#include "server/apiserver/status.h"

namespace kite::apiserver {

class CustomResources {
 public:
  explicit CustomResources(datastore::Store* store) : store_(store), set_(api::ResourceSet::With({})) {}

  // Re-reads every CRD; on a store error the previous set stays.
  void Reload();
  // After a request that wrote a CRD (`verb`; `written` false when it failed: nothing to do):
  // serves the new set; after a delete, a custom resource no longer served takes its stored
  // objects with it.
  boost::asio::awaitable<void> Written(std::string_view verb, bool written);
  std::shared_ptr<const api::ResourceSet> Snapshot() const {
    std::lock_guard<std::mutex> lock(mu_);
    return set_;
  }
  // The resources other API servers serve through APIServices (aggregator/aggregator.h), served
  // after the built-ins and custom resources from now on (each marked `aggregated`).
  void SetAggregated(std::vector<api::ResourceInfo> aggregated);
  // The delegated built-ins this process answers (ApiServerOptions::delegates): the others are
  // not served (not in discovery, 404), so an extension server may take their group. Before
  // Reload.
  void SetDelegates(std::set<std::string> delegates);

 private:
  void Publish();  // set_ from custom_ and aggregated_; called with mu_ held
  datastore::Store* store_;
  mutable std::mutex mu_;
  std::vector<api::ResourceInfo> custom_;      // guarded by mu_
  std::vector<api::ResourceInfo> aggregated_;  // guarded by mu_
  std::set<std::string> delegates_;            // guarded by mu_
  std::shared_ptr<const api::ResourceSet> set_;
};

// Validation and defaulting for a CRD being created or updated: metadata.name must be
// <plural>.<group>, names and versions must be sensible (422 otherwise); sets
// status.acceptedNames, storedVersions and the NamesAccepted/Established conditions.
std::optional<Status> PrepareCrd(boost::json::object& crd, const api::ResourceSet& served);

// Resource entries for one CRD object (one per served version).
std::vector<api::ResourceInfo> CustomResourceInfos(const boost::json::object& crd);

}  // namespace kite::apiserver
