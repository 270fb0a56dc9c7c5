// ContainerdSupervisor: the agent's own containerd, as k3s runs one. It writes
// <data-dir>/agent/etc/containerd/config.toml (own root, state and socket, the CRI plugin pointed
// at the agent's CNI config and binaries and at kite's pause image), starts `containerd --config`
// as a child, waits until its CRI service answers, restarts it with back-off whenever it exits or
// is killed, and stops it on shutdown (SIGTERM, SIGKILL after a grace). Containers outlive
// containerd (their shims keep them), so an agent or containerd restart adopts them.
//
// Paths for data dir D (the state dir is under /run, a tmpfs, as containerd expects, and unique
// per data dir so several agents on one machine never share one):
//   D/agent/etc/containerd/config.toml    generated; rewritten only when it changes
//   D/agent/containerd/                   root (images, snapshots, metadata)
//   D/agent/containerd/containerd.log     containerd's output
//   /run/kite/<id>/containerd/            state; containerd.sock is the CRI endpoint;
//                                         netns/ holds the pods' network namespaces
// where <id> is the first 12 hex digits of the SHA-256 of D's absolute path.
//
// When containerd cannot work here (not root, no containerd or runc, no cgroups) Start() says
// exactly why in one sentence (a FailedPrecondition Status) and problem() keeps it: the node's
// Ready condition shows it. Thread-safety: every method may be called from any thread.
// `--container-runtime-endpoint` means no supervisor at all: the agent only makes a CriClient.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "base/status.h"

namespace kite::cri {

struct ContainerdOptions {
  std::string data_dir;                    // the agent's --data-dir (made absolute)
  std::string sandbox_image;               // the pause image (--pause-image)
  std::string containerd_binary = "containerd";  // a name looked up on PATH, or a path
  std::string cni_bin_dir = "/usr/lib/cni";
  std::string cni_conf_dir;                // default: D/agent/etc/cni/net.d
  int stream_server_port = 0;              // on 127.0.0.1; 0: any free port
  std::string snapshotter;                 // "": overlayfs when it mounts here, else native
  // TOML appended to config.toml as is: the registry configuration (mirrors, auth, TLS) that
  // agent/cri/registries.h produces from registries.yaml.
  std::string registry_toml;
  std::chrono::milliseconds stop_grace{std::chrono::seconds(10)};
  // Restart back-off: doubles from min to max; reset after containerd ran `backoff_reset` long.
  std::chrono::milliseconds backoff_min{std::chrono::milliseconds(500)};
  std::chrono::milliseconds backoff_max{std::chrono::seconds(30)};
  std::chrono::milliseconds backoff_reset{std::chrono::minutes(2)};
};

// The paths the supervisor uses for a data dir (see above); pure.
struct ContainerdPaths {
  std::string config_file, root, state, socket, log_file, cni_conf_dir;
  static ContainerdPaths For(const std::string& data_dir);
};

// What the supervisor finds out about the host before it writes the config.
struct ContainerdHostFacts {
  std::string snapshotter = "overlayfs";  // overlayfs when it mounts here, else native
  // Without CAP_SYS_RESOURCE (some sandboxes and VMs drop it) no process may lower its
  // oom_score_adj, and runc fails to start the pause container (-998): containerd's
  // restrict_oom_score_adj then raises such values to its own.
  bool restrict_oom_score_adj = false;
};

// config.toml's text for these options, paths and host facts; pure.
std::string ContainerdConfigToml(const ContainerdOptions& options, const ContainerdPaths& paths,
                                 const ContainerdHostFacts& facts);

// Why containerd cannot run on this host, in one sentence; "" when it can (root, containerd and
// runc found, a cgroup filesystem mounted).
std::string ContainerdPreflight(const std::string& containerd_binary);

class ContainerdSupervisor {
 public:
  explicit ContainerdSupervisor(ContainerdOptions options);
  ~ContainerdSupervisor();  // Stop()
  ContainerdSupervisor(const ContainerdSupervisor&) = delete;
  ContainerdSupervisor& operator=(const ContainerdSupervisor&) = delete;

  // Checks the host, writes the config, starts containerd and waits until its CRI service
  // answers, at most `ready_timeout`. Errors: FailedPrecondition (cannot work here: problem()),
  // Unavailable (did not become ready: it keeps being restarted in the background).
  kite::Status Start(std::chrono::milliseconds ready_timeout = std::chrono::seconds(60));
  // Stops containerd (SIGTERM, SIGKILL after the grace) and the supervision; idempotent.
  void Stop();

  // Waits until containerd answers CRI again (after a restart), at most `timeout`.
  kite::Status WaitReady(std::chrono::milliseconds timeout);

  const ContainerdPaths& paths() const { return paths_; }
  std::string endpoint() const { return "unix://" + paths_.socket; }
  const std::string& snapshotter() const { return snapshotter_; }
  // containerd's pid now (0 while it is not running); how many times it was restarted.
  int pid() const;
  int restarts() const;
  // Why containerd is not running or not ready, in one sentence; "" when it is ready.
  std::string problem() const;

 private:
  void Supervise();  // the supervision thread
  int Spawn(std::string* error);  // fork/exec containerd: its pid, or -1 and why

  const ContainerdOptions options_;
  const ContainerdPaths paths_;
  std::string snapshotter_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  int pid_ = 0;            // guarded by mu_; nonzero until the child is reaped
  bool ready_ = false;     // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  bool done_ = false;      // guarded by mu_: the supervision thread has ended
  int restarts_ = 0;       // guarded by mu_
  std::string problem_;    // guarded by mu_
  std::mutex stop_mu_;  // serialises Start/Stop (thread_ is started and joined under it)
  std::thread thread_;
};

}  // namespace kite::cri
