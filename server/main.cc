// kite-server: one process holding the cluster's control plane: the datastore and its etcd v3
// endpoint, the Kubernetes API over HTTPS, plus /metrics and /healthz on a local HTTP port.
// Controllers and the scheduler are wired in here as they land, each started behind the API.
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "addons/manifests/deployer.h"
#include "agent/agent.h"
#include "agent/kubelet/node_info.h"
#include "agent/bootstrap/bootstrap.h"
#include "base/http_server.h"
#include "base/log.h"
#include "base/metrics.h"
#include "base/memory_trim.h"
#include "base/sd_notify.h"
#include "base/stop_signals.h"
#include "base/version.h"
#include "datastore/etcdserver/etcd_server.h"
#include "datastore/private_dir.h"
#include "datastore/store.h"
#include "server/apiserver/apiserver.h"
#include "server/apiserver/encryption/secrets_encrypt.h"
#include "server/apiserver/handlers/component_statuses.h"
#include "server/cli/secrets_encrypt_cli.h"
#include "server/apiserver/certs.h"
#include "server/certificate_command.h"
#include "server/apiserver/join/node_password.h"
#include "server/apiserver/status.h"
#include "server/controllers/manager.h"
#include "server/metricsserver/metrics_server.h"
#include "server/scheduler/scheduler.h"
#include "server/server_flags.h"

#if defined(KITE_JEMALLOC)
// jemalloc reads this at its first allocation: a background thread returns freed pages to the
// kernel on jemalloc's decay schedule (10 s) even while the server is idle, instead of only
// when some later allocation happens to trigger the purge.
extern "C" {
extern const char* malloc_conf;
const char* malloc_conf = "background_thread:true,max_background_threads:1";
}
#endif

