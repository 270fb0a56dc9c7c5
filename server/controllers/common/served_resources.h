// The resources that controllers sweeping across every kind work on (the garbage collector's
// monitors, the namespace controller's content deletion): built-in resources that can be
// listed, watched and deleted, once per group/resource in the group's preferred version, plus
// the custom resources CustomResourceDefinitions serve. What an owner reference names
// (apiVersion + kind) is resolved here too.
//
// Thread-safety: the functions are pure; KindResolver is safe to use from many threads.
#pragma once

#include <boost/json/object.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/resources.h"

namespace kite::controllers {

// Built-in resources with the verbs list, watch and delete, preferred version only. Events are
// left out when `skip_events` (the garbage collector ignores them, as upstream does).
std::vector<const api::ResourceInfo*> SweepableBuiltins(bool skip_events);

// The resource a CustomResourceDefinition serves, in its storage version, if the CRD is
// Established and not being deleted; nullopt otherwise.
std::optional<api::ResourceInfo> CustomResourceOf(const boost::json::object& crd);

// "apps/v1" + "ReplicaSet" → the resource. The version need not match (an owner reference may
// name another version of the same group); built-ins first, then custom resources added.
class KindResolver {
 public:
  const api::ResourceInfo* Find(const std::string& api_version, const std::string& kind);
  // Stable pointer to the stored copy (kept for the resolver's lifetime).
  const api::ResourceInfo* Add(const api::ResourceInfo& custom);

 private:
  std::mutex mu_;  // guards custom_
  std::map<std::string, std::unique_ptr<api::ResourceInfo>> custom_;  // "group/Kind"
};

}  // namespace kite::controllers
