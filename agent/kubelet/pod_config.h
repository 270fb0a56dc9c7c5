// PodConfig: what the pod workers ask about a pod before they talk to the runtime — its sandbox
// config, its volumes made ready on disk, each container's config, the credentials for an image
// pull — and what they do when the pod is gone (its volumes torn down).
//
// Two implementations:
// - NodePodConfig: a real node's (kite-agent, the embedded agent): upstream's translation of the
//   spec (container_config.h: env, resources, securityContext, DNS, mounts), the volume manager
//   (volumes/volume_manager.h) and imagePullSecrets (pull_secrets.h).
// - MinimalPodConfig: kite-hollow's, for thousands of simulated pods with nothing on disk
//   (minimal_config.h): command, args, literal env.
// Errors: Sandbox's and SetUpVolumes' errors are retried by the pod workers (an Event, a
// back-off); Container's error becomes the container's CreateContainerConfigError.
// Thread-safety: every method may be called from any worker thread, for different pods at once.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/cri/runtime.h"
#include "agent/kubelet/container_config.h"
#include "agent/kubelet/lookup.h"
#include "agent/kubelet/volumes/volume_manager.h"
#include "base/status.h"

namespace kite::kubelet {

class PodConfig {
 public:
  virtual ~PodConfig() = default;
  // `attempt`: how many sandboxes the pod had before.
  virtual Result<cri::PodSandboxConfig> Sandbox(const boost::json::object& pod, uint32_t attempt) = 0;
  // The CRI runtime handler for a new sandbox of the pod: its RuntimeClass's handler
  // (spec.runtimeClassName; upstream's runtimeclass manager), "" without one (the runtime's
  // default). Asked only when a sandbox is about to start, so a running pod never needs the API.
  // A RuntimeClass that does not exist is NotFound (the pod workers retry, FailedCreatePodSandBox).
  virtual Result<std::string> RuntimeHandler(const boost::json::object&) { return std::string(); }
  // Makes every volume of the pod ready (idempotent; called before its sandbox starts and on
  // every sync, so an edited configMap or secret reaches its files).
  virtual Status SetUpVolumes(const boost::json::object& pod) = 0;
  // One container (regular or init); `attempt`: its restart count; `pod_ip`: the sandbox's IP.
  virtual Result<cri::ContainerConfig> Container(const boost::json::object& pod, const boost::json::object& container,
                                                 uint32_t attempt, const std::string& pod_ip) = 0;
  // Credentials to try, in order, for pulling `image` for `pod` (empty: anonymous). An error
  // (a malformed pull secret) fails the pull.
  virtual Result<std::vector<cri::AuthConfig>> PullAuth(const boost::json::object& pod, const std::string& image) = 0;
  // The pod `uid` is gone: its volumes go too (idempotent).
  virtual void TearDown(const std::string& uid) = 0;
};

std::unique_ptr<PodConfig> MinimalPodConfig();

// `lookup` and `volumes` must outlive it.
std::unique_ptr<PodConfig> NodePodConfig(NodeConfig node, Lookup* lookup, volumes::VolumeManager* volumes);

}  // namespace kite::kubelet
