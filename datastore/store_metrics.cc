#include "datastore/store_metrics.h"

namespace kite::datastore {

StoreMetrics& StoreMetrics::Get() {
  auto& r = metrics::Default();
  static StoreMetrics m{
      prometheus::BuildGauge().Name("etcd_mvcc_db_total_size_in_bytes")
          .Help("Total size of the underlying database physically allocated in bytes.").Register(r).Add({}),
      prometheus::BuildGauge().Name("etcd_mvcc_db_total_size_in_use_in_bytes")
          .Help("Total size of the underlying database logically in use in bytes.").Register(r).Add({}),
      // etcd's name ends in _total, which Prometheus keeps for counters (promtool rejects it).
      prometheus::BuildGauge().Name("etcd_debugging_mvcc_keys")
          .Help("Total number of keys.").Register(r).Add({}),
      prometheus::BuildGauge().Name("etcd_debugging_mvcc_current_revision")
          .Help("The current revision of store.").Register(r).Add({}),
      prometheus::BuildGauge().Name("etcd_debugging_mvcc_compact_revision")
          .Help("The revision of the last compaction in store.").Register(r).Add({}),
      prometheus::BuildGauge().Name("etcd_debugging_mvcc_watcher")
          .Help("Total number of watchers.").Register(r).Add({}),
      prometheus::BuildHistogram().Name("etcd_disk_backend_commit_duration_seconds")
          .Help("The latency distributions of commit called by backend.").Register(r)
          .Add({}, metrics::ExponentialBuckets(0.001, 2, 14)),
      prometheus::BuildHistogram().Name("kite_datastore_group_commit_requests")
          .Help("Write requests that shared one database transaction (group commit).").Register(r)
          .Add({}, metrics::ExponentialBuckets(1, 2, 12)),
      prometheus::BuildCounter().Name("etcd_mvcc_txn_total")
          .Help("Total number of write transactions seen by this member.").Register(r).Add({}),
      prometheus::BuildCounter().Name("etcd_mvcc_range_total")
          .Help("Total number of ranges seen by this member.").Register(r).Add({}),
  };
  return m;
}

}  // namespace kite::datastore
