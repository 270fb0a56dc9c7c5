// VolumeManager: a pod's volumes on the node, as upstream's kubelet volume manager and volume
// plugins lay them out under the kubelet's root dir (<data-dir>/agent/kubelet):
//
//   <root>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>     emptyDir (medium Memory: tmpfs)
//   <root>/pods/<uid>/volumes/kubernetes.io~configmap/<name>     configMap  } written by
//   <root>/pods/<uid>/volumes/kubernetes.io~secret/<name>        secret     } AtomicWriter
//   <root>/pods/<uid>/volumes/kubernetes.io~downward-api/<name>  downwardAPI} (atomic_writer.h)
//   <root>/pods/<uid>/volumes/kubernetes.io~projected/<name>     projected  }
//   <root>/pods/<uid>/containers/<container>/<attempt>           termination message files
// hostPath volumes and PVCs bound to hostPath/local PVs are the host's paths (type-checked,
// created for DirectoryOrCreate/FileOrCreate); the runtime bind-mounts every Mount it is given.
// With spec.securityContext.fsGroup, emptyDirs and the written volumes are group-owned by it
// (setgid directories, files group-readable), as upstream's SetVolumeOwnership; hostPath and
// PV paths are left as they are.
// Secret, projected and downwardAPI volumes live on a tmpfs when `tmpfs` is on (root), so
// secrets never reach the disk, as upstream does; with it off they are plain directories.
//
// How the kubelet uses it (per pod, from its pod worker):
//   SetUp(pod)                      before the first container; again on every sync (idempotent)
//   MountsFor(pod, c, ips[, env])   → ContainerContext::mounts (container_config.h): the
//                                   volumeMounts and the pod's managed /etc/hosts
//   TerminationLogFile(pod, c, n)   → ContainerContext::termination_log_path
//   Update(pod)                     for the pods PodVolumesUse() names when a configMap/secret
//                                   changes, and periodically: rewrites changed files in place
//                                   (atomically), renews service account tokens past 80% of
//                                   their lifetime
//   TearDown(uid)                   once the pod's containers are gone (unmounts, then removes)
//   Cleanup(live uids)              at start and periodically: tears down pods that are gone
// Not done: an emptyDir's sizeLimit on disk (upstream enforces it by eviction), the CSI/NFS/...
// volume sources (refused as unsupported), SELinux relabelling.
//
// Errors (kubelet: a Warning FailedMount Event with the message, and retry): a missing
// configMap/secret/PVC is NotFound (`configmap "x" not found`), a pending claim
// FailedPrecondition (upstream's "PVC ns/x has non-bound phase ..."), a hostPath of the wrong
// type FailedPrecondition ("hostPath type check failed: /p is not a directory"), an unsupported
// volume source or bad spec InvalidArgument; messages start with upstream's
// `MountVolume.SetUp failed for volume "<name>" : `.
// Service account tokens come from Lookup::RequestToken (a TokenRequest bound to the pod); a
// server without TokenRequest makes a projected serviceAccountToken source fail with a message
// that says so.
// Thread-safety: methods may be called from any thread; calls for one pod are serialised (a
// configMap handler's Update never interleaves with the pod worker's SetUp).
#pragma once

#include <boost/json/object.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "agent/cri/runtime.h"
#include "agent/kubelet/container_config.h"
#include "agent/kubelet/lookup.h"
#include "agent/kubelet/volumes/atomic_writer.h"
#include "agent/kubelet/volumes/sources.h"
#include "base/status.h"

namespace kite::kubelet::volumes {

class VolumeManager {
 public:
  struct Options {
    std::string root_dir;  // the kubelet's root dir, e.g. <data-dir>/agent/kubelet
    bool tmpfs = true;     // tmpfs for Memory emptyDirs and secret-like volumes (needs root)
    NodeConfig node;       // allocatable, for downwardAPI resourceFieldRef items
    std::function<int64_t()> now;  // seconds since the epoch (token renewal); default: the clock
    std::string host_hosts_file = "/etc/hosts";  // the node's, for pods on the host's network
  };
  // `lookup` must outlive the manager.
  VolumeManager(Options opts, Lookup* lookup);

