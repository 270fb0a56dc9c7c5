// LeaderElector: leader election on a coordination.k8s.io/v1 Lease, as client-go's
// leaderelection does, so several kite-servers sharing one datastore run one set of
// controllers. The holder renews every `retry_period`; it gives up leadership when it could not
// renew within `renew_deadline`; others take the lease over once it has not changed for the
// leaseDurationSeconds its holder wrote, by their own clock (the leader's clock is never
// compared with theirs). Stop releases the lease (empty holderIdentity) so a successor need not
// wait. Times are read on the Clock given at construction (the real one by default); the
// thread's waits between attempts are real.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "base/clock.h"
#include "client/client.h"

namespace kite::client {

struct LeaderElectionConfig {
  std::string lease_namespace = "kube-system";
  std::string lease_name;      // e.g. kube-controller-manager
  std::string identity;        // unique per process: hostname_uuid
  std::chrono::milliseconds lease_duration{15000}, renew_deadline{10000}, retry_period{2000};
};

class LeaderElector {
 public:
  LeaderElector(const Client* client, LeaderElectionConfig config, const kite::Clock* clock = kite::Clock::Real());
  ~LeaderElector();  // Stop()

  // Runs the election on its own thread: on_started when this process becomes leader,
  // on_stopped when it loses leadership (it may become leader again later).
  void Start(std::function<void()> on_started, std::function<void()> on_stopped);
  void Stop();
  bool IsLeader() const;

 private:
  bool TryAcquireOrRenew();
  void Run();
  const Client* client_;
  LeaderElectionConfig config_;
  const kite::Clock* const clock_;
  std::function<void()> on_started_, on_stopped_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false, leader_ = false;
  std::string observed_rv_;                       // last seen lease resourceVersion
  std::chrono::steady_clock::time_point observed_at_{}, renewed_at_{};
  std::thread thread_;
};

}  // namespace kite::client
