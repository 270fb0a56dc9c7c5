#include "server/scheduler/scheduler.h"

#include <unistd.h>

#include <mutex>
#include <random>

#include "base/log.h"
#include "client/leader_election.h"
#include "server/scheduler/scheduling_loop.h"

namespace kite::scheduler {

namespace {

std::string Hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

std::string RandomSuffix() {
  static const char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::string s;
  for (int i = 0; i < 16; ++i) s += kHex[rd() % 16];
  return s;
}

}  // namespace

struct Scheduler::Impl {
  SchedulerOptions options;
  client::Client client;
  std::unique_ptr<client::LeaderElector> elector;
  std::mutex mu;  // guards loop
  std::unique_ptr<SchedulingLoop> loop;

  Impl(std::shared_ptr<client::Transport> transport, SchedulerOptions o)
      : options(std::move(o)), client(std::move(transport)) {}

  void StartLoop() {
    auto l = std::make_unique<SchedulingLoop>(&client, options, options.scheduler_name + "-" + Hostname());
    std::lock_guard<std::mutex> lock(mu);
    loop = std::move(l);
  }
  void StopLoop() {
    std::unique_ptr<SchedulingLoop> l;
    {
      std::lock_guard<std::mutex> lock(mu);
      l = std::move(loop);
    }
    l.reset();  // joins its threads, outside the lock
  }
};

Scheduler::Scheduler(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Scheduler::~Scheduler() { Stop(); }

std::unique_ptr<Scheduler> Scheduler::Start(std::shared_ptr<client::Transport> transport, SchedulerOptions options) {
  auto impl = std::make_unique<Impl>(std::move(transport), std::move(options));
  Impl* i = impl.get();
  if (!i->options.leader_elect) {
    i->StartLoop();
  } else {
    client::LeaderElectionConfig cfg;
    cfg.lease_namespace = i->options.lease_namespace;
    cfg.lease_name = i->options.lease_name;
    cfg.identity = i->options.identity.empty() ? Hostname() + "_" + RandomSuffix() : i->options.identity;
    i->elector = std::make_unique<client::LeaderElector>(&i->client, cfg);
    i->elector->Start([i] { i->StartLoop(); },
                      [i] {
                        KITE_LOG(0) << "scheduler: lost the lease, scheduling stops until it is held again";
                        i->StopLoop();
                      });
  }
  return std::unique_ptr<Scheduler>(new Scheduler(std::move(impl)));
}

void Scheduler::Stop() {
  if (!impl_) return;
  // Scheduling stops first, so the lease is released only once no decision is in flight.
  impl_->StopLoop();
  if (impl_->elector) impl_->elector->Stop();
  impl_->StopLoop();  // in case the elector started one meanwhile
  impl_.reset();
}

}  // namespace kite::scheduler
