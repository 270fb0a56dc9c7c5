// Scheduler: kube-scheduler inside kite-server. It assigns pods that name this scheduler
// (spec.schedulerName "default-scheduler", the API's default) and have no spec.nodeName to
// nodes, with upstream's default profile: the scheduling queue (queue.h), the cache of nodes
// and placed pods (cache.h), the filter and score plugins (algorithm.h), DefaultPreemption
// (preemption.h) and binding through pods/binding (api_writer.h). Failures set the pod's
// PodScheduled=False condition (reason Unschedulable) and a FailedScheduling event with
// upstream's message; successes a Scheduled event.
//
// With leader election on (the default), the scheduler runs only while this process holds the
// coordination.k8s.io Lease kube-system/kube-scheduler, so several kite-servers sharing a
// datastore schedule with one scheduler; losing the lease stops scheduling until it is held
// again (upstream's kube-scheduler exits instead; kite-server keeps serving the API).
//
// Threading: Start and Stop from one thread; everything else runs on the scheduler's threads
// (the informers', one scheduling loop, the API writer's pool).
#pragma once

#include <memory>
#include <string>

#include "base/clock.h"
#include "client/transport.h"

namespace kite::scheduler {

struct SchedulerOptions {
  std::string scheduler_name = "default-scheduler";
  bool leader_elect = true;
  std::string lease_namespace = "kube-system";
  std::string lease_name = "kube-scheduler";
  std::string identity;  // leader election identity; default <hostname>_<random>
  // Concurrent API writes (bindings in flight, status patches, events).
  int api_workers = 8;
  // upstream's percentageOfNodesToScore; 0 is adaptive (50% at 100 nodes, down to 5%).
  int percentage_of_nodes_to_score = 0;
  // The scheduler's time: the timestamps it writes (PodScheduled and DisruptionTarget
  // conditions, events) and the scheduling queue's back-off and unschedulable timeouts; never
  // null, not owned.
  const kite::Clock* clock = kite::Clock::Real();
};

class Scheduler {
 public:
  // Starts at once and returns; scheduling begins when the lease is held and the caches synced.
  static std::unique_ptr<Scheduler> Start(std::shared_ptr<client::Transport> transport, SchedulerOptions options);
  ~Scheduler();  // Stop()
  void Stop();

  struct Impl;

 private:
  explicit Scheduler(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace kite::scheduler
