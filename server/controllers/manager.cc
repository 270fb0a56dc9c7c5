#include "server/controllers/manager.h"

#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <random>
#include <string_view>
#include <thread>

#include "base/log.h"
#include "client/leader_election.h"
#include "server/controllers/cronjob/cronjob_controller.h"
#include "server/controllers/daemonset/daemonset_controller.h"
#include "server/controllers/deployment/deployment_controller.h"
#include "server/controllers/disruption/disruption_controller.h"
#include "server/controllers/endpoint/endpoints_controller.h"
#include "server/controllers/endpointslice/endpointslice_controller.h"
#include "server/controllers/garbagecollector/garbage_collector.h"
#include "server/controllers/job/job_controller.h"
#include "server/controllers/job/ttl_after_finished_controller.h"
#include "server/controllers/localpath/local_path_controller.h"
#include "server/controllers/namespace/namespace_controller.h"
#include "server/controllers/nodeipam/node_ipam_controller.h"
#include "server/controllers/nodelifecycle/node_lifecycle_controller.h"
#include "server/controllers/podgc/pod_gc_controller.h"
#include "server/controllers/replicaset/replicaset_controller.h"
#include "server/controllers/resourcequota/resource_quota_controller.h"
#include "server/controllers/rootcacertpublisher/publisher.h"
#include "server/controllers/serviceaccount/serviceaccounts_controller.h"
#include "server/controllers/serviceaccount/tokens_controller.h"
#include "server/controllers/servicelb/servicelb_controller.h"
#include "server/controllers/statefulset/statefulset_controller.h"

