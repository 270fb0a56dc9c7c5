// ControllerManager: kube-controller-manager inside kite-server. It holds the leader-election
// Lease kube-system/kube-controller-manager; while leading, it runs the enabled controllers on
// one shared InformerFactory and a ControllerRunner (a small worker pool shared by all of
// them). The informers read through the manager's own client (system:kube-controller-manager);
// with `transport_for` set, each controller writes through a client of its own identity: the
// service account kube-system/<name> its bootstrap role system:controller:<name> is bound to
// (upstream's --use-service-account-credentials, which k3s sets), so RBAC limits each one.
//
// Controllers are named as upstream's --controllers flag names them ("replicaset",
// "deployment", "garbage-collector", …); `controllers` takes upstream's syntax: "*" enables
// every default one, "name" adds one, "-name" removes one.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/controller.h"
#include "server/controllers/certificates/certificates.h"
#include "server/controllers/podautoscaler/horizontal_controller.h"

namespace kite::controllers {

struct ControllerManagerOptions {
  std::vector<std::string> controllers{"*"};
  bool leader_elect = true;
  std::string identity;  // lease holder identity; default hostname_<random>
  int threads = 0;       // worker pool size; 0 = max(2, cores)
  // root-ca-cert-publisher: the PEM published as kube-root-ca.crt (the API server's CA).
  std::string root_ca_pem;
  // serviceaccount-token: the private key legacy token secrets are signed with
  // (--service-account-private-key-file; kite-server passes <tls-dir>/service.current.key).
  std::string service_account_private_key_file;
  // nodelifecycle: how long a node may stay silent (no Lease renewal, no Ready heartbeat) before
  // it is marked Unknown (upstream --node-monitor-grace-period, 40s), and the same allowance for a
  // node that never posted status (--node-startup-grace-period, 1m).
  std::chrono::milliseconds node_monitor_grace_period{40'000};
  std::chrono::milliseconds node_startup_grace_period{60'000};
  // podgc: terminated pods kept before the oldest are deleted (--terminated-pod-gc-threshold;
  // 0 disables that part).
  int64_t terminated_pod_gc_threshold = 12500;
  // nodeipam: pod CIDRs for nodes (--cluster-cidr, --node-cidr-mask-size; k3s's defaults).
  std::string cluster_cidr = "10.42.0.0/16";
  int node_cidr_mask_size = 24;
  // local-path-provisioner: where provisioned volumes live on the nodes
  // (k3s's --default-local-storage-path; kite-server passes <data-dir>/storage).
  std::string local_storage_path = "/var/lib/kite/storage";
  // local-path-provisioner: the image of the helper pods that delete volumes' directories on
  // their nodes ("" = none: the directory stays; kite-server passes its built-in image).
  std::string local_path_helper_image;
  // horizontalpodautoscaling: pods' CPU usage, in-process from the metrics server (null: none).
  PodCpuMetrics pod_cpu_metrics;
  // csrsigning: the CAs it issues from (kite-server passes its client and server CAs).
  CsrSigningOptions csr_signing;
  // A transport acting as `user` in `groups` (the API server's local transport); null: every
  // controller uses the manager's transport.
  std::function<std::shared_ptr<client::Transport>(const std::string& user, std::vector<std::string> groups)>
      transport_for;
};

// The identity controller `name` acts as: "system:serviceaccount:kube-system:<sa>" in the
// service-account groups, or system:kube-controller-manager's for the ones upstream runs with the
// manager's own credentials (serviceaccount-token); kite's k3s-born controllers (servicelb,
// local-path-provisioner) act as k3s's supervisor does, in system:masters.
struct ControllerIdentity {
  std::string user;
  std::vector<std::string> groups;
};
ControllerIdentity IdentityOf(const std::string& controller);

// What a controller gets when it is built.
struct ControllerContext {
  const client::Client* client;
  const ControllerManagerOptions* options;
};

using ControllerFactory = std::function<std::unique_ptr<client::Controller>(const ControllerContext&)>;

// Every controller kite knows, in start order, with its upstream name.
struct KnownController {
  const char* name;
  ControllerFactory make;
};
const std::vector<KnownController>& KnownControllers();

// Names enabled by `flags` (upstream --controllers semantics); unknown names are an error.
Result<std::vector<std::string>> EnabledControllers(const std::vector<std::string>& flags);

class ControllerManager {
 public:
  static Result<std::unique_ptr<ControllerManager>> Start(std::shared_ptr<client::Transport> transport,
                                                          ControllerManagerOptions options);
  ~ControllerManager();  // Stop()
  void Stop();

 private:
  ControllerManager() = default;
  void Lead();
  void StopControllers();
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace kite::controllers
