// ContainerdSupervisor: the agent's own containerd, as k3s runs one. It writes
// <data-dir>/agent/etc/containerd/config.toml (own root, state and socket, the CRI plugin pointed
// at the agent's CNI config and binaries and at kite's pause image), starts `containerd --config`
// as a child, waits until its CRI service answers, restarts it with back-off whenever it exits or
// is killed, and stops it on shutdown (SIGTERM, SIGKILL after a grace). Containers outlive
// containerd (their shims keep them), so an agent or containerd restart adopts them.
//
// Its config, paths and runtime handlers are containerd_config.h's.
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

#include "agent/cri/containerd_config.h"
#include "base/status.h"

namespace kite::cri {

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
