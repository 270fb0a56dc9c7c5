// A client of the etcd endpoint's TLS, as etcdctl is one: a Range over a fresh gRPC channel that
// trusts `server_ca_pem` and presents `client` (no certificate when its cert_pem is empty). Used by
// etcd_tls_test.cc and, built for armhf, by time64_test.cc.
#pragma once

#include <grpc/support/time.h>
#include <grpcpp/grpcpp.h>

#include <string>

#include "base/pki.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"

namespace kite::testing {

inline grpc::Status EtcdTlsRange(int port, const std::string& server_ca_pem, const pki::KeyPair& client) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = server_ca_pem;
  ssl.pem_private_key = client.key_pem;
  ssl.pem_cert_chain = client.cert_pem;
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::SslCredentials(ssl));
  auto kv = etcdserverpb::KV::NewStub(channel);
  etcdserverpb::RangeRequest req;
  req.set_key("a");
  etcdserverpb::RangeResponse resp;
  grpc::ClientContext ctx;
  // A relative deadline: gRPC adds it to its monotonic clock (Debian 12 armhf's gRPC reads the
  // wall clock with a 32-bit time_t).
  ctx.set_deadline(gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(10, GPR_TIMESPAN)));
  return kv->Range(&ctx, req, &resp);
}

}  // namespace kite::testing
