// The EndpointSlice controller (upstream's "endpointslice"): for each Service with a selector,
// discovery.k8s.io/v1 EndpointSlices (addressType IPv4) listing the matching pods, at most 100
// endpoints per slice, one port list per slice. Each endpoint carries the pod IP, conditions
// ready (ready and not terminating, or publishNotReadyAddresses), serving (ready) and
// terminating (being deleted), nodeName and a targetRef. Slices are named generateName
// "<service>-", labelled kubernetes.io/service-name=<service> and
// endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io, and owned by the
// Service (the garbage collector removes them with it). A Service with nothing to offer keeps
// one empty slice, as upstream's placeholder.
#pragma once

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <memory>
#include <vector>

#include "base/clock.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/informer.h"

namespace kite::controllers {

std::unique_ptr<client::Controller> NewEndpointSliceController(const client::Client* client,
                                                               const Clock* clock = Clock::Real());

namespace endpointslice {

inline constexpr int kMaxEndpointsPerSlice = 100;
inline constexpr const char kManagedBy[] = "endpointslice-controller.k8s.io";

// The wanted slices' contents for `svc` given the pods its selector matched: each element is
// {"ports": [...], "endpoints": [...]} with at most kMaxEndpointsPerSlice endpoints, endpoints
// sorted by address. Always at least one element (the placeholder: no ports, no endpoints).
std::vector<boost::json::object> DesiredSlices(const boost::json::object& svc,
                                               const std::vector<client::ObjectPtr>& pods);

}  // namespace endpointslice
}  // namespace kite::controllers
