// The grpc probe action: grpc.health.v1.Health/Check over plaintext HTTP/2, as upstream's
// prober does. The two messages are tiny (HealthCheckRequest{string service = 1},
// HealthCheckResponse{ServingStatus status = 1}), so they are encoded by hand over a generic
// stub instead of generating code from health.proto for one call.
#include <grpc/support/time.h>
#include <grpcpp/create_channel.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/byte_buffer.h>

#include <boost/json.hpp>

#include <condition_variable>
#include <mutex>

#include "agent/kubelet/probe_handlers.h"
#include "api/object.h"

namespace kite::kubelet {

namespace {

void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// HealthCheckResponse.status (field 1, varint); -1 when absent or malformed. Unknown fields skipped.
int64_t ServingStatus(const std::string& b) {
  size_t i = 0;
  auto varint = [&](uint64_t* v) {
    *v = 0;
    for (int shift = 0; i < b.size() && shift < 64; shift += 7) {
      const auto byte = static_cast<uint8_t>(b[i++]);
      *v |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) return true;
    }
    return false;
  };
  while (i < b.size()) {
    uint64_t tag = 0, v = 0;
    if (!varint(&tag)) return -1;
    switch (tag & 7) {
      case 0:
        if (!varint(&v)) return -1;
        if ((tag >> 3) == 1) return static_cast<int64_t>(v);
        break;
      case 2:
        if (!varint(&v) || v > b.size() - i) return -1;
        i += static_cast<size_t>(v);
        break;
      case 1: i += 8; break;
      case 5: i += 4; break;
      default: return -1;
    }
  }
  return 0;  // proto3: an absent enum is 0 (UNKNOWN)
}

const char* StatusName(int64_t s) {
  switch (s) {
    case 0: return "UNKNOWN";
    case 1: return "SERVING";
    case 2: return "NOT_SERVING";
    case 3: return "SERVICE_UNKNOWN";
    default: return "UNRECOGNIZED";
  }
}

}  // namespace

ProbeResult GrpcHealthCheck(const boost::json::object& action, const HandlerTarget& t, std::chrono::milliseconds timeout) {
  const std::string host = t.pod_ip;
  const int64_t port = api::GetInt(action, "port");
  const bool v6 = host.find(':') != std::string::npos;
  const std::string target = (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
  const std::string service = api::GetString(action, "service");
  std::string req;
  if (!service.empty()) {
    req.push_back(0x0a);  // field 1, length-delimited
    PutVarint(req, service.size());
    req += service;
  }
  auto channel = grpc::CreateChannel(target, grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext ctx;
  // A relative deadline (GPR_TIMESPAN) on gRPC's monotonic clock, not a system_clock time compared
  // with gRPC's wall clock, which Debian 12's armhf build reads with a 32-bit time_t.
  ctx.set_deadline(gpr_time_from_millis(timeout.count(), GPR_TIMESPAN));
  ctx.set_wait_for_ready(true);  // a refused connection is retried until the deadline, as upstream's dial
  grpc::Slice slice(req);
  grpc::ByteBuffer send(&slice, 1), recv;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  grpc::Status status;
  stub.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &send, &recv, [&](grpc::Status s) {
    std::lock_guard<std::mutex> lock(mu);
    status = std::move(s);
    done = true;
    cv.notify_all();
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return done; });
  }
  const std::string secs = std::to_string((timeout.count() + 999) / 1000);
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return ProbeResult{ProbeOutcome::kFailure,
                       "timeout: failed to connect service \"" + target + "\" within " + secs + "s: context deadline exceeded"};
  }
  if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED) {
    return ProbeResult{ProbeOutcome::kFailure,
                       "error: this server does not implement the grpc health protocol (grpc.health.v1.Health): " +
                           status.error_message()};
  }
  if (!status.ok()) {
    return ProbeResult{ProbeOutcome::kFailure, "error: health rpc probe failed: " + status.error_message()};
  }
  std::vector<grpc::Slice> slices;
  std::string body;
  if (recv.Dump(&slices).ok()) {
    for (const auto& s : slices) body.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  const int64_t serving = ServingStatus(body);
  if (serving == 1) return ProbeResult{ProbeOutcome::kSuccess, ""};
  return ProbeResult{ProbeOutcome::kFailure,
                     std::string("service unhealthy (responded with \"") + StatusName(serving) + "\")"};
}

}  // namespace kite::kubelet
