// The Endpoints controller (upstream's "endpoint"): for each Service with a selector, the
// Endpoints object of the same name lists the matching pods — ready ones under addresses,
// others under notReadyAddresses (all under addresses with publishNotReadyAddresses) — each with
// its IP, nodeName and a targetRef to the pod, and the ports the Service's targetPorts resolve to
// on that pod (named ports looked up in its containers). Pods with the same ports share a
// subset. A Service without a selector is left alone (its Endpoints are the user's); the
// Endpoints of a deleted Service are deleted.
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

std::unique_ptr<client::Controller> NewEndpointsController(const client::Client* client,
                                                           const Clock* clock = Clock::Real());

namespace endpoints {

// subsets for `svc` from the pods its selector matched (already filtered by selector), in a
// stable order: subsets by their ports, addresses by IP.
boost::json::array Subsets(const boost::json::object& svc, const std::vector<client::ObjectPtr>& pods);

}  // namespace endpoints
}  // namespace kite::controllers
