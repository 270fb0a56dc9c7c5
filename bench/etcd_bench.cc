// kite-etcd-bench: drives the etcd v3 gRPC API of one endpoint (kite-server or a real etcd) and
// prints one machine-readable line per figure on stdout:
//
//   <workload> target=<label> key=value ...
//
// so that bench/run_etcd_compare.sh can run the same workloads against two servers side by side
// and compare them. Diagnostics go to stderr.
//
// Load model: closed loop. `c` concurrent clients each keep exactly one request in flight; they
// are multiplexed over a few HTTP/2 connections and driven by gRPC's asynchronous API from one
// completion-queue thread (configurable), so 256 clients cost 256 small state machines, not 256
// OS threads competing with the server for the two cores of a small machine.
//
// Latencies are measured per request (issue -> completion seen by the client thread), so they
// include client-side queueing when the client thread is busy. Both servers pay the same cost.

#include "bench/bench_common.h"

#include <functional>
#include <optional>

namespace kite_bench {
namespace {
// ---------------------------------------------------------------------------------------------
// Closed-loop driver for unary Put / Range.

enum class OpKind { kPut, kGet };

struct LoopSpec {
  OpKind kind = OpKind::kPut;
  int clients = 1;
  int conns = 1;
  Clock::duration duration = std::chrono::seconds(5);
  int64_t max_ops = INT64_MAX;
  std::string key_prefix;
  int64_t key_space = 1;
  std::string value;
  bool sequential_keys = false;  // key i % key_space for the i-th op (else uniform random)
  int cq_threads = 1;
  std::chrono::milliseconds rpc_timeout{30000};
  // Called from the completion thread with each successful put's revision.
  std::atomic<int64_t>* max_revision = nullptr;
  std::atomic<int64_t>* progress = nullptr;
};

struct LoopResult {
  int64_t ops = 0;
  int64_t errors = 0;
  double secs = 0;
  std::vector<double> lat_ms;
  std::string first_error;
};

struct Call {
  LoopSpec* spec = nullptr;
  pb::KV::Stub* stub = nullptr;
  std::mt19937_64 rng;
  Clock::time_point start;
  std::unique_ptr<grpc::ClientContext> ctx;
  grpc::Status status;
  pb::PutRequest put_req;
  pb::RangeRequest range_req;
  pb::PutResponse put_resp;
  pb::RangeResponse range_resp;
  std::unique_ptr<grpc::ClientAsyncResponseReader<pb::PutResponse>> put_rpc;
  std::unique_ptr<grpc::ClientAsyncResponseReader<pb::RangeResponse>> range_rpc;
  // Touched only by the thread that handles this call's completion.
  std::vector<double> lat_ms;
  int64_t errors = 0;
  std::string first_error;
};

LoopResult RunClosedLoop(Connections& conns, LoopSpec spec) {
  grpc::CompletionQueue cq;
  std::atomic<int64_t> issued{0};
  std::atomic<int64_t> outstanding{spec.clients};
  std::atomic<int64_t> seq{0};
  std::vector<std::unique_ptr<Call>> calls;
  for (int i = 0; i < spec.clients; ++i) {
    auto c = std::make_unique<Call>();
    c->spec = &spec;
    c->stub = conns.kv(static_cast<size_t>(i % spec.conns));
    c->rng.seed(0x9e3779b97f4a7c15ULL * static_cast<uint64_t>(i + 1));
    c->lat_ms.reserve(1 << 14);
    calls.push_back(std::move(c));
  }

  auto issue = [&](Call* c) {
    int64_t k = spec.sequential_keys ? seq.fetch_add(1) % spec.key_space
                                     : static_cast<int64_t>(c->rng() % static_cast<uint64_t>(spec.key_space));
    c->ctx = std::make_unique<grpc::ClientContext>();
    c->ctx->set_deadline(std::chrono::system_clock::now() + spec.rpc_timeout);
    c->start = Clock::now();
    if (spec.kind == OpKind::kPut) {
      c->put_req.set_key(KeyName(spec.key_prefix, k));
      c->put_req.set_value(spec.value);
      c->put_rpc = c->stub->AsyncPut(c->ctx.get(), c->put_req, &cq);
      c->put_rpc->Finish(&c->put_resp, &c->status, c);
    } else {
      c->range_req.set_key(KeyName(spec.key_prefix, k));
      c->range_rpc = c->stub->AsyncRange(c->ctx.get(), c->range_req, &cq);
      c->range_rpc->Finish(&c->range_resp, &c->status, c);
    }
  };

  auto t0 = Clock::now();
  auto deadline = t0 + spec.duration;
  std::atomic<int64_t> last_done_ns{0};
  int started = 0;
  for (auto& c : calls) {
    if (issued.fetch_add(1) < spec.max_ops) {
      issue(c.get());
      ++started;
    } else {
      outstanding.fetch_sub(1);
    }
  }
  if (started == 0) cq.Shutdown();

  auto worker = [&] {
    void* tag;
    bool ok;
    while (cq.Next(&tag, &ok)) {
      auto* c = static_cast<Call*>(tag);
      auto now = Clock::now();
      if (c->status.ok()) {
        c->lat_ms.push_back(Ms(now - c->start));
        if (spec.kind == OpKind::kPut && spec.max_revision) {
          int64_t rev = c->put_resp.header().revision();
          int64_t cur = spec.max_revision->load(std::memory_order_relaxed);
          while (rev > cur && !spec.max_revision->compare_exchange_weak(cur, rev)) {
          }
        }
        if (spec.progress) spec.progress->fetch_add(1, std::memory_order_relaxed);
      } else {
        if (c->errors++ == 0)
          c->first_error = std::to_string(c->status.error_code()) + " " + c->status.error_message();
      }
      if (now < deadline && issued.fetch_add(1) < spec.max_ops) {
        issue(c);
      } else {
        int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - t0).count();
        int64_t prev = last_done_ns.load();
        while (ns > prev && !last_done_ns.compare_exchange_weak(prev, ns)) {
        }
        if (outstanding.fetch_sub(1) == 1) cq.Shutdown();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < spec.cq_threads; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();

  LoopResult r;
  r.secs = static_cast<double>(last_done_ns.load()) / 1e9;
  for (auto& c : calls) {
    r.ops += static_cast<int64_t>(c->lat_ms.size());
    r.errors += c->errors;
    if (r.first_error.empty()) r.first_error = c->first_error;
    r.lat_ms.insert(r.lat_ms.end(), c->lat_ms.begin(), c->lat_ms.end());
  }
  return r;
}

void PrintLoop(const std::string& name, const Options& o, int clients, int conns, LoopResult& r,
               const std::string& extra = "") {
  double p50 = Percentile(r.lat_ms, 0.50);
  double p99 = Percentile(r.lat_ms, 0.99);
  double ops_per_s = r.secs > 0 ? static_cast<double>(r.ops) / r.secs : 0;
  std::printf("%s target=%s c=%d conns=%d ops=%" PRId64 " errors=%" PRId64
              " secs=%s ops_per_s=%s p50_ms=%s p99_ms=%s%s\n",
              name.c_str(), o.label.c_str(), clients, conns, r.ops, r.errors, Fmt(r.secs).c_str(),
              Fmt(ops_per_s, 1).c_str(), Fmt(p50).c_str(), Fmt(p99).c_str(), extra.c_str());
  std::fflush(stdout);
  if (r.errors) std::fprintf(stderr, "%s: %" PRId64 " errors, first: %s\n", name.c_str(), r.errors,
                             r.first_error.c_str());
}

int ConnsFor(const Options& o, int clients) {
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>(clients, o.max_conns)));
}

LoopSpec BaseSpec(const Options& o, OpKind kind, int clients) {
  LoopSpec s;
  s.kind = kind;
  s.clients = clients;
  s.conns = ConnsFor(o, clients);
  s.cq_threads = static_cast<int>(o.cq_threads);
  s.duration = std::chrono::milliseconds(o.duration_ms);
  s.rpc_timeout = std::chrono::milliseconds(o.rpc_timeout_ms);
  s.value = Value(o.value_size, 42);
  return s;
}

// ---------------------------------------------------------------------------------------------

bool RunPut(const Options& o, Connections& conns) {
  std::stringstream ss(o.put_clients);
  std::string item;
  bool ok = true;
  while (std::getline(ss, item, ',')) {
    int c = std::stoi(item);
    LoopSpec s = BaseSpec(o, OpKind::kPut, c);
    s.key_prefix = o.prefix + "/put/";
    s.key_space = o.key_space;
    auto r = RunClosedLoop(conns, s);
    PrintLoop("put", o, c, s.conns, r);
    ok = ok && r.errors == 0 && r.ops > 0;
  }
  return ok;
}

std::string ListPrefix(const Options& o) { return o.prefix + "/list/"; }

// Makes sure the list prefix holds o.list_keys keys (loads them at 64 clients when it doesn't).
bool EnsureListKeys(const Options& o, Connections& conns) {
  pb::RangeRequest req;
  req.set_key(ListPrefix(o));
  req.set_range_end(PrefixEnd(ListPrefix(o)));
  req.set_count_only(true);
  pb::RangeResponse resp;
  grpc::ClientContext ctx;
  auto st = conns.kv(0)->Range(&ctx, req, &resp);
  if (!st.ok()) {
    std::fprintf(stderr, "count range failed: %s\n", st.error_message().c_str());
    return false;
  }
  if (resp.count() >= o.list_keys) return true;
  LoopSpec s = BaseSpec(o, OpKind::kPut, 64);
  s.key_prefix = ListPrefix(o);
  s.key_space = o.list_keys;
  s.sequential_keys = true;
  s.max_ops = o.list_keys;
  s.duration = std::chrono::hours(1);
  auto r = RunClosedLoop(conns, s);
  PrintLoop("load", o, s.clients, s.conns, r, " keys=" + std::to_string(o.list_keys));
  return r.errors == 0;
}

bool RunGet(const Options& o, Connections& conns) {
  if (!EnsureListKeys(o, conns)) return false;
  int c = static_cast<int>(o.get_clients);
  LoopSpec s = BaseSpec(o, OpKind::kGet, c);
  s.key_prefix = ListPrefix(o);
  s.key_space = o.list_keys;
  auto r = RunClosedLoop(conns, s);
  PrintLoop("get", o, c, s.conns, r);
  return r.errors == 0 && r.ops > 0;
}

bool RunList(const Options& o, Connections& conns) {
  if (!EnsureListKeys(o, conns)) return false;
  std::vector<double> lat;
  int64_t errors = 0, kvs = 0, bytes = 0;
  auto t0 = Clock::now();
  auto deadline = t0 + std::chrono::milliseconds(o.duration_ms * 4);
  for (int64_t i = 0; i < o.list_calls && Clock::now() < deadline; ++i) {
    pb::RangeRequest req;
    req.set_key(ListPrefix(o));
    req.set_range_end(PrefixEnd(ListPrefix(o)));
    pb::RangeResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(o.rpc_timeout_ms));
    auto start = Clock::now();
    auto st = conns.kv(0)->Range(&ctx, req, &resp);
    auto end = Clock::now();
    if (!st.ok()) {
      if (errors++ == 0) std::fprintf(stderr, "list: %s\n", st.error_message().c_str());
      continue;
    }
    lat.push_back(Ms(end - start));
    kvs = resp.kvs_size();
    bytes = static_cast<int64_t>(resp.ByteSizeLong());
  }
  double secs = Ms(Clock::now() - t0) / 1000;
  size_t n = lat.size();
  std::printf("list target=%s c=1 calls=%zu errors=%" PRId64 " keys=%" PRId64 " resp_bytes=%" PRId64
              " secs=%s p50_ms=%s p99_ms=%s\n",
              o.label.c_str(), n, errors, kvs, bytes, Fmt(secs).c_str(), Fmt(Percentile(lat, 0.5)).c_str(),
              Fmt(Percentile(lat, 0.99)).c_str());
  std::fflush(stdout);
  return errors == 0 && kvs == o.list_keys;
}

// ---------------------------------------------------------------------------------------------

bool PrintRss(const Options& o, const char* name) {
  if (o.server_pid <= 0) return true;
  std::ifstream f("/proc/" + std::to_string(o.server_pid) + "/status");
  if (!f) {
    std::fprintf(stderr, "rss: cannot read status of pid %" PRId64 "\n", o.server_pid);
    return false;
  }
  std::string line, rss = "0", hwm = "0", threads = "0";
  while (std::getline(f, line)) {
    auto field = [&](const char* name, std::string* out) {
      if (line.rfind(name, 0) == 0) {
        std::istringstream is(line.substr(std::string(name).size()));
        is >> *out;
      }
    };
    field("VmRSS:", &rss);
    field("VmHWM:", &hwm);
    field("Threads:", &threads);
  }
  std::printf("%s target=%s pid=%" PRId64 " vmrss_kb=%s vmhwm_kb=%s threads=%s\n", name, o.label.c_str(),
              o.server_pid, rss.c_str(), hwm.c_str(), threads.c_str());
  std::fflush(stdout);
  return true;
}

int64_t DirBytes(const std::string& dir, int64_t* allocated) {
  int64_t total = 0;
  *allocated = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    struct stat st;
    if (::lstat(it->path().c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      total += st.st_size;
      *allocated += static_cast<int64_t>(st.st_blocks) * 512;
    }
  }
  return total;
}

bool PrintStatus(const Options& o, Connections& conns, const std::string& name, const std::string& extra) {
  auto channel = grpc::CreateChannel(o.endpoint, grpc::InsecureChannelCredentials());
  auto stub = pb::Maintenance::NewStub(channel);
  pb::StatusResponse resp;
  grpc::ClientContext ctx;
  auto st = stub->Status(&ctx, pb::StatusRequest(), &resp);
  if (!st.ok()) {
    std::fprintf(stderr, "status: %s\n", st.error_message().c_str());
    return false;
  }
  // Live data: every key and value the server holds now (a full range, paged).
  int64_t live = 0, live_keys = 0;
  std::string from(1, '\0');
  for (;;) {
    pb::RangeRequest req;
    req.set_key(from);
    req.set_range_end(std::string(1, '\0'));
    req.set_limit(5000);
    pb::RangeResponse r;
    grpc::ClientContext rctx;
    auto rst = conns.kv(0)->Range(&rctx, req, &r);
    if (!rst.ok()) {
      std::fprintf(stderr, "status: full range: %s\n", rst.error_message().c_str());
      return false;
    }
    for (const auto& kv : r.kvs()) live += static_cast<int64_t>(kv.key().size() + kv.value().size());
    live_keys += r.kvs_size();
    if (!r.more() || r.kvs_size() == 0) break;
    from = r.kvs(r.kvs_size() - 1).key() + std::string(1, '\0');
  }
  if (live == 0) live = 1;
  std::string dir;
  if (!o.data_dir.empty()) {
    int64_t alloc = 0;
    int64_t bytes = DirBytes(o.data_dir, &alloc);
    dir = " dir_bytes=" + std::to_string(bytes) + " dir_alloc_bytes=" + std::to_string(alloc) +
          " dir_ratio=" + Fmt(static_cast<double>(bytes) / static_cast<double>(live), 2);
  }
  std::printf("%s target=%s revision=%" PRId64 " live_keys=%" PRId64 " live_bytes=%" PRId64 " db_size=%" PRId64
              " db_size_in_use=%" PRId64 " db_ratio=%s%s%s\n",
              name.c_str(), o.label.c_str(), resp.header().revision(), live_keys, live, resp.dbsize(),
              resp.dbsizeinuse(), Fmt(static_cast<double>(resp.dbsize()) / static_cast<double>(live), 2).c_str(),
              dir.c_str(), extra.c_str());
  std::fflush(stdout);
  return true;
}

// Compacts the server to (revision - compact_retain) every compact_interval_ms, as a client
// would (kube-apiserver does every 5 minutes), until destroyed. `head` gives the revision to
// count back from; without it the compactor asks the server (a one-key Range's header).
class Compactor {
 public:
  Compactor(const Options& o, Connections& conns, std::function<int64_t()> head = nullptr)
      : o_(o), conns_(conns), head_(std::move(head)) {
    if (o_.compact_interval_ms > 0) thread_ = std::thread([this] { Loop(); });
  }
  ~Compactor() { Stop(); }
  void Stop() {
    done_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int64_t compactions() const { return compactions_.load(); }

 private:
  int64_t ServerRevision() {
    pb::RangeRequest req;
    req.set_key(o_.prefix + "/compactor");
    req.set_count_only(true);
    pb::RangeResponse resp;
    grpc::ClientContext ctx;
    return conns_.kv(0)->Range(&ctx, req, &resp).ok() ? resp.header().revision() : 0;
  }
  void Loop() {
    int64_t last = 0;
    while (!done_.load()) {
      for (int64_t slept = 0; slept < o_.compact_interval_ms && !done_.load(); slept += 50)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      if (done_.load()) break;
      int64_t rev = (head_ ? head_() : ServerRevision()) - o_.compact_retain;
      if (rev <= last) continue;
      pb::CompactionRequest req;
      req.set_revision(rev);
      pb::CompactionResponse resp;
      grpc::ClientContext ctx;
      auto st = conns_.kv(0)->Compact(&ctx, req, &resp);
      if (st.ok()) {
        ++compactions_;
        last = rev;
      } else {
        std::fprintf(stderr, "compact %" PRId64 ": %s\n", rev, st.error_message().c_str());
      }
    }
  }

  const Options& o_;
  Connections& conns_;
  std::function<int64_t()> head_;
  std::atomic<bool> done_{false};
  std::atomic<int64_t> compactions_{0};
  std::thread thread_;
};

// 1k keys updated db_updates times in total while compaction runs (the server's own, or ours
// with --compact-interval-ms), then the on-disk size against the live data size.
bool RunDbSize(const Options& o, Connections& conns) {
  std::atomic<int64_t> max_rev{0}, progress{0};
  std::atomic<bool> done{false};
  Compactor compactor(o, conns, [&max_rev] { return max_rev.load(); });
  std::thread reporter([&] {
    int64_t step = std::max<int64_t>(1, o.db_updates / 10), next = step;
    while (!done.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      if (progress.load() >= next) {
        std::fprintf(stderr, "dbsize %s: %" PRId64 " updates\n", o.label.c_str(), progress.load());
        next += step;
      }
    }
  });
  LoopSpec s = BaseSpec(o, OpKind::kPut, static_cast<int>(o.db_clients));
  s.key_prefix = o.prefix + "/db/";
  s.key_space = o.db_keys;
  s.sequential_keys = true;
  s.max_ops = o.db_updates;
  s.duration = std::chrono::hours(24);
  s.max_revision = &max_rev;
  s.progress = &progress;
  auto r = RunClosedLoop(conns, s);
  PrintLoop("dbload", o, s.clients, s.conns, r);
  // Compaction (the server's or ours) keeps running while the load settles.
  if (o.settle_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(o.settle_ms));
  done = true;
  compactor.Stop();
  reporter.join();
  std::string extra = " updates=" + std::to_string(r.ops) + " keys=" + std::to_string(o.db_keys) +
                      " value_bytes=" + std::to_string(o.value_size) +
                      " bench_compactions=" + std::to_string(compactor.compactions());
  return PrintStatus(o, conns, "dbsize", extra) && r.errors == 0;
}

}  // namespace
}  // namespace kite_bench

