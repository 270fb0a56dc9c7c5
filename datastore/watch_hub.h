// WatchHub: the registry of watchers and the wake-up path from the writer to them.
//
// Watchers pull events from the Mvcc change log (Watcher::Next); the hub only remembers which
// watchers are caught up ("armed") and, after each publish, wakes the armed ones whose key or
// range saw an event. So a watcher costs no buffer, an event is stored once however many
// watchers see it, and a slow consumer simply reads later (or learns it was compacted).
// Single-key watchers are indexed by key, so fan-out on one hot key does not scan every watcher.
//
// Lock order: Mvcc read lock, then the hub mutex. Wake callbacks run under the hub mutex, so
// none runs after its Watcher is destroyed; they must only flag/post, never call the store.
// Arming (a pull that found the watcher caught up) takes no hub lock.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "datastore/mvcc.h"
#include "datastore/store.h"

namespace kite::datastore {

class WatchHub {
 public:
  explicit WatchHub(const Mvcc* mvcc) : mvcc_(mvcc) {}
  ~WatchHub();

  std::unique_ptr<Watcher> Watch(const WatchOptions& opts, std::function<void()> wake);
  // Called by the writer after Mvcc::Publish moved the visible revision from `from` to `to`.
  void Notify(int64_t from_exclusive, int64_t to_inclusive);
  size_t size() const;

 private:
  class Impl;
  friend class Impl;
  void Register(Impl* w);
  void Unregister(Impl* w);
  void Arm(Impl* w);

  const Mvcc* mvcc_;
  mutable std::mutex mu_;
  std::unordered_multimap<std::string, Impl*> by_key_;  // guarded by mu_
  std::vector<Impl*> ranges_;                           // guarded by mu_
  std::atomic<size_t> armed_{0};                        // watchers with `armed` set
};

}  // namespace kite::datastore
