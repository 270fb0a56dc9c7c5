// AppArmor for pods, as upstream's kubelet handles it (pkg/security/apparmor and kuberuntime):
// a container's profile is its securityContext.appArmorProfile, else the deprecated annotation
// container.apparmor.security.beta.kubernetes.io/<container> (runtime/default, unconfined,
// localhost/<name>), else the pod's appArmorProfile; none leaves it to the runtime (containerd
// applies its default profile where AppArmor is on). A pod asking for any profile but
// Unconfined on a host without AppArmor is refused at admission: Failed, reason AppArmor,
// "Cannot enforce AppArmor: AppArmor is not enabled on the host".
// Thread-safety: pure functions (AppArmorEnabled reads /sys once per call).
#pragma once

#include <boost/json/object.hpp>

#include <optional>
#include <string>

#include "agent/cri/runtime.h"
#include "base/status.h"

namespace kite::kubelet {

inline constexpr char kAppArmorRejected[] = "AppArmor";

// Whether the host enforces AppArmor (the securityfs dir and the module's enabled flag).
bool AppArmorEnabled();

// The profile for the runtime (nullopt: the runtime's default); an error for an unknown type or
// a Localhost profile without its name.
Result<std::optional<cri::SecurityProfile>> AppArmorProfileFor(const boost::json::object& pod,
                                                               const boost::json::object& container);

// Why the pod may not run here ("Cannot enforce AppArmor: ..."), or nullopt.
std::optional<std::string> AdmitAppArmor(const boost::json::object& pod, bool host_enabled);

}  // namespace kite::kubelet
