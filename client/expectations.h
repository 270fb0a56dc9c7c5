// Expectations (upstream's ControllerExpectations): per controller key, how many creations and
// deletions of dependents the controller has asked for and not yet seen through its informer.
// A controller does not act on a key again before its own writes are observed, so it neither
// creates twice nor deletes twice for the same need.
//
// Contract: Satisfied when nothing is expected (no entry, or both counts at or below zero), or
// when the expectation is older than 5 minutes (a lost watch event must not wedge the key).
// Time: the 5 minutes are measured on the controller's clock (SteadyNow), so a test with a
// FakeClock can expire an expectation without waiting.
// Thread-safety: every method may be called from informer handlers and workers at once.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>

#include "base/clock.h"

namespace kite::client {

class Expectations {
 public:
  // `clock` must outlive this object.
  explicit Expectations(const kite::Clock* clock = kite::Clock::Real()) : clock_(clock) {}

  bool Satisfied(const std::string& key);
  // Replaces the key's expectation with `adds` creations and `dels` deletions, from now.
  void Expect(const std::string& key, int adds, int dels);
  void CreationObserved(const std::string& key);
  void DeletionObserved(const std::string& key);
  // Forgets the key (its object is gone).
  void Delete(const std::string& key);

 private:
  struct Entry {
    int adds = 0, dels = 0;
    kite::Clock::SteadyTime at;
  };
  const kite::Clock* const clock_;
  std::mutex mu_;
  std::map<std::string, Entry> items_;
};

}  // namespace kite::client
