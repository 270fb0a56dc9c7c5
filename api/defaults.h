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

// Upstream's DefaultTolerationSeconds admission (pods on create only): a pod that does not
// already tolerate node.kubernetes.io/not-ready or node.kubernetes.io/unreachable with effect
// NoExecute gets a toleration for each with tolerationSeconds 300, so it is evicted five
// minutes after its node fails rather than at once.
void AddDefaultTolerationSeconds(boost::json::object& pod_spec);

}  // namespace kite::api
