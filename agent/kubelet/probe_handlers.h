// The actions of probes and lifecycle hooks (core/v1 ProbeHandler / LifecycleHandler): exec in
// the container (CRI ExecSync), httpGet (HTTP or HTTPS without certificate verification, as
// upstream's prober; 200–399 is success), tcpSocket (a connect), grpc (grpc.health.v1
// Health/Check on the pod IP, SERVING is success: probe_grpc.cc). Messages are upstream's shapes, as they end up in
// `Unhealthy` Events ("HTTP probe failed with statuscode: 500", "dial tcp 10.42.0.5:80:
// connect: connection refused").
//
// Blocking: each call waits at most `timeout` (the probe's timeoutSeconds; a hook's remaining
// grace period). Thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <string>

#include "agent/cri/runtime.h"

namespace kite::kubelet {

enum class ProbeOutcome { kSuccess, kFailure };

struct ProbeResult {
  ProbeOutcome outcome = ProbeOutcome::kFailure;
  std::string output;  // the failure's message (an exec probe's output)
};

struct HandlerTarget {
  cri::RuntimeService* runtime = nullptr;
  std::string container_id;
  std::string pod_ip;                         // httpGet/tcpSocket's default host
  const boost::json::object* container = nullptr;  // the spec container (named ports)
};

// The grpc action alone (probe_grpc.cc).
ProbeResult GrpcHealthCheck(const boost::json::object& action, const HandlerTarget& target,
                            std::chrono::milliseconds timeout);
// Runs `handler` (an object with one of exec, httpGet, tcpSocket, grpc).
ProbeResult RunHandler(const boost::json::object& handler, const HandlerTarget& target, std::chrono::milliseconds timeout);

}  // namespace kite::kubelet
