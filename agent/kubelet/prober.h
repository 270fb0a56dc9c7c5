// ProbeManager: the liveness, readiness and startup probes of the running containers, as
// upstream's prober manager and workers run them:
// - one worker per (container, probe kind), made when the pod workers report the container
//   running (Sync) and dropped when it stops or is replaced (a new container id starts afresh);
// - the first probe waits initialDelaySeconds from the container's start, then one each
//   periodSeconds, each bounded by timeoutSeconds; successThreshold consecutive successes or
//   failureThreshold consecutive failures change the result;
// - startup: liveness and readiness wait until it succeeds (the container's `started`); once
//   it succeeds it stops. Liveness starts as success, readiness as failure.
// - a failed liveness or startup result is final for that container (the pod worker kills it
//   and its successor gets a new worker); every failed attempt records an `Unhealthy` Event
//   ("Liveness probe failed: <output>").
// All workers share a few threads and one timer heap (no thread per probe). A result change
// calls `on_change(pod key)` (the pod workers queue a sync). Thread-safe.
#pragma once

#include <boost/json/object.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "agent/cri/runtime.h"
#include "agent/kubelet/probe_handlers.h"
#include "client/event_recorder.h"

namespace kite::kubelet {

class ProbeManager {
 public:
  using OnChange = std::function<void(const std::string& pod_key)>;
  // `events` may be null (no Events).
  ProbeManager(client::EventRecorder* events, OnChange on_change, int threads = 2);
  ~ProbeManager();  // stops the threads; on_change is not called after it returns

  struct RunningContainer {
    std::string name, id;
    int64_t started_at = 0;  // ns since the epoch, the runtime's
  };
  // The regular containers of `pod` that run now (all others' workers go).
  void Sync(const std::string& key, const boost::json::object& pod, cri::RuntimeService* runtime,
            const std::string& pod_ip, const std::vector<RunningContainer>& running);
  void RemovePod(const std::string& uid);

  struct Results {
    bool ready = false;           // readiness passed (started, without a readiness probe)
    bool started = false;         // startup passed (true without a startup probe)
    bool liveness_failed = false;
    bool startup_failed = false;
  };
  // For the container `id` of `name` in pod `uid` (defaults when no worker has looked yet).
  Results Get(const std::string& uid, const std::string& name, const std::string& id) const;

 private:
  enum class Kind { kLiveness, kReadiness, kStartup };
  enum class Outcome { kUnknown, kSuccess, kFailure };
  struct Worker {
    Kind kind;
    std::string pod_key, uid, name, container_id, pod_ip;
    boost::json::object probe, container, involved;  // spec probe; spec container; Event reference
    cri::RuntimeService* runtime = nullptr;
    std::chrono::milliseconds period{10000}, timeout{1000};
    int success_threshold = 1, failure_threshold = 3;
    // Guarded by the manager's mu_:
    Outcome result = Outcome::kUnknown;
    int successes = 0, failures = 0;
    bool stopped = false, on_hold = false;
  };
  using WorkerPtr = std::shared_ptr<Worker>;
  using Due = std::pair<std::chrono::steady_clock::time_point, WorkerPtr>;
  struct Later {
    bool operator()(const Due& a, const Due& b) const { return a.first > b.first; }
  };

  void Run();
  void Probe(const WorkerPtr& w);
  static std::string Key(const std::string& uid, const std::string& name, Kind k);
  static const char* KindName(Kind k);

  client::EventRecorder* events_;
  const OnChange on_change_;
  mutable std::mutex mu_;  // guards everything below and the workers' results
  std::condition_variable cv_;
  bool stop_ = false;
  std::unordered_map<std::string, WorkerPtr> workers_;  // by Key()
  std::priority_queue<Due, std::vector<Due>, Later> due_;
  std::vector<std::thread> threads_;
};

}  // namespace kite::kubelet