using namespace kite_bench;  // NOLINT: main of this program

int main(int argc, char** argv) {
  Options o;
  kite::FlagSet flags("kite-etcd-bench");
  flags.String("endpoint", &o.endpoint, "etcd v3 gRPC endpoint host:port");
  flags.String("label", &o.label, "name printed as target= on every result line");
  flags.String("mode", &o.mode,
               "all (put,get,list,watch,rss) | put | get | list | watch | rss | dbsize | status | ping");
  flags.String("prefix", &o.prefix, "key prefix for everything the bench writes");
  flags.String("put-clients", &o.put_clients, "comma-separated concurrencies for the put workload");
  flags.Int("duration-ms", &o.duration_ms, "duration of each put/get run");
  flags.Int("max-conns", &o.max_conns, "clients are spread over min(clients, this) connections");
  flags.Int("cq-threads", &o.cq_threads, "client completion-queue threads");
  flags.Int("key-space", &o.key_space, "put: keys are chosen uniformly from this many");
  flags.Int("value-size", &o.value_size, "bytes per value");
  flags.Int("get-clients", &o.get_clients, "concurrency of the single-key get workload");
  flags.Int("list-keys", &o.list_keys, "keys under the listed prefix (loaded if missing)");
  flags.Int("list-calls", &o.list_calls, "full-prefix Range calls (bounded by 4x duration-ms)");
  flags.Int("watchers", &o.watchers, "watchers on one key");
  flags.Int("watch-streams", &o.watch_streams, "watch streams, one connection each");
  flags.Int("watch-events", &o.watch_events, "puts to the watched key");
  flags.Int("watch-interval-ms", &o.watch_interval_ms, "pause after each acknowledged put");
  flags.Int("server-pid", &o.server_pid, "print VmRSS/VmHWM of this process");
  flags.Int("db-updates", &o.db_updates, "dbsize: total updates");
  flags.Int("db-keys", &o.db_keys, "dbsize: distinct keys");
  flags.Int("db-clients", &o.db_clients, "dbsize: concurrency");
  flags.Int("compact-interval-ms", &o.compact_interval_ms,
            "the bench itself compacts to (revision - compact-retain) this often, in every mode (0: never)");
  flags.Int("compact-retain", &o.compact_retain, "revisions kept by the bench's compactions");
  flags.Int("settle-ms", &o.settle_ms, "dbsize: wait this long after the load before measuring");
  flags.String("data-dir", &o.data_dir, "dbsize/status: also sum the file sizes under this dir");
  flags.Int("rpc-timeout-ms", &o.rpc_timeout_ms, "deadline of each RPC");
  auto st = flags.Parse(argc, argv);
  if (flags.help_requested()) {
    std::printf("%s", flags.Usage().c_str());
    return 0;
  }
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n%s", st.ToString().c_str(), flags.Usage().c_str());
    return 2;
  }

  int nconns = static_cast<int>(std::max<int64_t>({1, o.max_conns, o.watch_streams}));
  Connections conns(o.endpoint, nconns);
  if (!conns.WaitConnected(std::chrono::seconds(o.mode == "ping" ? 2 : 10))) {
    std::fprintf(stderr, "cannot connect to %s\n", o.endpoint.c_str());
    return 1;
  }
  bool ok = true;
  const std::string& m = o.mode;
  // dbsize runs its own (counting back from the revisions it saw written).
  std::optional<Compactor> compactor;
  if (m != "dbsize") compactor.emplace(o, conns);
  if (m == "all" || m == "put") ok = RunPut(o, conns) && ok;
  if (m == "all" || m == "get") ok = RunGet(o, conns) && ok;
  if (m == "all" || m == "list") ok = RunList(o, conns) && ok;
  if (m == "all" || m == "watch") ok = RunWatch(o, conns) && ok;
  if (m == "dbsize") ok = RunDbSize(o, conns) && ok;
  if (m == "status") ok = PrintStatus(o, conns, "status", "") && ok;
  if (m == "ping") {
    pb::RangeRequest req;
    req.set_key(o.prefix + "/ping");
    pb::RangeResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    ok = conns.kv(0)->Range(&ctx, req, &resp).ok();
    std::printf("ping target=%s ok=%d revision=%" PRId64 "\n", o.label.c_str(), ok ? 1 : 0,
                resp.header().revision());
  }
  if (m == "all" || m == "rss") ok = PrintRss(o, "rss") && ok;
  if (m == "dbsize") ok = PrintRss(o, "rss_after_dbsize") && ok;
  return ok ? 0 : 1;
}
