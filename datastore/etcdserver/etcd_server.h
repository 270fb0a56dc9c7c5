// The etcd v3 gRPC endpoint in front of a Store: KV, Watch, Lease, Maintenance and Cluster,
// wire-compatible with etcd so etcdctl and etcd client libraries work unchanged.
//
// Uses gRPC's callback API: no thread per stream or per watch. Requests larger than
// kMaxRequestBytes get etcd's "request is too large"; the gRPC receive limit is that plus 512 KiB
// as in etcd. Errors are etcd's statuses (datastore/errors.h), byte-exact.
#pragma once

#include <memory>
#include <string>

#include "base/clock.h"
#include "base/status.h"
#include "datastore/store.h"

namespace kite::datastore {

struct EtcdServerOptions {
  std::string listen = "127.0.0.1:2379";  // host:port; port 0 picks a free one
  std::string name = "default";           // member name shown by `etcdctl member list`
  // Interval of progress notifications to watches created with progress_notify (etcd: 10 min).
  int64_t progress_notify_interval_ms = 600'000;
  // TLS (all three set): the endpoint serves this certificate and requires a client certificate
  // signed by `client_ca_pem`, meant for a client (extendedKeyUsage clientAuth) and valid by
  // `clock` (gRPC's TLS, 1.2 minimum; the certificate checked by kite: base/tls_verify.h).
  // Empty: plaintext, for the loopback.
  std::string cert_pem, key_pem, client_ca_pem;
  // Judges client certificates' notBefore/notAfter; must outlive the server.
  const Clock* clock = Clock::Real();
};

class EtcdServer {
 public:
  virtual ~EtcdServer() = default;
  // Starts serving `store` (not owned; must outlive the server).
  static Result<std::unique_ptr<EtcdServer>> Start(Store* store, const EtcdServerOptions& options);
  virtual int port() const = 0;
  // Ends every stream and stops accepting; returns when no handler runs any more.
  virtual void Shutdown() = 0;
};

}  // namespace kite::datastore
