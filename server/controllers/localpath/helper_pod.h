// The helper pod that removes a deleted local-path volume's directory on its node (k3s's
// local-path provisioner does the same with a busybox `rm -rf`). kite-server cannot reach a
// node's disk and a kubelet may not read volumes its pods no longer use (Node authorizer), so the
// work goes through an ordinary pod: in kube-system, bound to the volume's node, the provisioner's
// storage directory mounted at /data, running `kite-local-path-helper delete /data/<dir>`, owned
// by the volume (so the garbage collector removes it with the volume), restartPolicy Never.
#pragma once

#include <boost/json.hpp>

#include <string>

#include "base/status.h"

namespace kite::controllers::localpath {

// Label on helper pods naming the volume they clean (the controller requeues that volume).
inline constexpr const char kHelperVolumeLabel[] = "local-path-provisioner.kite.io/volume";
inline constexpr const char kHelperNamespace[] = "kube-system";

// "helper-pod-delete-<volume>", k3s's name.
std::string HelperPodName(const std::string& volume);

// The node a provisioned volume lives on: its required node affinity's kubernetes.io/hostname.
std::string VolumeNode(const boost::json::object& pv);

// The helper pod for `pv`, whose hostPath must be a direct child of `storage_dir` (what the
// provisioner made); anything else is InvalidArgument, and no pod may delete it.
Result<boost::json::object> DeleteHelperPod(const boost::json::object& pv, const std::string& storage_dir,
                                            const std::string& image);

}  // namespace kite::controllers::localpath
