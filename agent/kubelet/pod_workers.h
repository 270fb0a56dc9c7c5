// PodWorkers: what the kubelet does for the pods bound to its nodes (spec.nodeName), as
// upstream's pod workers, SyncPod, PLEG and status manager do, through each node's container
// runtime (agent/cri/). Level-triggered: a sync of a pod reads what the runtime has of it (its
// sandboxes and containers, found by the labels io.kubernetes.pod.uid and
// io.kubernetes.container.name) and acts to make it match the spec:
// - a ready sandbox (a new one, attempt+1, when it is gone or not ready; its IP is the pod's);
// - init containers one at a time, each to exit 0, then the containers; images pulled by
//   imagePullPolicy (Pulling/Pulled Events; ErrImagePull, then ImagePullBackOff while backing
//   off); postStart hooks after a start;
// - a container that exited is restarted as restartPolicy says (Always / OnFailure / Never),
//   with upstream's CrashLoopBackOff per container (container_backoff.h); its successor has
//   attempt+1, which is the restartCount;
// - a container whose liveness or startup probe failed (prober.h) is killed and restarted;
// - ephemeral containers (spec.ephemeralContainers, added by `kubectl debug` through the
//   pods/ephemeralcontainers subresource) start once each, in the PID namespace of their
//   targetContainerName, and are never restarted (upstream's computePodActions);
// - errors become waiting reasons: CreateContainerConfigError (from MakeContainerConfig),
//   CreateContainerError, RunContainerError, ErrImagePull, ImagePullBackOff, ErrImageNeverPull;
// - activeDeadlineSeconds passed: containers killed, phase Failed reason DeadlineExceeded;
// - a pod being deleted (deletionTimestamp): preStop hooks, then StopContainer with what is left
//   of the grace period (deletionGracePeriodSeconds, else terminationGracePeriodSeconds), the
//   sandbox removed, then the status manager's final delete;
// - a pod that reached Succeeded or Failed has its sandbox stopped (its IP goes back) but kept,
//   with its containers and their logs, until the pod is deleted (as upstream);
// - the status (pod_status.h) is written only when it differs from what was last written (or,
//   after a restart of this process, from what the API has), so `kubectl get pods -w` shows
//   each step of a pod's life once.
// A relist thread (upstream's PLEG) lists every node's sandboxes and containers each
// `relist_period` and queues a sync of the pods whose runtime state changed, so a container
// that exits or is killed is noticed within a period. Runtime pods whose API pod is gone are
// removed. A restart of the process adopts what runs: nothing is recreated.
// Events (Pulling, Pulled, Created, Started, Killing, BackOff, Unhealthy, Failed…) go through
// `events` when given. `start_latency` delays the start of a pod from when it was first seen
// (kite-hollow's simulated start-up time; 0 for a kubelet).
//
// Pods come from PodSources (pod_sources.h): static pods from the manifest directory run even
// with no API server, their status goes to their mirror pods when those exist, and a key no
// source knows before the API has synced is looked at again later, never treated as gone.
//
// Threading: syncs run on the controller runner's workers (never two for one pod); the relist
// thread and the probe threads only queue keys; a deleted pod's termination runs on a thread of
// its own (Terminate), which the destructor waits for (Stopping makes that quick).
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "agent/kubelet/container_backoff.h"
#include "agent/kubelet/node_set.h"
#include "agent/kubelet/pod_config.h"
#include "agent/kubelet/pod_sources.h"
#include "agent/kubelet/pod_status.h"
#include "agent/kubelet/prober.h"
#include "agent/kubelet/status_manager.h"
#include "client/client.h"
#include "client/controller.h"
#include "client/event_recorder.h"

namespace kite::kubelet {

class PodWorkers final : public client::Controller {
 public:
  struct Options {
    std::chrono::milliseconds start_latency{0};
    std::chrono::milliseconds relist_period{1000};
    int workers = 4;
    // CrashLoopBackOff and ImagePullBackOff (upstream: 10 s doubling to 5 min); tests shorten them.
    ContainerBackoff::Duration backoff_initial = ContainerBackoff::kInitial;
    ContainerBackoff::Duration backoff_max = ContainerBackoff::kMax;
    int probe_threads = 2;
    // The pod → runtime translation, volumes and pull credentials (pod_config.h); null:
    // MinimalPodConfig (kite-hollow's). Must outlive the pod workers.
    PodConfig* config = nullptr;
    // Every running pod is synced again this often (upstream's --sync-frequency, 1 min); 0: only
    // on events and runtime changes (kite-hollow).
    std::chrono::milliseconds resync_period{0};
    // Where the pods come from (pod_sources.h): the node's static pods and the API's. Null: the
    // API's only (kite-hollow), attached by Init. Given: the caller attaches the API source, so
    // the pod workers may run (static pods) before the informers sync. Must outlive the workers.
    PodSources* sources = nullptr;
  };
  // `events` may be null (kite-hollow writes none). `clock`: wall time for back-off and deadlines.
  PodWorkers(NodeSet* nodes, const StatusManager* status, client::EventRecorder* events, Options opts,
             const Clock* clock = Clock::Real());
  ~PodWorkers() override;

