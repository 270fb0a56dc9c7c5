// kite-history-memory: what keeping the last --compact-interval of history costs in memory.
//
// Automatic compaction keeps every revision younger than the compaction interval (so a paged
// list's continue token or a watch resume stays good that long, as upstream's 5-minute
// compaction does), and the store holds its history in memory. This drives one in-process
// SQLite store (a temporary directory) with `rate` puts per second of `value-bytes` values
// over `keys` keys for `seconds`, and prints the process RSS before and after, the revisions
// held, and the memory per retained revision:
//
//   history_memory interval_ms=... rate=... seconds=... revisions_held=... rss_before_mb=...
//       rss_after_mb=... bytes_per_revision=...
//
// Run it twice, with the interval equal to `seconds` (history of the whole run kept) and with
// a short one (only --compact-min-retain revisions kept, the behaviour before), to see the cost.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include "base/flags.h"
#include "datastore/store.h"

namespace {

double RssMb() {
  std::ifstream f("/proc/self/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace kite;
  int64_t rate = 1000, seconds = 60, value_bytes = 1500, keys = 5000, interval_ms = 60'000, retain = 1000;
  FlagSet flags("kite-history-memory");
  flags.Int("rate", &rate, "puts per second");
  flags.Int("seconds", &seconds, "how long to write");
  flags.Int("value-bytes", &value_bytes, "bytes per value (a pod's JSON is 1.5-4 KB)");
  flags.Int("keys", &keys, "distinct keys written round-robin");
  flags.Int("interval-ms", &interval_ms, "the compaction interval: history younger than this is kept");
  flags.Int("retain", &retain, "--compact-min-retain");
  if (auto s = flags.Parse(argc, argv, ""); !s.ok()) {
    std::cerr << s.message() << "\n" << flags.Usage();
    return 2;
  }
  auto dir = std::filesystem::temp_directory_path() / ("kite-history-memory-" + std::to_string(::getpid()));
  datastore::StoreOptions o;
  o.data_dir = dir.string();
  o.durability = datastore::Durability::kRelaxed;  // memory does not depend on fsyncs
  o.compaction_interval_ms = interval_ms;
  o.compaction_retain_revisions = retain;
  o.quota_bytes = -1;
  auto opened = datastore::OpenSqliteStore(o);
  if (!opened.ok()) {
    std::cerr << opened.status().message() << "\n";
    return 1;
  }
  auto& store = *opened.value();
  // The live data first, so the figure after is the history's cost alone.
  const std::string value(static_cast<size_t>(value_bytes), 'v');
  for (int64_t k = 0; k < keys; ++k) (void)store.Put("/registry/pods/default/p" + std::to_string(k), value);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const double before = RssMb();
  const int64_t rev_before = store.CurrentRevision();

  std::atomic<int64_t> inflight{0}, errors{0};
  const auto start = std::chrono::steady_clock::now();
  const auto tick = std::chrono::milliseconds(10);
  int64_t sent = 0;
  for (auto next = start; next < start + std::chrono::seconds(seconds); next += tick) {
    std::this_thread::sleep_until(next);
    const int64_t due = rate * std::chrono::duration_cast<std::chrono::milliseconds>(next - start + tick).count() / 1000;
    for (; sent < due; ++sent) {
      datastore::TxnRequest t;
      datastore::PutRequest p;
      p.key = "/registry/pods/default/p" + std::to_string(sent % keys);
      p.value = std::make_shared<const std::string>(value);
      t.success.push_back(datastore::RequestOp{std::move(p)});
      ++inflight;
      store.Txn(std::move(t), [&](Result<datastore::TxnResponse> r) {
        if (!r.ok()) ++errors;
        --inflight;
      });
    }
  }
  while (inflight > 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  std::this_thread::sleep_for(std::chrono::seconds(1));  // a compaction tick or four
  const auto st = store.Status();
  const double after = RssMb();
  const int64_t held = st.revision - std::max(st.compact_revision, rev_before);
  std::printf("history_memory interval_ms=%lld rate=%lld seconds=%lld value_bytes=%lld writes=%lld errors=%lld "
              "revisions_held=%lld rss_before_mb=%.1f rss_after_mb=%.1f bytes_per_revision=%.0f db_mb=%.1f\n",
              static_cast<long long>(interval_ms), static_cast<long long>(rate), static_cast<long long>(seconds),
              static_cast<long long>(value_bytes), static_cast<long long>(sent), static_cast<long long>(errors.load()),
              static_cast<long long>(held), before, after,
              held > 0 ? (after - before) * 1024 * 1024 / static_cast<double>(held) : 0.0,
              static_cast<double>(st.db_size) / (1024 * 1024));
  opened.value().reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
