// StoreMetrics: the datastore's Prometheus metrics, under etcd's names where etcd has one (so
// etcd dashboards work against kite-server), registered once in the default registry.
#pragma once

#include "base/metrics.h"

namespace kite::datastore {

struct StoreMetrics {
  prometheus::Gauge& db_size;
  prometheus::Gauge& db_in_use;
  prometheus::Gauge& keys;
  prometheus::Gauge& current_rev;
  prometheus::Gauge& compact_rev;
  prometheus::Gauge& watchers;
  prometheus::Histogram& commit_seconds;
  prometheus::Histogram& batch_size;
  prometheus::Counter& txns;
  prometheus::Counter& ranges;

  static StoreMetrics& Get();
};

}  // namespace kite::datastore