namespace {

// Whether an etcd --etcd-listen host:port stays on this machine.
bool IsLoopbackListen(const std::string& listen) {
  const std::string host = listen.substr(0, listen.rfind(':'));
  return host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "default";
  return buf;
}

// Lifts the soft open-file limit to the hard one (as Go's runtime does for every Go server since
// 1.19): each API connection, watch and kubelet stream is a descriptor, and the usual soft limit
// of 1024 would refuse clients long before memory runs short.
void RaiseOpenFileLimit() {
  struct rlimit rl {};
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kite;
  if (VersionRequested(argc, argv)) {
    std::cout << VersionLine("kite-server") << "\n";
    return 0;
  }
  ::umask(077);  // the data dir and every file kite-server creates are private to its user
  if (argc > 1 && std::string(argv[1]) == "secrets-encrypt") return cli::SecretsEncryptMain(argc - 1, argv + 1);
  if (argc > 1 && std::string(argv[1]) == "certificate") return server::CertificateCommand(argc - 1, argv + 1);
  const std::string notify_socket = TakeNotifySocket();  // systemd's Type=notify (before any thread)
  server::ServerOptions o;
  if (auto exit_code = ReadServerFlags(argc, argv, o)) return *exit_code;
  log::SetVerbosity(static_cast<int>(o.verbosity));
  RaiseOpenFileLimit();
  const auto started = std::chrono::steady_clock::now();

  // Before any thread starts, so only WaitForStopSignal below receives them.
  BlockStopSignals();

  // Every listener is bound before any component starts, so a taken port ends the process with
  // one line and exit 1 before there is anything to stop: metrics first, then the etcd
  // endpoint and the API; controllers and the scheduler only after all three.
  HttpServer http;
  http.Route("/metrics", [] {
    return HttpReply{200, "text/plain; version=0.0.4; charset=utf-8", metrics::Serialize(), {}};
  });
  http.Route("/healthz", [] { return HttpReply{200, "text/plain; charset=utf-8", "ok", {}}; });
  if (!o.metrics_listen.empty()) {
    if (auto s = http.Start(o.metrics_listen); !s.ok()) {
      KITE_LOG(0) << "metrics endpoint: " << s.message();
      return 1;  // nothing has started yet
    }
    KITE_LOG(0) << "metrics and health on http://" << o.metrics_listen << " (port " << http.port() << ")";
  }
  datastore::StoreOptions so;
  so.data_dir = (std::filesystem::path(o.data_dir) / "server" / "db").string();
  so.durability = o.durability == "strict" ? datastore::Durability::kStrict : datastore::Durability::kRelaxed;
  so.compaction_interval_ms = o.compact_interval_ms;
  so.compaction_retain_revisions = o.compact_min_retain;
  so.quota_bytes = o.quota_backend_bytes;
  if (o.heartbeat_flush_ms > 0) {
    so.heartbeat_prefixes = {"/registry/leases/"};
    so.heartbeat_flush_ms = o.heartbeat_flush_ms;
  }
  if (auto s = datastore::MakePrivateDir(o.data_dir); !s.ok()) {
    KITE_LOG(0) << "data dir: " << s.message();
    return 1;
  }
  auto store = datastore::OpenSqliteStore(so);
  if (!store.ok()) {
    KITE_LOG(0) << "datastore: " << store.status().message();
    return 1;
  }

  // Encryption at rest: the API server reads and writes through the encrypting store; the etcd
  // endpoint serves the datastore as stored.
  std::unique_ptr<apiserver::encryption::SecretsEncryption> secrets_encryption;
  datastore::Store* api_store = store->get();
  if (o.secrets_encryption) {
    auto se = apiserver::encryption::SecretsEncryption::Open(o.data_dir, store->get());
    if (!se.ok()) {
      KITE_LOG(0) << "secrets encryption: " << se.status().message();
      return 1;
    }
    secrets_encryption = std::move(se.value());
    api_store = secrets_encryption->store();
  } else if (std::filesystem::exists(std::filesystem::path(o.data_dir) / "server" / "cred" / "encryption-config.json")) {
    KITE_LOG(0) << "warning: an encryption config exists but --secrets-encryption is off: encrypted Secrets cannot be read";
  }

  std::unique_ptr<datastore::EtcdServer> etcd;
  if (!o.etcd_listen.empty()) {
    datastore::EtcdServerOptions eo;
    eo.listen = o.etcd_listen;
    eo.name = Hostname();
    // Off the loopback the endpoint is the whole datastore to anyone who reaches it: TLS with
    // client certificates from its own CA (<data-dir>/server/tls/etcd/), as k3s's etcd.
    if (!IsLoopbackListen(o.etcd_listen)) {
      const std::string host = o.etcd_listen.substr(0, o.etcd_listen.rfind(':'));
      std::vector<std::string> sans = {"localhost", "127.0.0.1", Hostname()};
      if (!host.empty() && host != "0.0.0.0" && host != "[::]") sans.push_back(host.front() == '[' ? host.substr(1, host.size() - 2) : host);
      for (const auto& s : o.tls_san) sans.push_back(s);
      auto ec = apiserver::LoadOrCreateEtcdCerts(
          (std::filesystem::path(o.data_dir) / "server" / "tls").string(), apiserver::WantedSans(sans, o.cluster_cidr, ""));
      if (!ec.ok()) {
        KITE_LOG(0) << "etcd endpoint certificates: " << ec.status().message();
        return 1;
      }
      eo.cert_pem = ec->server.cert_pem + ec->ca.cert_pem;
      eo.key_pem = ec->server.key_pem;
      eo.client_ca_pem = ec->ca.cert_pem;
    }
    auto e = datastore::EtcdServer::Start(store->get(), eo);
    if (!e.ok()) {
      KITE_LOG(0) << "etcd endpoint: " << e.status().message();
      return 1;
    }
    etcd = std::move(e.value());
    KITE_LOG(0) << "etcd v3 endpoint listening on " << o.etcd_listen << " (port " << etcd->port() << ")"
                << (eo.cert_pem.empty() ? "" : " with TLS and client certificates (server/tls/etcd/)");
  }

  unsigned kubeconfig_mode = 0;
  try {
    kubeconfig_mode = static_cast<unsigned>(std::stoul(o.write_kubeconfig_mode, nullptr, 8));
  } catch (const std::exception&) {
    std::cerr << "kite-server: --write-kubeconfig-mode must be an octal mode such as 0600\n";
    return 2;
  }
  apiserver::ApiServerOptions ao;
  ao.bind_address = o.bind_address;
  // As k3s: the node's address, so that pods reach the API through the `kubernetes` Service (the
  // loopback is not theirs); it is also a name in the serving certificate.
  ao.advertise_address = !o.advertise_address.empty() ? o.advertise_address
                         : !o.agent.node_ip.empty()   ? o.agent.node_ip
                                                      : kubelet::DefaultNodeIp();
  ao.port = static_cast<int>(o.https_listen_port);
  ao.tls_sans = o.tls_san;
  ao.cluster_cidr = o.cluster_cidr;
  ao.service_network = o.service_network;
  if (!o.MetricsServerOn()) ao.delegates.erase("metrics.k8s.io");
  ao.join_settings = {o.cluster_cidrs, o.service_cidr, o.agent.cluster_dns.empty() ? "" : o.agent.cluster_dns.front(),
                      o.agent.cluster_domain, o.agent.flannel_backend, o.disable_network_policy ? "disabled" : "enforced"};
  if (!ao.advertise_address.empty()) ao.tls_sans.push_back(ao.advertise_address);
  ao.tls_dir = (std::filesystem::path(o.data_dir) / "server" / "tls").string();
  ao.kubeconfig_path = o.write_kubeconfig;
  ao.kubeconfig_mode = kubeconfig_mode;
  ao.token_auth_file = o.token_auth_file;
  ao.always_allow = o.authorization_mode == "AlwaysAllow";
  ao.anonymous_auth = o.anonymous_auth;
  ao.inflight.max_readonly = static_cast<int>(o.max_requests_inflight);
  ao.inflight.max_mutating = static_cast<int>(o.max_mutating_requests_inflight);
  ao.join_token_path = (std::filesystem::path(o.data_dir) / "server" / "token").string();
  ao.join_token = o.token;
  ao.audit = o.audit;
  ao.audit_policy_file = o.audit_policy_file;
  if (o.audit.path.empty() != o.audit_policy_file.empty()) {
    KITE_LOG(0) << "warning: auditing needs both --audit-log-path and --audit-policy-file; nothing is audited";
  }
  auto api = apiserver::ApiServer::Start(ao, api_store);
  if (!api.ok()) {
    KITE_LOG(0) << "apiserver: " << api.status().message();
    return 1;
  }
  (*api)->ServePath(apiserver::encryption::kStatusPath, [se = secrets_encryption.get()](const std::string& method,
                                                                                      const std::string&) {
    if (method != "GET") return apiserver::PathReply{405, "text/plain", "GET only\n"};
    if (!se) return apiserver::PathReply{200, "application/json", "{}"};
    auto status = se->StatusJson();
    if (!status.ok()) return apiserver::PathReply{500, "application/json", apiserver::StatusJson(status.status())};
    return apiserver::PathReply{200, "application/json", *status};
  });
  (*api)->ServePath(apiserver::encryption::kConfigPath, [se = secrets_encryption.get()](const std::string& method,
                                                                                      const std::string& body) {
    if (method != "PUT") return apiserver::PathReply{405, "text/plain", "PUT only\n"};
    Status s = se ? se->Apply(body)
                  : Status::Api(400, "BadRequest", "secrets encryption is off (start kite-server with --secrets-encryption)");
    if (!s.ok()) return apiserver::PathReply{400, "application/json", apiserver::StatusJson(Status::Api(400, "BadRequest", s.message()))};
    return apiserver::PathReply{200, "application/json", "{}"};
  });
  KITE_LOG(0) << "Kubernetes API listening on https://" << o.bind_address << ":" << (*api)->port()
              << (o.write_kubeconfig.empty() ? "" : ", admin kubeconfig at " + o.write_kubeconfig);

  // The built-in metrics-server: scrapes the kubelets through the API server's KubeletClient
  // and serves metrics.k8s.io through the API server.
  std::unique_ptr<metricsserver::MetricsServer> metrics_server;
  if (o.MetricsServerOn()) {
    auto source = metricsserver::NewKubeletClientSource((*api)->kubelet_client());
    metricsserver::MetricsServerOptions mo;
    mo.resolution = std::chrono::milliseconds(o.metric_resolution_ms);
    metrics_server = metricsserver::MetricsServer::Start(
        (*api)->LocalTransport("system:metrics-server", {"system:masters"}), std::move(source), mo);
    (*api)->Delegate("metrics.k8s.io", [ms = metrics_server.get()](const apiserver::DelegatedRequest& r) {
      return ms->Serve({r.verb, r.resource, r.namespace_, r.name, r.label_selector, r.field_selector});
    });
  }

  std::unique_ptr<controllers::ControllerManager> controller_manager;
  if (!o.disable_controller_manager) {
    controllers::ControllerManagerOptions co;
    co.controllers = o.controllers;
    co.node_monitor_grace_period = std::chrono::milliseconds(o.node_monitor_grace_period_ms);
    co.node_startup_grace_period = std::chrono::milliseconds(o.node_startup_grace_period_ms);
    co.terminated_pod_gc_threshold = o.terminated_pod_gc_threshold;
    co.cluster_cidr = o.cluster_cidr;
    co.pod_cpu_metrics = controllers::PodCpuFromStorage(metrics_server ? &metrics_server->storage() : nullptr);
    co.local_storage_path = o.default_local_storage_path.empty()
                                ? (std::filesystem::absolute(o.data_dir) / "storage").string()
                                : o.default_local_storage_path;
    co.local_path_helper_image = KITE_LOCAL_PATH_HELPER_IMAGE;
    // The CA that signs the serving certificate, published to every namespace as kube-root-ca.crt.
    if (std::ifstream ca(std::filesystem::path(ao.tls_dir) / "server-ca.crt"); ca) {
      co.root_ca_pem.assign(std::istreambuf_iterator<char>(ca), std::istreambuf_iterator<char>());
    }
    co.service_account_private_key_file = (std::filesystem::path(ao.tls_dir) / "service.current.key").string();
    {
      auto read = [&](const std::string& name) {
        std::ifstream in(std::filesystem::path(ao.tls_dir) / name);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      };
      co.csr_signing.client_ca = {read("client-ca.crt"), read("client-ca.key")};
      co.csr_signing.serving_ca = {read("server-ca.crt"), read("server-ca.key")};
    }
    // Each controller acts as its own service account, the manager as system:kube-controller-manager
    // (the identity of <tls>/client-controller.crt): RBAC's bootstrap roles bound the rest.
    co.transport_for = [a = api->get()](const std::string& user, std::vector<std::string> groups) {
      return a->LocalTransport(user, std::move(groups));
    };
    auto cm = controllers::ControllerManager::Start((*api)->LocalTransport("system:kube-controller-manager", {}), co);
    if (!cm.ok()) {
      KITE_LOG(0) << "controller manager: " << cm.status().message();
      return 2;
    }
    controller_manager = std::move(cm.value());
  }
  std::unique_ptr<scheduler::Scheduler> sched;
  if (!o.disable_scheduler) {
    sched = scheduler::Scheduler::Start((*api)->LocalTransport("system:kube-scheduler", {}), {});
  }
  // `kubectl get componentstatuses`: the components this process runs.
  {
    const bool scheduling = sched != nullptr, controlling = controller_manager != nullptr;
    auto components = apiserver::KiteControlPlane([scheduling] { return scheduling; }, [controlling] { return controlling; });
    (*api)->Delegate("/componentstatuses", [components](const apiserver::DelegatedRequest& r) {
      return apiserver::ServeComponentStatuses(r, components);
    });
  }

  // Auto-deploying manifests (<data-dir>/server/manifests/, addons/manifests/deployer.h): the
  // packaged add-ons (the cluster DNS at --cluster-dns) are written there and applied with the rest.
  std::unique_ptr<addons::ManifestDeployer> deployer;
  {
    addons::AddonOptions ad;
    ad.disable = o.disabled_addons;
    if (!o.agent.cluster_dns.empty()) ad.cluster_dns = o.agent.cluster_dns.front();
    ad.cluster_domain = o.agent.cluster_domain;
    ad.dns_image = KITE_DNS_IMAGE;
    ad.ingress_image = KITE_INGRESS_IMAGE;
    const auto server_dir = std::filesystem::path(o.data_dir) / "server";
    addons::DeployerOptions dep;
    dep.dir = (server_dir / "manifests").string();
    dep.state_file = (server_dir / "manifests.applied").string();
    if (auto s = addons::WritePackagedManifests(dep.dir, ad); !s.ok()) {
      KITE_LOG(0) << "add-ons: " << s.message();  // the cluster runs on; the objects can be made by hand
    }
    deployer = addons::ManifestDeployer::Start((*api)->LocalTransport("system:apiserver", {"system:masters"}), dep);
  }

  // The embedded agent: this server is a node too, as a k3s server is. kite-server links the agent
  // library and this file composes them (server/ and agent/ never include each other's parts).
  std::unique_ptr<agent::Agent> node_agent;
  if (!o.disable_agent) {
    o.agent.data_dir = o.data_dir;
    o.agent.control_plane = true;
    o.agent.cluster_cidr = o.cluster_cidrs;
    o.agent.iptables_sync_period = std::chrono::milliseconds(o.iptables_sync_period_ms);
    o.agent.proxy_full_sync_period = std::chrono::milliseconds(o.proxy_full_sync_period_ms);
    const std::string node = agent::NodeName(o.agent);
    // The server's node name is claimed with a node password like any joining node's, so that no
    // agent elsewhere can take it (k3s's server joins its own supervisor the same way).
    auto password = agent::LoadOrCreateNodePassword((std::filesystem::path(o.data_dir) / "agent").string());
    Status claimed = password.ok() ? apiserver::join::EnsureNodePassword(
                                         client::Client((*api)->LocalTransport("system:apiserver", {"system:masters"})),
                                         node, *password)
                                   : password.status();
    if (!claimed.ok()) {
      KITE_LOG(0) << "embedded agent: node " << node << ": " << claimed.message();
      return 1;
    }
    // The kubelet server's certificates, issued here as the join endpoints issue a joining node's.
    std::vector<std::string> node_ips;
    if (const std::string ip = agent::NodeIp(o.agent); !ip.empty()) {
      node_ips.push_back(ip);
    }
    auto kubelet_certs = (*api)->IssueKubeletCerts(node, node_ips);
    if (!kubelet_certs.ok()) {
      KITE_LOG(0) << "embedded agent: kubelet certificates: " << kubelet_certs.status().message();
      return 1;
    }
    o.agent.serving_cert_pem = kubelet_certs->serving.cert_pem;
    o.agent.serving_key_pem = kubelet_certs->serving.key_pem;
    o.agent.client_ca_pem = kubelet_certs->client_ca_pem;
    auto a = agent::Agent::Start(o.agent, (*api)->LocalTransport("system:node:" + node, {"system:nodes"}),
                                 agent::DefaultRuntime());
    if (!a.ok()) {
      KITE_LOG(0) << "embedded agent: " << a.status().message();
      return 2;
    }
    node_agent = std::move(a.value());
    // The API server reaches this node's kubelet in process: exec, attach, port-forward and logs
    // then skip a TLS hop to a server in the same process (bench/RESULTS.md, §14).
    if (InProcessServer kubelet = node_agent->kubelet_in_process()) (*api)->SetInProcessKubelet(node, kubelet);
  }

  // Ready once the API server's own start-up writes are done (its /readyz says the same), so that
  // whoever waits for ready sees a store that no start-up work moves any more.
  if (!(*api)->WaitStartHooks(std::chrono::seconds(10))) {
    KITE_LOG(0) << "API server: the Local APIServices are not written yet; /readyz fails until they are";
  }
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count();
  KITE_LOG(0) << "kite-server ready in " << ms << " ms";
  if (auto s = SdNotify(notify_socket, "READY=1"); !s.ok()) KITE_LOG(0) << "sd_notify: " << s.message();
#if !defined(KITE_JEMALLOC)
  const auto trimmer = MemoryTrimmer::Start();  // glibc keeps a burst's freed pages otherwise
#endif

  const int sig = WaitForStopSignal();
  KITE_LOG(0) << "received signal " << sig << ", shutting down";
  if (node_agent) {
    (*api)->SetInProcessKubelet("", InProcessServer{});
    node_agent->Stop();
  }
  if (deployer) deployer->Stop();
  if (sched) sched->Stop();
  if (controller_manager) controller_manager->Stop();
  if (metrics_server) metrics_server->Stop();
  if (secrets_encryption) secrets_encryption->Wait();
  (*api)->Stop();
  if (etcd) etcd->Shutdown();
  http.Stop();
  store->reset();  // drains the write queue, checkpoints and closes the database
  KITE_LOG(0) << "kite-server stopped";
  return 0;
}
