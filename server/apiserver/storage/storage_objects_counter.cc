#include "server/apiserver/storage/storage_objects_counter.h"

#include <algorithm>
#include <chrono>

#include "base/metrics.h"
#include "server/apiserver/storage/registry.h"

namespace kite::apiserver {

StorageObjectsCounter::StorageObjectsCounter(datastore::Store* store, ServedSet served, OnCount on_count)
    : store_(store), served_(std::move(served)), on_count_(std::move(on_count)) {}

void StorageObjectsCounter::Start() {
  thread_ = std::thread([this] { Run(); });
}

void StorageObjectsCounter::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void StorageObjectsCounter::Run() {
  auto& family = prometheus::BuildGauge()
                     .Name("apiserver_storage_objects")
                     .Help("Number of stored objects at the time of last check split by kind.")
                     .Register(metrics::Default());
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    lock.unlock();
    const auto set = served_();
    for (const auto& r : set->resources) {
      if (r.aggregated || std::find(r.verbs.begin(), r.verbs.end(), "watch") == r.verbs.end()) continue;  // not stored
      datastore::RangeRequest q;
      q.key = StoragePrefix(r, "");
      q.range_end = q.key;
      q.range_end.back()++;
      q.count_only = true;
      auto res = store_->Range(q);
      if (res.ok()) {
        family.Add({{"resource", QualifiedResource(r)}}).Set(static_cast<double>(res->count));
        on_count_(QualifiedResource(r), res->count);
      }
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::seconds(10), [this] { return stopping_; });
  }
}

}  // namespace kite::apiserver
