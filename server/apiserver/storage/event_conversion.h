// core/v1 and events.k8s.io/v1 Events are one resource, stored under /registry/events/, each
// object in the version it was written through. Reading it through the other API converts the
// fields, as upstream's conversion through its internal Event type does:
//   core/v1             events.k8s.io/v1
//   involvedObject  <-> regarding
//   message         <-> note
//   reportingComponent <-> reportingController
//   source          <-> deprecatedSource
//   firstTimestamp  <-> deprecatedFirstTimestamp
//   lastTimestamp   <-> deprecatedLastTimestamp
//   count           <-> deprecatedCount
// and reason, type, action, related, reportingInstance, eventTime, series as they are.
// Get, List and watches (watch_transform.h) all convert with ConvertEventTo.
#pragma once

#include <boost/json/object.hpp>

#include "api/resources.h"

namespace kite::apiserver {

// Whether r is one of the two Event resources.
bool IsEventResource(const api::ResourceInfo& r);

// Converts a stored Event `obj` (of either version) to r's version in place; other objects and
// objects already in r's version are left as they are.
void ConvertEventTo(const api::ResourceInfo& r, boost::json::object& obj);

}  // namespace kite::apiserver