  void Init(client::InformerFactory& informers) override;
  Status Reconcile(const std::string& key) override;

  // Node-pressure eviction (eviction/eviction_manager.h): the pod of `uid` has its containers
  // killed within `grace_s` and ends Failed with reason Evicted and `message`, with a Warning
  // Evicted event. Queued; the pod's next sync does it.
  void Evict(const std::string& key, const std::string& uid, std::string message, int64_t grace_s);

  // Why a pod may not start on this node (upstream's PodAdmitResult).
  struct Rejection {
    std::string reason, message;
  };
  // Upstream's admit handlers: asked in turn, once per pod before its first sandbox (a pod the
  // runtime already runs, as after a restart, is admitted). A rejected pod starts nothing and
  // ends Failed with `reason` and "Pod was rejected: <message>", with a Warning event. Add
  // them before the controller runs.
  using AdmitHandler = std::function<std::optional<Rejection>(const boost::json::object& pod)>;
  void AddAdmitHandler(AdmitHandler h) { admit_.push_back(std::move(h)); }

  // The process is stopping, before the runtime's calls are cut short: no more status writes
  // (a sync cut short would report its runtime call's failure) and the terminations under way are
  // left to the next start, which adopts the pods and finishes them (their containers got their
  // stop signal and run on, as upstream's kubelet leaves them). The destructor then waits only
  // for the terminator threads to notice.
  void Stopping();

  // For tests and metrics: syncs of live pods finished, and status writes sent (counted before
  // they are sent).
  int64_t syncs() const { return syncs_.load(); }
  int64_t status_writes() const { return writes_.load(); }

 private:
  // What this process knows of one pod beyond the runtime and the API (per uid: a re-created
  // pod of the same name starts over). Lost on restart, which costs nothing but a back-off reset.
  struct PodState {
    std::string uid;
    std::chrono::steady_clock::time_point seen{};  // first sync on our node
    std::string sandbox_id, pod_ip;                // of the current sandbox
    // Why a container is not running, from the last attempt to start it: (reason, message).
    std::map<std::string, std::pair<std::string, std::string>> waiting;
    std::map<std::string, Clock::WallTime> pull_failed;  // container → last failed pull
    // Containers of a replaced sandbox: their next attempt (the restart count goes on).
    std::map<std::string, uint32_t> next_attempt;
    boost::json::object written;  // the status last written (empty: none since we started)
    std::string written_to;       // the uid of the API object it went to (a static pod's mirror)
    bool terminal = false;        // Succeeded/Failed written and the sandbox stopped
    // A terminal status decided (rejected, evicted, past its deadline) whose write failed: the
    // terminal pod is not synced again, so its retry writes this, until the API has it.
    boost::json::object unwritten;
    bool admitted = false;        // the admit handlers let it start (asked once)
    bool is_static = false;       // from the file source: its status goes to its mirror pod
    bool gate_reported = false;   // the Event saying why its sandbox waits was recorded
    int failures = 0;             // consecutive failed API writes / runtime calls
  };
  // One pod as the runtime has it.
  struct RuntimePod {
    std::vector<cri::PodSandbox> sandboxes;
    // By container name, newest attempt first.
    std::unordered_map<std::string, std::vector<cri::ContainerStatus>> containers;
  };
  // What relist saw of a pod uid.
  struct Seen {
    std::string key, node, fingerprint;
    bool from_file = false;  // its sandbox is a static pod's (annotated config.source=file, no mirror)
  };

