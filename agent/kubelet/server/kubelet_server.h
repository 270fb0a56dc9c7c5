// KubeletServer: the kubelet's HTTPS endpoint (upstream's port 10250), which the API server
// calls for `kubectl logs` (pods/log) and nodes/proxy, and Prometheus scrapes.
//
// TLS with the node's serving certificate (from the join: agent/bootstrap/). Authentication: a
// client certificate signed by the cluster's client CA (the API server's kubelet-client
// certificate is one; a certificate of another CA fails the TLS handshake), else a bearer token
// the authorizer accepts (webhook_auth.h: a TokenReview); anyone else gets 401 with a Status
// body. Authorization: the system:masters group (the API server's kubelet client, cluster
// admins) may call everything; any other user what the authorizer allows (a SubjectAccessReview
// for nodes/<subresource>), else 403 as upstream's kubelet answers. Without an authorizer only
// client certificates get in, and only system:masters.
//
// Routes (GET):
//   /healthz                                   "ok"
//   /pods                                      the PodList of this node's pods
//   /containerLogs/{ns}/{pod}/{container}      the container's log (logs/cri_log.h) with follow,
//                                              previous, timestamps, sinceSeconds, sinceTime,
//                                              tailLines, limitBytes; chunked while following
//   /stats/summary                             stats.h's Summary JSON
//   /metrics                                   kubelet_* (running pods and containers, node name)
//   /metrics/cadvisor, /metrics/resource       per container/pod/node usage (stats.h)
//   /exec, /attach, /portforward (GET/POST)    upgraded sessions relayed to the runtime's stream
//                                              server (streaming_routes.h)
// Errors are metav1.Status bodies. A followed log ends when the container has stopped and its
// log is read to the end, or when the client goes away (noticed while idle too, at the next poll).
// CRI calls are synchronous and short; they run on the server's threads.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <boost/json/object.hpp>

#include "agent/cri/runtime.h"
#include "agent/cri/streaming.h"
#include "agent/kubelet/server/webhook_auth.h"
#include "agent/kubelet/stats.h"
#include "base/status.h"
#include "base/upgrade_proxy.h"

namespace kite::kubelet::server {

struct KubeletServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 10250;  // 0 picks a free port
  std::string cert_pem, key_pem;  // the node's serving certificate
  std::string client_ca_pem;      // the cluster's client CA
  int threads = 1;
  // How often a followed log looks for new lines when it has read everything.
  std::chrono::milliseconds follow_poll{100};
};

struct KubeletSources {
  std::string node_name;
  cri::RuntimeService* runtime = nullptr;
  // exec, attach and port-forward (streaming_routes.h); null: those routes answer 501.
  cri::StreamingService* streaming = nullptr;
  StatsProvider* stats = nullptr;
  // The PodList of the pods bound to this node (/pods).
  std::function<Result<boost::json::object>()> pods;
  // Bearer tokens and users outside system:masters (may be null; outlives the server).
  KubeletAuthorizer* authorizer = nullptr;
};

class KubeletServer {
 public:
  static Result<std::unique_ptr<KubeletServer>> Start(const KubeletServerOptions& o, KubeletSources sources);
  ~KubeletServer();
  int port() const;
  void Stop();
  // This server called in process (base/upgrade_proxy.h: every route, without authentication,
  // on the caller's executor), for the API server of the same process. Its short synchronous
  // CRI calls (finding a container, preparing a session) then run on the caller's thread, as
  // they run on this server's own thread over HTTPS. Valid while this object exists; answers
  // 503 after Stop.
  InProcessServer InProcess();

  struct Impl;

 private:
  explicit KubeletServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The log file of a pod's container as the runtime reports it (CRI ContainerStatus.log_path):
// the newest instance, or with `previous` the one before it. `running` tells whether that
// instance still runs. NotFound with upstream's messages when there is none.
struct ContainerLogRef {
  std::string id, path;
  bool running = false;
};
Result<ContainerLogRef> FindContainerLog(cri::RuntimeService* runtime, const std::string& ns, const std::string& pod,
                                         const std::string& container, bool previous);

}  // namespace kite::kubelet::server
