// EtcdServer::Start: wires the Dispatcher, the services, gRPC's health service and the TaskRunners
// (one for completions and the progress tick, a pool for watch pumps) into one grpc::Server, and
// tears them down in the order that lets every handler finish.
#include "datastore/etcdserver/etcd_server.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <memory>
#include <random>
#include <thread>

#include <grpc/support/time.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include "base/log.h"
#include "base/tls_verify.h"
#include "datastore/etcdserver/dispatch.h"
#include "datastore/etcdserver/kv_service.h"
#include "datastore/etcdserver/lease_service.h"
#include "datastore/etcdserver/maintenance_service.h"
#include "datastore/etcdserver/task_runner.h"
#include "datastore/etcdserver/watch_service.h"

namespace kite::datastore {
namespace {

using etcdserver::Dispatcher;
using etcdserver::TaskRunner;

// etcd: the gRPC receive limit is --max-request-bytes plus this much for gRPC's own framing;
// requests between the two limits get etcd's "request is too large" from the Dispatcher.
constexpr int kGrpcOverheadBytes = 512 * 1024;
// etcd's floor for the progress notification interval (v3rpc/watch.go).
constexpr int64_t kMinProgressIntervalMs = 100;

// Threads pumping watch streams: one per core beyond the first, at most four. A pump only
// pulls events and hands writes to gRPC (whose own threads carry on the burst), and it competes
// with the store's writer thread, which acknowledges the writes: on a 2-core machine a second pump
// thread made puts and total delivery slower (bench/RESULTS.md, 2026-11-23 watch section).
size_t PumpThreads() {
  const size_t cores = std::thread::hardware_concurrency();
  return std::clamp<size_t>(cores > 1 ? cores - 1 : 1, 1, 4);
}

// Client certificates judged by kite (base/tls_verify.h), not by the OpenSSL context gRPC builds
// for itself, whose validity check reads OpenSSL's time(): 32-bit on Debian 12 armhf, which would
// refuse every client from 2038 on. gRPC asks for a certificate without verifying it
// (GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY) and calls this after the
// handshake; a refusal closes the connection before any call is served.
class EtcdClientCertificateVerifier final : public grpc::experimental::ExternalCertificateVerifier {
 public:
  explicit EtcdClientCertificateVerifier(PeerChainVerifier verifier) : verifier_(std::move(verifier)) {}

  bool Verify(grpc::experimental::TlsCustomVerificationCheckRequest* request, std::function<void(grpc::Status)>,
              grpc::Status* sync_status) override {
    // The client's certificate is peer_cert. peer_cert_full_chain is the rest of what the client
    // sent (on a server OpenSSL's peer chain leaves out the peer's own certificate), often the CA
    // itself: an OpenSSL client whose trust store holds the issuer sends it along. Taking the
    // chain's first certificate for the client's verified the CA against itself and served any
    // client: the earlier try (docs/architecture/packaging.md, "Times past 2038").
    const grpc::string_ref leaf = request->peer_cert();
    const grpc::string_ref chain = request->peer_cert_full_chain();
    const kite::Status s = verifier_.Verify(std::string_view(leaf.data(), leaf.size()),
                                            std::string_view(chain.data(), chain.size()));
    if (!s.ok()) KITE_LOG(1) << "etcd: client certificate refused: " << s.message();
    *sync_status = s.ok() ? grpc::Status::OK : grpc::Status(grpc::StatusCode::UNAUTHENTICATED, s.message());
    return true;  // done synchronously
  }
  void Cancel(grpc::experimental::TlsCustomVerificationCheckRequest*) override {}  // nothing pending

 private:
  const PeerChainVerifier verifier_;
};

// The endpoint's TLS: serves `cert_pem` and requires a client certificate that kite verifies.
Result<std::shared_ptr<grpc::ServerCredentials>> EtcdTlsCredentials(const EtcdServerOptions& o) {
  namespace gx = grpc::experimental;
  auto verifier = PeerChainVerifier::Create(o.client_ca_pem, PeerChainVerifier::Peer::kClient, o.clock);
  if (!verifier.ok()) return kite::Status(verifier.status().code(), "etcd client CA: " + verifier.status().message());
  auto certs = std::make_shared<gx::StaticDataCertificateProvider>(
      o.client_ca_pem, std::vector<gx::IdentityKeyCertPair>{{o.key_pem, o.cert_pem}});
  gx::TlsServerCredentialsOptions tls(certs);
  tls.watch_root_certs();  // not for verifying: gRPC advertises them as the acceptable client CAs
  tls.watch_identity_key_cert_pairs();
  tls.set_cert_request_type(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_BUT_DONT_VERIFY);
  tls.set_certificate_verifier(gx::ExternalCertificateVerifier::Create<EtcdClientCertificateVerifier>(std::move(*verifier)));
  return gx::TlsServerCredentials(tls);
}

class EtcdServerImpl final : public EtcdServer {
 public:
  EtcdServerImpl(Store* store, const EtcdServerOptions& options)
      : options_(options),
        runner_(std::make_unique<TaskRunner>()),
        pump_pool_(std::make_unique<TaskRunner>(PumpThreads())),
        dispatcher_(std::make_unique<Dispatcher>(store, [r = runner_.get()](std::function<void()> f) {
          r->Post(std::move(f));
        })),
        kv_(dispatcher_.get(), runner_.get()),
        watch_(dispatcher_.get(), pump_pool_.get()),
        lease_(dispatcher_.get()),
        maintenance_(dispatcher_.get()) {}

