// STAND-IN, replaced at merge by helper `podspec`'s agent/kubelet/container_config.* (env from
// configMaps/secrets, resources, securityContext, DNS, mounts): the minimal pod spec → CRI
// config translation the pod workers have used so far. The pod workers call only these two
// functions; an error from MakeContainerConfig becomes the container's
// CreateContainerConfigError waiting state.
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