  // Prepares every volume of the pod; the first error is returned after trying them all.
  Status SetUp(const boost::json::object& pod);
  // Rewrites the files of the pod's configMap/secret/downwardAPI/projected volumes that changed
  // (each volume all at once; one not set up yet is set up). Other volumes are left alone.
  Status Update(const boost::json::object& pod);
  // The mounts of a container's volumeMounts (subPath, readOnly, mountPropagation). The pod's
  // volumes must be set up. Bidirectional propagation needs a privileged container.
  // With `pod_ips` (the sandbox's; the node's with the host's network) and no volumeMount of
  // its own at /etc/hosts, also the pod's kubelet-managed hosts file, written to
  // <pod dir>/etc-hosts as upstream writes it: localhost lines, each pod IP with the hostname
  // (FQDN first with a subdomain), then spec.hostAliases; with the host's network, the node's
  // hosts file and hostAliases.
  // `env`: the container's environment (ContainerEnv), needed for subPathExpr only.
  using Env = std::vector<std::pair<std::string, std::string>>;
  Result<std::vector<cri::Mount>> MountsFor(const boost::json::object& pod, const boost::json::object& container,
                                            const std::vector<std::string>& pod_ips = {}, const Env* env = nullptr);
  // Creates (empty) the host file for the container's terminationMessagePath and returns it.
  Result<std::string> TerminationLogFile(const boost::json::object& pod, const std::string& container, uint32_t attempt);
  // Unmounts the pod's tmpfs volumes, then removes <root>/pods/<uid>. Idempotent.
  Status TearDown(const std::string& uid);
  // Tears down every pod dir whose uid is not in `live` (orphans after a restart).
  Status Cleanup(const std::set<std::string>& live);

  std::string PodDir(const std::string& uid) const;
  // <root>/pods/<uid>/volumes/<plugin>/<name>; plugin as upstream ("kubernetes.io~configmap").
  std::string VolumeDir(const std::string& uid, const std::string& plugin, const std::string& name) const;
  // The host path a volume is at (its dir, or the hostPath / PV path), after SetUp.
  Result<std::string> VolumePath(const boost::json::object& pod, const boost::json::object& volume);

 private:
  struct Token {
    std::string token;
    int64_t issued = 0, expires = 0;
  };
  Status SetUpVolume(const boost::json::object& pod, const boost::json::object& volume, bool contents_only);
  Status SetUpEmptyDir(const boost::json::object& pod, const std::string& name, const boost::json::object& source);
  Status SetUpWritten(const boost::json::object& pod, const std::string& name, const char* plugin, bool on_tmpfs,
                      const Payload& payload);
  Result<Payload> MakePayload(const boost::json::object& pod, const boost::json::object& volume, const char** plugin,
                              bool* on_tmpfs);
  Result<std::string> ServiceAccountToken(const boost::json::object& pod, const std::string& volume,
                                          const boost::json::object& source);
  Result<std::string> WriteEtcHosts(const boost::json::object& pod, const std::vector<std::string>& pod_ips);
  Result<std::string> ClaimPath(const boost::json::object& pod, const boost::json::object& claim_source);
  int64_t Now() const;

  // The lock of one pod's files (created on first use, dropped from the map at TearDown; the
  // holder keeps the mutex alive).
  struct PodLock {
    std::shared_ptr<std::mutex> mutex;
    std::unique_lock<std::mutex> lock;  // declared last: unlocked before the mutex may go
  };
  PodLock LockPod(const std::string& uid);

  const Options opts_;
  Lookup* lookup_;
  std::mutex mu_;  // guards tokens_ and pod_locks_
  std::map<std::string, Token> tokens_;  // by "<uid>/<volume>/<path>"
  std::map<std::string, std::shared_ptr<std::mutex>> pod_locks_;
};

// Whether a volume of `pod` shows the ConfigMap or Secret `name` of its namespace (directly or
// in a projected volume): the pods whose volumes the kubelet Updates when that object changes.
bool PodVolumesUse(const boost::json::object& pod, bool secret, const std::string& name);

}  // namespace kite::kubelet::volumes
