// Per-kind defaulting, as upstream's SetDefaults_* functions do on create and update: the
// values a user sees in `kubectl get -o yaml` for fields they did not set (container
// `imagePullPolicy`, `terminationMessagePath`, port `protocol: TCP`, pod `restartPolicy`,
// `dnsPolicy`, `schedulerName`, Deployment `strategy` and `revisionHistoryLimit`, Service
// `sessionAffinity` and `targetPort`, Secret `type`, ...). Allocation (Service cluster IPs and
// node ports) is not defaulting and lives in the API server.
#pragma once

#include <boost/json/object.hpp>

#include "api/resources.h"

namespace kite::api {

// Fills in defaults for an object of resource `r` (group/version/kind from r). Never removes or
// changes a value the object already has.
void ApplyDefaults(const ResourceInfo& r, boost::json::object& obj);

// Pod template / pod spec defaults, shared by every workload kind.
void DefaultPodSpec(boost::json::object& spec);

}  // namespace kite::api
