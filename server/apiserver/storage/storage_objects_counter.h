// apiserver_storage_objects{resource="pods"}: the objects stored per served resource, recounted
// every 10 s on a thread of its own (a count-only range per resource; no object is read). Each
// count is also handed to `on_count`, which the max-in-flight filter uses to size a LIST.
//
// Threading: Start and Stop from one thread; `served` and `on_count` run on the counter's thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "api/resources.h"
#include "datastore/store.h"

namespace kite::apiserver {

class StorageObjectsCounter {
 public:
  // The resources served now (built-ins and CRDs); only those with a watch verb are stored.
  using ServedSet = std::function<std::shared_ptr<const api::ResourceSet>()>;
  // A resource ("pods", "deployments.apps") and its count.
  using OnCount = std::function<void(const std::string& qualified_resource, int64_t count)>;

  // `store` outlives the counter.
  StorageObjectsCounter(datastore::Store* store, ServedSet served, OnCount on_count);
  ~StorageObjectsCounter() { Stop(); }

  void Start();
  // Ends the thread (idempotent); no count is handed out after it returns.
  void Stop();

 private:
  void Run();

  datastore::Store* const store_;
  const ServedSet served_;
  const OnCount on_count_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;  // guarded by mu_
};

}  // namespace kite::apiserver