namespace kite::controllers {

const std::vector<KnownController>& KnownControllers() {
  static const std::vector<KnownController> kAll = {
      {"replicaset", [](const ControllerContext& c) { return NewReplicaSetController(c.client, false); }},
      {"replicationcontroller", [](const ControllerContext& c) { return NewReplicaSetController(c.client, true); }},
      {"deployment", [](const ControllerContext& c) { return NewDeploymentController(c.client); }},
      {"daemonset", [](const ControllerContext& c) { return NewDaemonSetController(c.client); }},
      {"statefulset", [](const ControllerContext& c) { return NewStatefulSetController(c.client); }},
      {"job", [](const ControllerContext& c) { return NewJobController(c.client); }},
      {"cronjob", [](const ControllerContext& c) { return NewCronJobController(c.client); }},
      {"ttl-after-finished", [](const ControllerContext& c) { return NewTtlAfterFinishedController(c.client); }},
      {"garbagecollector", [](const ControllerContext& c) { return NewGarbageCollector(c.client); }},
      {"namespace", [](const ControllerContext& c) { return NewNamespaceController(c.client); }},
      {"serviceaccount", [](const ControllerContext& c) { return NewServiceAccountsController(c.client); }},
      {"serviceaccount-token",
       [](const ControllerContext& c) {
         return NewServiceAccountTokensController(c.client, c.options->service_account_private_key_file,
                                                  c.options->root_ca_pem);
       }},
      {"root-ca-cert-publisher",
       [](const ControllerContext& c) { return NewRootCaCertPublisher(c.client, c.options->root_ca_pem); }},
      {"endpoint", [](const ControllerContext& c) { return NewEndpointsController(c.client); }},
      {"endpointslice", [](const ControllerContext& c) { return NewEndpointSliceController(c.client); }},
      {"nodelifecycle",
       [](const ControllerContext& c) {
         return NewNodeLifecycleController(c.client, c.options->node_monitor_grace_period,
                                           c.options->node_startup_grace_period);
       }},
      {"taint-eviction-controller", [](const ControllerContext& c) { return NewTaintEvictionController(c.client); }},
      {"podgc",
       [](const ControllerContext& c) { return NewPodGCController(c.client, c.options->terminated_pod_gc_threshold); }},
      {"disruption", [](const ControllerContext& c) { return NewDisruptionController(c.client); }},
      {"horizontalpodautoscaling",
       [](const ControllerContext& c) {
         return NewHorizontalPodAutoscalerController(c.client, c.options->pod_cpu_metrics);
       }},
      {"resourcequota", [](const ControllerContext& c) { return NewResourceQuotaController(c.client); }},
      {"local-path-provisioner",
       [](const ControllerContext& c) { return NewLocalPathController(c.client, c.options->local_storage_path,
                                                                         c.options->local_path_helper_image); }},
      {"csrapproving", [](const ControllerContext& c) { return NewCsrApprovingController(c.client); }},
      {"csrsigning", [](const ControllerContext& c) { return NewCsrSigningController(c.client, c.options->csr_signing); }},
      {"csrcleaner", [](const ControllerContext& c) { return NewCsrCleanerController(c.client); }},
      // k3s's ServiceLB: LoadBalancer Services get the nodes' addresses (servicelb/).
      {"servicelb", [](const ControllerContext& c) { return NewServiceLbController(c.client); }},
      // The options were checked by ControllerManager::Start.
      {"nodeipam",
       [](const ControllerContext& c) {
         return std::move(
             NewNodeIpamController(c.client, c.options->cluster_cidr, c.options->node_cidr_mask_size).value());
       }},
  };
  return kAll;
}

ControllerIdentity IdentityOf(const std::string& controller) {
  // Upstream's names of the controllers' service accounts (controller-roles of the bootstrap
  // policy), where they differ from the --controllers name.
  static const std::vector<std::pair<std::string_view, std::string_view>> kAccounts = {
      {"replicaset", "replicaset-controller"},
      {"replicationcontroller", "replication-controller"},
      {"deployment", "deployment-controller"},
      {"daemonset", "daemon-set-controller"},
      {"statefulset", "statefulset-controller"},
      {"job", "job-controller"},
      {"cronjob", "cronjob-controller"},
      {"ttl-after-finished", "ttl-after-finished-controller"},
      {"garbagecollector", "generic-garbage-collector"},
      {"namespace", "namespace-controller"},
      {"serviceaccount", "service-account-controller"},
      {"root-ca-cert-publisher", "root-ca-cert-publisher"},
      {"endpoint", "endpoint-controller"},
      {"endpointslice", "endpointslice-controller"},
      {"nodelifecycle", "node-controller"},
      {"nodeipam", "node-controller"},
      {"taint-eviction-controller", "taint-eviction-controller"},
      {"podgc", "pod-garbage-collector"},
      {"disruption", "disruption-controller"},
      {"horizontalpodautoscaling", "horizontal-pod-autoscaler"},
      {"resourcequota", "resourcequota-controller"},
      {"csrsigning", "certificate-controller"},
      {"csrapproving", "certificate-controller"},
      {"csrcleaner", "certificate-controller"},
  };
  for (const auto& [name, sa] : kAccounts) {
    if (name == controller) {
      return {"system:serviceaccount:kube-system:" + std::string(sa),
              {"system:serviceaccounts", "system:serviceaccounts:kube-system"}};
    }
  }
  if (controller == "servicelb" || controller == "local-path-provisioner") return {"system:kite-controller", {"system:masters"}};
  return {"system:kube-controller-manager", {}};
}

Result<std::vector<std::string>> EnabledControllers(const std::vector<std::string>& flags) {
  std::vector<std::string> out;
  const auto& known = KnownControllers();
  auto is_known = [&](const std::string& n) {
    return std::any_of(known.begin(), known.end(), [&](const KnownController& k) { return n == k.name; });
  };
  bool star = false;
  std::vector<std::string> plus, minus;
  for (const auto& f : flags) {
    if (f == "*") {
      star = true;
      continue;
    }
    std::string name = !f.empty() && f[0] == '-' ? f.substr(1) : f;
    if (!is_known(name)) return Status(Code::kInvalidArgument, "\"" + name + "\" is not in the list of known controllers");
    (f[0] == '-' ? minus : plus).push_back(name);
  }
  for (const auto& k : known) {
    bool on = (star || std::count(plus.begin(), plus.end(), k.name)) && !std::count(minus.begin(), minus.end(), k.name);
    if (on) out.emplace_back(k.name);
  }
  return out;
}

struct ControllerManager::State {
  ControllerManagerOptions options;
  std::vector<std::string> enabled;
  std::unique_ptr<client::Client> client;
  std::vector<std::unique_ptr<client::Client>> controller_clients;  // outlive the runner
  std::unique_ptr<client::LeaderElector> elector;
  std::mutex mu;  // guards informers and runner
  std::unique_ptr<client::InformerFactory> informers;
  std::unique_ptr<client::ControllerRunner> runner;
  std::thread starter;  // runs runner->Start (it waits for the caches)
};

Result<std::unique_ptr<ControllerManager>> ControllerManager::Start(std::shared_ptr<client::Transport> transport,
                                                                    ControllerManagerOptions options) {
  auto enabled = EnabledControllers(options.controllers);
  if (!enabled.ok()) return enabled.status();
  if (std::count(enabled->begin(), enabled->end(), "nodeipam")) {
    if (Status s = CheckClusterCidr(options.cluster_cidr, options.node_cidr_mask_size); !s.ok()) return s;
  }
  std::unique_ptr<ControllerManager> m(new ControllerManager());
  m->s_ = std::make_unique<State>();
  m->s_->options = std::move(options);
  m->s_->enabled = std::move(enabled.value());
  m->s_->client = std::make_unique<client::Client>(std::move(transport));
  if (!m->s_->options.leader_elect) {
    m->Lead();
    return m;
  }
  client::LeaderElectionConfig lc;
  lc.lease_name = "kube-controller-manager";
  lc.identity = m->s_->options.identity;
  if (lc.identity.empty()) {
    char host[256] = {};
    gethostname(host, sizeof host - 1);
    std::random_device rd;
    char suffix[16];
    std::snprintf(suffix, sizeof suffix, "%08x", rd());
    lc.identity = std::string(host) + "_" + suffix;
  }
  m->s_->elector = std::make_unique<client::LeaderElector>(m->s_->client.get(), lc);
  ControllerManager* self = m.get();
  m->s_->elector->Start([self] { self->Lead(); }, [self] { self->StopControllers(); });
  return m;
}

void ControllerManager::Lead() {
  std::lock_guard<std::mutex> lock(s_->mu);
  if (s_->runner) return;
  int threads = s_->options.threads > 0 ? s_->options.threads
                                        : std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
  s_->informers = std::make_unique<client::InformerFactory>(s_->client.get());
  s_->runner = std::make_unique<client::ControllerRunner>(s_->informers.get(), threads);
  for (const auto& k : KnownControllers()) {
    if (!std::count(s_->enabled.begin(), s_->enabled.end(), k.name)) continue;
    const client::Client* c = s_->client.get();
    if (s_->options.transport_for) {
      ControllerIdentity id = IdentityOf(k.name);
      s_->controller_clients.push_back(
          std::make_unique<client::Client>(s_->options.transport_for(id.user, std::move(id.groups))));
      c = s_->controller_clients.back().get();
    }
    ControllerContext ctx{c, &s_->options};
    s_->runner->Add(k.make(ctx));
  }
  // Start waits for the caches; do it off the election thread so renewals keep going.
  client::ControllerRunner* runner = s_->runner.get();
  s_->starter = std::thread([runner] {
    if (!runner->Start()) KITE_LOG(0) << "controller manager: controllers did not start";
  });
  KITE_LOG(0) << "controller manager: starting " << s_->enabled.size() << " controllers";
}

void ControllerManager::StopControllers() {
  std::lock_guard<std::mutex> lock(s_->mu);
  // Informers first: a runner still waiting for their sync gives up at once.
  if (s_->informers) s_->informers->Stop();
  if (s_->starter.joinable()) s_->starter.join();
  if (s_->runner) s_->runner->Stop();
  s_->runner.reset();
  s_->informers.reset();
  s_->controller_clients.clear();
}

void ControllerManager::Stop() {
  if (!s_) return;
  if (s_->elector) s_->elector->Stop();
  StopControllers();
}

ControllerManager::~ControllerManager() { Stop(); }

}  // namespace kite::controllers
