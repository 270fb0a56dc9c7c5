// The built-in kinds' strategies (one definition each, in the file named), for StrategyFor's
// table in strategy.cc. Not for other callers: use StrategyFor.
#pragma once

#include <initializer_list>

#include "server/apiserver/strategy/strategy.h"

namespace kite::apiserver::strategies {

const Strategy& Pod();                    // pod.cc
const Strategy& Namespace();              // namespace.cc
const Strategy& Service();                // service.cc
const Strategy& Secret();                 // secret.cc
const Strategy& ConfigMap();              // configmap.cc
const Strategy& CoreEvent();              // event.cc: core/v1 Events
const Strategy& Event();                  // event.cc: events.k8s.io/v1 Events
const Strategy& Node();                   // core.cc
const Strategy& PersistentVolumeClaim();  // core.cc
const Strategy& PodTemplate();            // core.cc
const Strategy& ReplicationController();  // core.cc
const Strategy& Deployment();             // apps.cc
const Strategy& ReplicaSet();             // apps.cc
const Strategy& StatefulSet();            // apps.cc
const Strategy& DaemonSet();              // apps.cc
const Strategy& Job();                    // batch.cc
const Strategy& CronJob();                // batch.cc
const Strategy& Lease();                  // others.cc
const Strategy& HorizontalPodAutoscaler();  // others.cc
const Strategy& PodDisruptionBudget();    // others.cc
const Strategy& RuntimeClass();           // others.cc
const Strategy& CustomResourceDefinition();  // others.cc
const Strategy& CertificateSigningRequest();  // certificates.cc
const Strategy& MutatingWebhookConfiguration();    // webhooks.cc
const Strategy& ValidatingWebhookConfiguration();  // webhooks.cc
const Strategy& ApiService();                      // apiservices.cc

// A status object with these members at 0 (the counters upstream's status types never omit).
boost::json::object ZeroCounters(std::initializer_list<const char*> names);

}  // namespace kite::apiserver::strategies
