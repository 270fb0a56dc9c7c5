// The minimal pod spec → CRI config translation behind MinimalPodConfig (pod_config.h), for
// kite-hollow's simulated pods: command, args and literal env, nothing on disk. A real node uses
// NodePodConfig (container_config.h, volumes/) instead. An error from MakeContainerConfig (an
// env.valueFrom it does not resolve) becomes the container's CreateContainerConfigError.
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>

#include "agent/cri/runtime.h"
#include "base/status.h"

namespace kite::kubelet {

// The pod's sandbox; `attempt`: how many sandboxes the pod had before.
cri::PodSandboxConfig MakeSandboxConfig(const boost::json::object& pod, uint32_t attempt);
// One container of the pod (regular or init); `attempt`: its restart count.
kite::Result<cri::ContainerConfig> MakeContainerConfig(const boost::json::object& pod,
                                                       const boost::json::object& container, uint32_t attempt);

}  // namespace kite::kubelet
