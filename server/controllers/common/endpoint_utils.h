// What the Endpoints and EndpointSlice controllers share (upstream's controller/util/endpoint):
// which pods back a Service, and the port number a Service port's targetPort names on a pod.
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>

#include "client/informer.h"
#include "client/workqueue.h"

namespace kite::controllers {

// A pod is an endpoint when it has an IP, is not finished (Succeeded/Failed) and — unless
// `include_terminating` — is not being deleted.
bool ShouldPodBeInEndpoints(const boost::json::object& pod, bool include_terminating);

// The container port a Service port (spec.ports[i]) reaches on `pod`: targetPort as a number,
// or the pod's container port of that name and protocol. nullopt when the pod has no such port.
std::optional<int64_t> FindPort(const boost::json::object& pod, const boost::json::object& service_port);

// The Service's pod selector (spec.selector, a label map); nullopt for a Service without one.
std::optional<std::string> ServiceSelector(const boost::json::object& svc);

// spec.clusterIP "None": a headless Service (label service.kubernetes.io/headless on what is
// made for it).
bool IsHeadless(const boost::json::object& svc);

// Pod informer handlers that enqueue every Service of `services` (its informer) whose selector
// matches the pod, before and after a change of its labels: the Services whose endpoints a
// pod's add, update or delete may change.
client::EventHandler EnqueueServicesOfPods(const client::Informer* services, client::WorkQueue* queue);

}  // namespace kite::controllers