  // ---- pod_workers.cc ----
  void Relist();
  void RelistLoop();
  Status SyncGone(const std::string& key);
  // No source knows `key` yet (the API has not listed): true when what the runtime has of it is
  // only static pods' (their manifests are gone, which needs no API to know).
  bool OnlyStaticInRuntime(const std::string& key);
  // A pod being deleted: preStop hooks, stops within its grace period, the final delete, on a
  // thread of its own (a grace period must not hold a sync worker; upstream's pod workers are
  // one goroutine per pod). Once per uid at a time.
  void Terminate(const std::string& key, const boost::json::object& pod, const Node& node, int64_t grace_s);
  void KillStaleUids(const std::string& key, const Node& node, const std::string& keep_uid);
  // Stops every container (preStop first) within `grace_s`, then stops the sandboxes (their IPs
  // go back) and, with `remove`, removes them with their containers. A pod that finished keeps
  // them (remove false), as upstream's kubelet does until the pod is deleted, so `kubectl logs`
  // still reads a completed pod's containers.
  void KillPod(const Node& node, const boost::json::object* pod, const std::string& uid, int64_t grace_s,
               bool remove = true);
  // Stops one container: Killing Event with `message`, preStop, StopContainer with what is left of `grace_s`.
  void KillContainer(const Node& node, const boost::json::object* pod, const boost::json::object* spec,
                     const std::string& field_path, const std::string& id, const std::string& pod_ip, int64_t grace_s,
                     const std::string& message);
  // Writes `status` when it differs from the last one; Status::Ok on NotFound (the pod went).
  Status WriteStatus(const std::string& key, const boost::json::object& pod, boost::json::object status, PodState& st);
  void Retry(const std::string& key, PodState& st, const std::string& what, const std::string& message);
  void Event(const boost::json::object& pod, const std::string& field_path, const char* type, const char* reason,
             const std::string& message);

  // ---- pod_sync.cc ----
  Status SyncPod(const std::string& key, const boost::json::object& pod, const Node& node, PodState& st);
  Result<RuntimePod> Observe(const Node& node, const std::string& uid);
  // Starts `spec` (attempt `attempt`): config, image, create, start, postStart. False when it
  // did not get to run (the reason is in st.waiting). `pid_target`: an ephemeral container's
  // target (the runtime id of the container whose processes it sees).
  bool StartContainer(const std::string& key, const boost::json::object& pod, const Node& node, PodState& st,
                      const boost::json::object& spec, const std::string& field_path, uint32_t attempt,
                      const cri::PodSandboxConfig& sandbox, const std::string& pid_target = {});
  // spec.ephemeralContainers (kubectl debug): each started once, never restarted.
  void StartEphemeral(const std::string& key, const boost::json::object& pod, const Node& node, PodState& st,
                      const RuntimePod& rp, const cri::PodSandboxConfig& sandbox);
  bool EnsureImage(const std::string& key, const boost::json::object& pod, const Node& node, PodState& st,
                   const boost::json::object& spec, const std::string& field_path, const cri::PodSandboxConfig& sandbox);
  // An exited container that should run again: now, or after its back-off.
  void Restart(const std::string& key, const boost::json::object& pod, const Node& node, PodState& st,
               const boost::json::object& spec, const std::string& field_path, const cri::ContainerStatus& last,
               const cri::PodSandboxConfig& sandbox);
  PodView MakeView(const boost::json::object& pod, const Node& node, const PodState& st, const RuntimePod& rp,
                   bool sandbox_ready);

  NodeSet* nodes_;
  const StatusManager* status_;
  client::EventRecorder* events_;
  const Options opts_;
  std::unique_ptr<PodConfig> own_config_;  // when Options::config is null
  PodConfig* config_;
  const Clock* clock_;
  std::unique_ptr<PodSources> own_sources_;  // when Options::sources is null
  PodSources* sources_;
  ContainerBackoff crash_backoff_, pull_backoff_;
  std::unique_ptr<ProbeManager> probes_;
  std::atomic<int64_t> syncs_{0}, writes_{0};

  std::mutex mu_;  // guards state_, seen_ and relist stop (the queue never hands one key to two workers)
  std::unordered_map<std::string, PodState> state_;  // by key
  std::unordered_map<std::string, Seen> seen_;       // by uid, from the last relist
  std::unordered_map<std::string, std::vector<std::string>> uids_by_key_;  // seen_'s uids per key
  std::condition_variable relist_cv_;
  bool stop_ = false;
  std::thread relist_;
  std::unordered_map<std::string, bool> terminating_;  // uids; guarded by mu_
  std::unordered_map<std::string, std::pair<std::string, int64_t>> evictions_;  // uid → (message, grace); mu_
  std::vector<AdmitHandler> admit_;  // set before the runner starts; read-only after
  std::unordered_map<std::string, std::string> runtime_names_;  // node → runtime name; guarded by mu_
  int terminators_ = 0;                                // running terminator threads; guarded by mu_
  std::condition_variable terminators_cv_;
};

}  // namespace kite::kubelet
