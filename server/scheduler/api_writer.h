// ApiWriter: the scheduler's writes to the Kubernetes API, made on a small pool of worker
// threads so the scheduling loop never waits for the API: bindings (POST pods/<name>/binding,
// several in flight), pod status patches (the PodScheduled condition, status.nominatedNodeName)
// and preemption victims (DisruptionTarget condition, then delete); its core/v1 Events go through
// the asynchronous EventRecorder (client/event_recorder.h), the one event path of kite.
//
// - Bindings, status patches and deletions are never dropped; Events are best effort: the
//   recorder's queue is bounded (1,000, as client-go's event broadcaster drops when its buffer is
//   full) and written by kEventWriters threads, and an Event repeating an earlier one for the
//   same pod (reason and message) increments that Event's count instead of creating another, as
//   client-go's event correlator does.
// - Events are written as core/v1 Events (what `kubectl describe` and `kubectl get events`
//   read) with source.component and reportingComponent "default-scheduler".
//
// - Bindings are asynchronous where the client's transport is (the in-process one): up to
//   kMaxBindsInFlight wait for their writes at once without holding a thread each, as upstream
//   binds in a goroutine per pod. A binding is mostly waiting for its commit, so with a few
//   threads each blocked on one, the writes in flight — not the CPU — set the binding rate
//   (measured in bench/RESULTS.md: 8 blocking workers bound ~2,800 pods/s, 128 ~6,100).
//   Other transports bind on the worker threads.
//
// Threading: every method may be called from any thread; callbacks run on a worker thread or
// a transport thread, and must not call the client synchronously.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "base/clock.h"
#include "client/client.h"
#include "client/event_recorder.h"
#include "server/scheduler/pod_info.h"

namespace kite::scheduler {

class ApiWriter {
 public:
  // `clock`: the time of the timestamps written (conditions' lastTransitionTime, events); not
  // owned, outlives the writer.
  ApiWriter(const client::Client* client, int workers, std::string component, std::string instance,
            const kite::Clock* clock = kite::Clock::Real());
  ~ApiWriter();  // Stop()
  // Finishes queued bindings, patches and deletions, drops queued events, joins the workers.
  void Stop();
  // Waits until the Events recorded so far are written (or dropped): for tests.
  void FlushEvents() { recorder_.Flush(); }

  // Binds `pod` to `node`; `done` gets nullptr on success or the API's error.
  void Bind(PodInfoPtr pod, std::string node, std::function<void(const kite::Status*)> done);
  // Sets the PodScheduled condition (status False, `reason`, `message`) and, if given, the
  // nominated node ("" clears it). The caller checks that something changes (NeedsStatusUpdate).
  void UpdatePodStatus(PodInfoPtr pod, std::string reason, std::string message, std::optional<std::string> nominated);
  // Sets annotation `key` of PersistentVolumeClaim ns/name to `value` (VolumeBinding's
  // selected-node, for the provisioner).
  void AnnotateClaim(std::string ns, std::string name, std::string key, std::string value);
  // Clears status.nominatedNodeName.
  void ClearNomination(PodInfoPtr pod);
  // Preemption of `victim` for `preemptor` on `node`: DisruptionTarget condition, delete, and a
  // "Preempted" event on the victim.
  void Preempt(PodInfoPtr victim, PodInfoPtr preemptor, std::string node);
  // A core/v1 Event about `pod` (type Normal or Warning).
  void Event(const PodInfo& pod, const std::string& type, const std::string& reason, const std::string& action,
             const std::string& message);

  size_t dropped_events() const;

  // Bindings sent and not yet answered, at most. A 50k backlog on 5,000 hollow nodes bound at
  // 4,600-5,000 pods/s with 256, 5,085-6,132 with 1,024 (bench/RESULTS.md, 2026-12-04).
  static constexpr int kMaxBindsInFlight = 1024;
  // The recorder's writer threads. An in-process Event create blocks its writer until its
  // group commit, so the Events of a backlog (one per pod bound, thousands a second) need many
  // writes in flight to drain a 1,000-Event queue; but each is a durable write competing with
  // the bindings for the same two cores: 16 writers halved the binding rate of a backlog
  // (bench/history/cluster_bench.md, 2026-12-06), 8 are as many as wrote them before (the
  // workers, between status patches). What a burst still drops is counted (dropped_events, and
  // the recorder's log line every 100); bench/run_cluster_bench.sh counts what is stored.
  static constexpr size_t kEventWriters = 8;

 private:
  struct BindOp {
    PodInfoPtr pod;
    std::string node;
    std::function<void(const kite::Status*)> done;
  };
  // Shared with the answers still on their way, which may outlive this writer (Stop gives up
  // waiting for them after a while): once `closed`, an answer is dropped.
  struct Binds {
    std::mutex mu;  // held while a completion runs, so Stop() cannot pass one midway
    std::condition_variable cv;
    int in_flight = 0;
    bool closed = false;
    std::deque<std::shared_ptr<BindOp>> waiting;  // over kMaxBindsInFlight
  };
  void SendBind(std::shared_ptr<BindOp> op);
  void Completed(const BindOp& op, const kite::Status* err);
  void Work();
  void Submit(std::function<void()> task);

  const client::Client* client_;
  const kite::Clock* clock_;
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // never dropped
  bool stopping_ = false;
  std::vector<std::thread> workers_;
  const bool async_binds_;
  const std::shared_ptr<Binds> binds_ = std::make_shared<Binds>();

  client::EventRecorder recorder_;  // asynchronous; folds repeated events (see the contract above)
};

// Whether patching the PodScheduled condition to (False, reason, message) and the nominated
// node (if given) would change `pod`'s status (upstream's updatePod skips no-op patches).
bool NeedsStatusUpdate(const PodInfo& pod, const std::string& reason, const std::string& message,
                       const std::optional<std::string>& nominated);

}  // namespace kite::scheduler
