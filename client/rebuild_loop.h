// RebuildLoop: for a component that serves a whole snapshot built from informers' caches (kite-dns's
// zone, kite-ingress's routes): any event on the watched informers marks the snapshot dirty, and
// the loop's own thread calls `rebuild`, which reads the caches and publishes what it built.
//
// Contract:
// - The first rebuild runs only once every informer of the factory has its first list (a
//   snapshot of a half-listed cluster would answer "not found" for what exists); Ready() is true
//   from the end of that first rebuild.
// - Events arriving while a rebuild runs are folded into the next one: a burst costs one or two
//   rebuilds, and whoever serves the snapshot never waits for one.
// - Start() starts the informers and the thread; Stop() (idempotent, also the destructor) stops
//   both and returns when no rebuild runs. `informers` must outlive the loop.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <vector>
#include <mutex>
#include <thread>

#include "client/informer.h"

namespace kite::client {

class RebuildLoop {
 public:
  RebuildLoop(InformerFactory* informers, const std::vector<Informer*>& watched, std::function<void()> rebuild);
  ~RebuildLoop();

  void Start();
  void Stop();
  bool Ready() const { return ready_.load(); }

 private:
  void Run();
  void MarkDirty();

  InformerFactory* informers_;
  std::function<void()> rebuild_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool dirty_ = true, stopping_ = false;  // guarded by mu_
  std::atomic<bool> ready_{false};
  std::thread thread_;
};

}  // namespace kite::client
