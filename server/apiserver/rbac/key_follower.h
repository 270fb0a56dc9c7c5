// KeyFollower: keeps an in-memory view of some datastore prefixes up to date. It reads every
// key under the prefixes at one revision, then follows their changes with datastore watchers
// on a thread of its own (one watcher per prefix), handing each put and delete to `apply` —
// each key's changes in revision order, different prefixes in no particular order — and calling
// `settled` after each batch that changed something. The authorizers build their indexes with it, so a decision reads
// memory, never the datastore.
//
// Threading: `apply` and `settled` run on the follower's thread (the initial load runs in the
// constructor's thread). `WaitFor` may be called from any thread.
#pragma once

#include <boost/json.hpp>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "datastore/store.h"

namespace kite::apiserver {

class KeyFollower {
 public:
  // `value` is null for a delete.
  using Apply = std::function<void(const std::string& key, const datastore::Value& value)>;
  KeyFollower(datastore::Store* store, std::vector<std::string> prefixes, Apply apply, std::function<void()> settled);
  ~KeyFollower();
  KeyFollower(const KeyFollower&) = delete;
  KeyFollower& operator=(const KeyFollower&) = delete;

  // Stops following: joins the thread and drops the watchers. Must run before the store goes
  // away; idempotent (the destructor calls it).
  void Stop();

  // A value handed to `apply` as a JSON object: nullopt for a delete or for anything that is not
  // a JSON object (the authorizers then index nothing for that key).
  static std::optional<boost::json::object> DecodeObject(const datastore::Value& value);

  // Blocks until every change up to the store's current revision has been applied, or `timeout_ms`
  // passed. For the rare paths that must see a write just made (escalation checks).
  void WaitForCurrent(int timeout_ms);

 private:
  void Load(int64_t revision);
  void Run();

  datastore::Store* store_;
  std::vector<std::string> prefixes_;
  Apply apply_;
  std::function<void()> settled_;
  std::vector<std::unique_ptr<datastore::Watcher>> watchers_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = true;    // guarded by mu_
  bool stopping_ = false;  // guarded by mu_
  int64_t applied_ = 0;    // guarded by mu_: every change up to here is applied
  std::condition_variable applied_cv_;
  std::thread thread_;
};

}  // namespace kite::apiserver