  ~EtcdServerImpl() override { Shutdown(); }

  kite::Status Init() {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    std::shared_ptr<grpc::ServerCredentials> creds = grpc::InsecureServerCredentials();
    if (!options_.cert_pem.empty()) {
      auto tls = EtcdTlsCredentials(options_);
      if (!tls.ok()) {
        runner_->Stop();
        pump_pool_->Stop();
        return tls.status();
      }
      creds = std::move(*tls);
    }
    builder.AddListeningPort(options_.listen, creds, &port_);
    builder.SetMaxReceiveMessageSize(static_cast<int>(kMaxRequestBytes) + kGrpcOverheadBytes);
    builder.SetMaxSendMessageSize(INT_MAX);
    // gRPC turns SO_REUSEPORT on by default, which lets a second server bind the same port and
    // silently take half the connections. etcd refuses a port in use; so do we.
    builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
    // etcd's keepalive policy: clients (kube-apiserver, etcdctl) ping every 30 s or so; gRPC's
    // default minimum of 5 minutes between pings would answer them with GOAWAY "too_many_pings".
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 5000);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    builder.AddChannelArgument(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
    // etcd's server-side keepalive: ping an idle client every 2 h, drop it after 20 s of silence.
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIME_MS, 2 * 60 * 60 * 1000);
    builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 20 * 1000);

    std::string host = options_.listen.substr(0, options_.listen.rfind(':'));
    cluster_ = std::make_unique<etcdserver::ClusterService>(dispatcher_.get(), options_.name, "");
    builder.RegisterService(&kv_);
    builder.RegisterService(&watch_);
    builder.RegisterService(&lease_);
    builder.RegisterService(&maintenance_);
    builder.RegisterService(cluster_.get());
    server_ = builder.BuildAndStart();
    if (!server_ || port_ == 0) {
      runner_->Stop();
      pump_pool_->Stop();
      return kite::Status(Code::kUnavailable, "etcd server: cannot listen on " + options_.listen);
    }
    // The member's client URL needs the port chosen at bind time; the service only reads it in
    // handlers, which cannot have run before the server answered its first call.
    cluster_->set_client_url("http://" + host + ":" + std::to_string(port_));
    server_->GetHealthCheckService()->SetServingStatus(true);

    int64_t interval = std::max(options_.progress_notify_interval_ms, kMinProgressIntervalMs);
    runner_->SetPeriodic(
        [interval] {
          // etcd adds up to 10% jitter so watchers created together do not tick together.
          thread_local std::mt19937_64 rng{std::random_device{}()};
          int64_t jitter = interval / 10 > 0 ? static_cast<int64_t>(rng() % static_cast<uint64_t>(interval / 10)) : 0;
          return std::chrono::milliseconds(interval + jitter);
        },
        [this] { watch_.ProgressTick(); });
    KITE_LOG(1) << "etcd v3 API listening on " << host << ":" << port_;
    return kite::Status::Ok();
  }

  int port() const override { return port_; }

  void Shutdown() override {
    std::lock_guard lock(shutdown_mu_);
    if (shut_down_ || !server_) return;
    shut_down_ = true;
    server_->GetHealthCheckService()->SetServingStatus(false);
    // 1. Ask every stream to finish ("server stopped") while gRPC still runs.
    watch_.StopAll();
    lease_.StopAll();
    // 2. Stop accepting; calls still running after the grace period are cancelled, which ends
    //    streams whose writes are stuck behind a client that stopped reading. gRPC's Shutdown
    //    returns once every callback call has completed.
    //    The grace period as a relative deadline (GPR_TIMESPAN), which gRPC adds to its monotonic
    //    clock, not a system_clock time: Debian 12's armhf gRPC reads the wall clock with a 32-bit
    //    time_t (docs/architecture/packaging.md, "Times past 2038").
    server_->Shutdown(gpr_time_from_seconds(2, GPR_TIMESPAN));
    watch_.WaitAllDone();
    lease_.WaitAllDone();
    server_->Wait();
    // 3. Only now: posted completions and pumps may still be queued until here.
    runner_->Stop();
    pump_pool_->Stop();
  }

 private:
  EtcdServerOptions options_;
  std::unique_ptr<TaskRunner> runner_;
  std::unique_ptr<TaskRunner> pump_pool_;  // pumps watch streams
  std::unique_ptr<Dispatcher> dispatcher_;
  etcdserver::KvService kv_;
  etcdserver::WatchService watch_;
  etcdserver::LeaseService lease_;
  etcdserver::MaintenanceService maintenance_;
  std::unique_ptr<etcdserver::ClusterService> cluster_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::mutex shutdown_mu_;
  bool shut_down_ = false;  // guarded by shutdown_mu_
};

}  // namespace

Result<std::unique_ptr<EtcdServer>> EtcdServer::Start(Store* store, const EtcdServerOptions& options) {
  auto server = std::make_unique<EtcdServerImpl>(store, options);
  if (auto s = server->Init(); !s.ok()) return s;
  return std::unique_ptr<EtcdServer>(std::move(server));
}

}  // namespace kite::datastore
