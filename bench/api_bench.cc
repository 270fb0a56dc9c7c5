// kite-api-bench: drives the Kubernetes API of kite-server over HTTPS, as the k-bench runs of
// the ICPE'23 comparison of lightweight distributions did (k3s, k0s, MicroK8s, MicroShift), and
// prints one machine-readable line per figure on stdout:
//
//   <figure> target=<label> key=value ...
//
// for bench/run_api_bench.sh to collect. Diagnostics go to stderr. Modes:
//
//   verbs     `--clients` workers, each with one keep-alive HTTP/1.1 TLS connection and one
//             request in flight (closed loop), run the phases create, get, list (limit=500),
//             list_small (limit=20), patch (merge patch adding a label) and delete of pods, one
//             after the other; `--ops` requests per phase in total (lists: `--list-ops`). One
//             line per phase.
//   list10k   fills the namespace to `--list-pods` pods (`--fill-clients` workers), then lists
//             them whole (no limit) and page by page (limit=500 with continue tokens).
//   watchers  `--watchers` watches (one connection each, asio coroutines on `--watch-threads`
//             threads) of a namespace, then `--watch-events` pod creations there; delivery
//             latency of every event to every watcher (api_watch.cc).
//   readyz    polls /readyz until it answers 200 and reports the time since `--since-ns`
//             (CLOCK_REALTIME ns when the caller started kite-server, e.g. `date +%s%N`).
//
// Latency is per request: from before the request is written to after the whole response is
// read, on the client's thread. The client shares the machine with the server.
#include "bench/api_bench.h"

#include <boost/json.hpp>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cctype>
#include <cinttypes>
#include <fstream>
#include <iterator>
#include <latch>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "base/encoding.h"
#include "base/flags.h"

namespace kite_api_bench {

std::shared_ptr<ssl::context> TlsContext(const Kubeconfig& kc) {
  auto tls = kite::MakeTlsContext(kc);
  if (!tls.ok()) throw std::runtime_error(tls.status().message());
  return std::move(tls.value());
}

bool EnsureNamespace(HttpsConnection& c, const std::string& ns) {
  std::string body = R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":")" + ns + R"("}})";
  auto r = c.Do(http::verb::post, "/api/v1/namespaces", body);
  if (r.status == 201 || r.status == 409) return true;
  std::fprintf(stderr, "create namespace %s: %d %s%s\n", ns.c_str(), r.status, r.error.c_str(), r.body.c_str());
  return false;
}

std::string PodJson(const Options& o, const std::string& ns, const std::string& name, const std::string& client_label,
                    const std::string& run) {
  return R"({"apiVersion":"v1","kind":"Pod","metadata":{"name":")" + name + R"(","namespace":")" + ns +
         R"(","labels":{"app":"kite-api-bench","client":")" + client_label + R"(","run":")" + run +
         R"("}},"spec":{"containers":[{"name":"app","image":"registry.k8s.io/pause:3.9",)"
         R"("ports":[{"containerPort":8080,"protocol":"TCP"}],)"
         R"("resources":{"requests":{"cpu":"10m","memory":"16Mi"},"limits":{"memory":"32Mi"}}}],)"
         R"("restartPolicy":"Always","terminationGracePeriodSeconds":30)" +
         (o.automount_token ? "" : R"(,"automountServiceAccountToken":false)") + "}}";
}

std::string RunId() {
  std::random_device rd;
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (int i = 0; i < 6; ++i) id += hex[rd() % 16];
  return id;
}

std::string ServerRssKb(int64_t pid) {
  if (pid <= 0) return "";
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream is(line.substr(6));
      std::string kb;
      is >> kb;
      return kb;
    }
  }
  return "";
}

double ProcessCpuMs(int64_t pid) {
  if (pid <= 0) return -1;
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = stat.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream is(stat.substr(close + 2));  // fields from 3 (state) on
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && is >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) * 1000.0 / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double SelfCpuMs() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto ms = [](const timeval& t) { return static_cast<double>(t.tv_sec) * 1000 + static_cast<double>(t.tv_usec) / 1000; };
  return ms(ru.ru_utime) + ms(ru.ru_stime);
}

namespace {

// ---------------------------------------------------------------------------------------------
// Closed-loop phases: `clients` workers with one connection each, the same start line.

struct OpResult {
  bool ok = false;
  std::string error;  // when !ok
};

struct PhaseResult {
  std::vector<double> lat_ms;
  int64_t errors = 0;
  std::string first_error;
  double secs = 0;
  double server_cpu_ms = -1;  // kite-server's user+system CPU during the phase (-1: no --server-pid)
  double client_cpu_ms = 0;   // this process's
};

// Runs `ops` operations split over the clients (client k does every k-th op index); `op` is
// called with (client index, op index) and times itself via the returned latency.
template <class Op>
PhaseResult RunPhase(std::vector<std::unique_ptr<HttpsConnection>>& clients, int64_t ops, int64_t server_pid, Op op) {
  const size_t n = clients.size();
  std::vector<std::vector<double>> lat(n);
  std::vector<int64_t> errors(n, 0);
  std::vector<std::string> first(n);
  std::latch start(static_cast<std::ptrdiff_t>(n) + 1);
  std::vector<std::thread> threads;
  for (size_t k = 0; k < n; ++k) {
    threads.emplace_back([&, k] {
      lat[k].reserve(static_cast<size_t>(ops / static_cast<int64_t>(n) + 1));
      start.arrive_and_wait();
      for (int64_t i = static_cast<int64_t>(k); i < ops; i += static_cast<int64_t>(n)) {
        auto t0 = Clock::now();
        OpResult r = op(*clients[k], k, i);
        auto t1 = Clock::now();
        if (r.ok) {
          lat[k].push_back(Ms(t1 - t0));
        } else if (errors[k]++ == 0) {
          first[k] = r.error;
        }
      }
    });
  }
  const double server0 = ProcessCpuMs(server_pid), client0 = SelfCpuMs();
  start.arrive_and_wait();
  auto t0 = Clock::now();
  for (auto& t : threads) t.join();
  PhaseResult out;
  out.secs = Ms(Clock::now() - t0) / 1000;
  const double server1 = ProcessCpuMs(server_pid);
  out.server_cpu_ms = server0 >= 0 && server1 >= 0 ? server1 - server0 : -1;
  out.client_cpu_ms = SelfCpuMs() - client0;
  for (size_t k = 0; k < n; ++k) {
    out.lat_ms.insert(out.lat_ms.end(), lat[k].begin(), lat[k].end());
    out.errors += errors[k];
    if (out.first_error.empty()) out.first_error = first[k];
  }
  return out;
}

void PrintPhase(const Options& o, const std::string& name, size_t clients, const PhaseResult& r,
                const std::string& extra = "") {
  double ops_per_s = r.secs > 0 ? static_cast<double>(r.lat_ms.size()) / r.secs : 0;
  double mean = 0;
  for (double v : r.lat_ms) mean += v;
  const double nops = std::max<double>(1, static_cast<double>(r.lat_ms.size()));
  if (!r.lat_ms.empty()) mean /= nops;
  std::string cpu = " client_cpu_us_per_op=" + Fmt(r.client_cpu_ms * 1000 / nops, 1);
  if (r.server_cpu_ms >= 0) cpu += " server_cpu_us_per_op=" + Fmt(r.server_cpu_ms * 1000 / nops, 1);
  std::printf("%s target=%s clients=%zu ops=%zu errors=%" PRId64 " secs=%s ops_per_s=%s p50_ms=%s p99_ms=%s"
              " mean_ms=%s max_ms=%s%s%s\n",
              name.c_str(), o.label.c_str(), clients, r.lat_ms.size(), r.errors, Fmt(r.secs).c_str(),
              Fmt(ops_per_s, 1).c_str(), Fmt(Percentile(r.lat_ms, 0.5)).c_str(),
              Fmt(Percentile(r.lat_ms, 0.99)).c_str(), Fmt(mean).c_str(), Fmt(Percentile(r.lat_ms, 1.0)).c_str(),
              extra.c_str(), cpu.c_str());
  std::fflush(stdout);
  if (r.errors) std::fprintf(stderr, "%s: %" PRId64 " errors, first: %s\n", name.c_str(), r.errors, r.first_error.c_str());
}

OpResult Expect(const HttpsReply& r, std::initializer_list<int> codes) {
  for (int c : codes)
    if (r.status == c) return {true, ""};
  std::string body = r.body.substr(0, 300);
  return {false, r.status ? std::to_string(r.status) + " " + body : r.error};
}

bool ConnectAll(std::vector<std::unique_ptr<HttpsConnection>>& clients, const Options& o, const Kubeconfig& kc,
                const std::shared_ptr<ssl::context>& tls, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    clients.push_back(std::make_unique<HttpsConnection>(kc, tls, "kite-api-bench"));
    std::string err;
    if (!clients.back()->Connect(&err)) {
      std::fprintf(stderr, "%s\n", err.c_str());
      return false;
    }
  }
  return true;
}

// Items in a list response, and its continue token.
bool ParseList(const std::string& body, size_t* items, std::string* cont) {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return false;
  const auto* it = v.as_object().if_contains("items");
  *items = it && it->is_array() ? it->as_array().size() : 0;
  cont->clear();
  if (const auto* m = v.as_object().if_contains("metadata"); m && m->is_object()) {
    if (const auto* c = m->as_object().if_contains("continue"); c && c->is_string()) *cont = std::string(c->as_string());
  }
  return true;
}

std::string PodsPath(const std::string& ns) { return "/api/v1/namespaces/" + ns + "/pods"; }

// ---------------------------------------------------------------------------------------------

bool RunVerbs(const Options& o, const Kubeconfig& kc) {
  auto tls = TlsContext(kc);
  std::vector<std::unique_ptr<HttpsConnection>> clients;
  if (!ConnectAll(clients, o, kc, tls, std::max<int64_t>(1, o.clients))) return false;
  if (!EnsureNamespace(*clients[0], o.ns)) return false;
  const std::string run = RunId();
  const std::string base = PodsPath(o.ns);
  auto name_of = [&](size_t k, int64_t i) { return "v" + run + "-" + std::to_string(k) + "-" + std::to_string(i); };
  bool ok = true;
  const size_t n = clients.size();

  auto create = RunPhase(clients, o.ops, o.server_pid, [&](HttpsConnection& c, size_t k, int64_t i) {
    return Expect(c.Do(http::verb::post, base, PodJson(o, o.ns, name_of(k, i), "c" + std::to_string(k), run)), {201});
  });
  PrintPhase(o, "create", n, create);
  ok = ok && create.errors == 0;

  auto get = RunPhase(clients, o.ops, o.server_pid, [&](HttpsConnection& c, size_t k, int64_t i) {
    return Expect(c.Do(http::verb::get, base + "/" + name_of(k, i)), {200});
  });
  PrintPhase(o, "get", n, get);
  ok = ok && get.errors == 0;

  // The namespace holds the `ops` pods just created (plus whatever else is there).
  std::atomic<size_t> items_seen{0};
  const std::string list_target = base + "?limit=" + std::to_string(o.list_limit);
  auto list = RunPhase(clients, o.list_ops, o.server_pid, [&](HttpsConnection& c, size_t k, int64_t i) {
    auto r = c.Do(http::verb::get, list_target);
    auto res = Expect(r, {200});
    if (res.ok && i < static_cast<int64_t>(n)) {  // parse one response per client (client CPU)
      size_t items = 0;
      std::string cont;
      if (ParseList(r.body, &items, &cont)) items_seen = items;
    }
    return res;
  });
  PrintPhase(o, "list", n, list, " limit=" + std::to_string(o.list_limit) + " items=" + std::to_string(items_seen.load()));
  ok = ok && list.errors == 0;

  // A small page too (k-bench's lists were of a handful of pods): `--small-list-limit` items,
  // about 1.5 KiB each, so 20 of them (~31 KiB) are more than one 16 KiB TLS write.
  std::atomic<size_t> small_seen{0};
  const std::string small_target = base + "?limit=" + std::to_string(o.small_list_limit);
  auto small = RunPhase(clients, o.list_ops, o.server_pid, [&](HttpsConnection& c, size_t k, int64_t i) {
    auto r = c.Do(http::verb::get, small_target);
    auto res = Expect(r, {200});
    if (res.ok && i < static_cast<int64_t>(n)) {
      size_t items = 0;
      std::string cont;
      if (ParseList(r.body, &items, &cont)) small_seen = items;
    }
    return res;
  });
  PrintPhase(o, "list_small", n, small,
             " limit=" + std::to_string(o.small_list_limit) + " items=" + std::to_string(small_seen.load()));
  ok = ok && small.errors == 0;

  const std::string patch_type = "application/merge-patch+json";
  auto patch = RunPhase(clients, o.ops, o.server_pid, [&](HttpsConnection& c, size_t k, int64_t i) {
    std::string body = R"({"metadata":{"labels":{"patched":")" + std::to_string(i) + R"("}}})";
    return Expect(c.Do(http::verb::patch, base + "/" + name_of(k, i), body, patch_type.c_str()), {200});
  });
  PrintPhase(o, "patch", n, patch);
  ok = ok && patch.errors == 0;

  auto del = RunPhase(clients, o.ops, o.server_pid, [&](HttpsConnection& c, size_t k, int64_t i) {
    return Expect(c.Do(http::verb::delete_, base + "/" + name_of(k, i)), {200, 202});
  });
  PrintPhase(o, "delete", n, del);
  ok = ok && del.errors == 0;

  // Every pod of this run must be gone (no graceful deletion without a node).
  auto left = clients[0]->Do(http::verb::get, base + "?labelSelector=run%3D" + run);
  size_t items = 0;
  std::string cont;
  if (left.status != 200 || !ParseList(left.body, &items, &cont) || items != 0) {
    std::fprintf(stderr, "verbs: %zu pods of run %s left after delete (status %d)\n", items, run.c_str(), left.status);
    ok = false;
  }
  int64_t reconnects = 0;
  for (auto& c : clients) reconnects += c->connects() - 1;
  if (reconnects) std::fprintf(stderr, "verbs: %" PRId64 " reconnects\n", reconnects);
  return ok;
}

// ---------------------------------------------------------------------------------------------

bool RunList10k(const Options& o, const Kubeconfig& kc) {
  auto tls = TlsContext(kc);
  std::vector<std::unique_ptr<HttpsConnection>> clients;
  if (!ConnectAll(clients, o, kc, tls, std::max<int64_t>(1, o.fill_clients))) return false;
  if (!EnsureNamespace(*clients[0], o.ns)) return false;
  const std::string base = PodsPath(o.ns);
  const std::string run = "list";
  std::atomic<int64_t> existed{0};
  auto fill = RunPhase(clients, o.list_pods, o.server_pid, [&](HttpsConnection& c, size_t k, int64_t i) {
    char name[32];
    std::snprintf(name, sizeof name, "l-%06" PRId64, i);
    auto r = c.Do(http::verb::post, base, PodJson(o, o.ns, name, "c" + std::to_string(k), run));
    if (r.status == 409) ++existed;
    return Expect(r, {201, 409});
  });
  const std::string rss_kb = ServerRssKb(o.server_pid);
  PrintPhase(o, "fill", clients.size(), fill,
             " pods=" + std::to_string(o.list_pods) + " existed=" + std::to_string(existed.load()) +
                 " server_rss_kb=" + (rss_kb.empty() ? "-" : rss_kb));
  bool ok = fill.errors == 0;

  HttpsConnection& c = *clients[0];
  // Whole list, no limit.
  std::vector<double> whole;
  size_t items = 0, bytes = 0;
  int64_t errors = 0;
  for (int64_t i = 0; i < o.list_calls; ++i) {
    auto t0 = Clock::now();
    auto r = c.Do(http::verb::get, base);
    auto t1 = Clock::now();
    std::string cont;
    if (r.status != 200 || !ParseList(r.body, &items, &cont)) {
      if (errors++ == 0) std::fprintf(stderr, "list: %d %s\n", r.status, r.error.c_str());
      continue;
    }
    bytes = r.body.size();
    whole.push_back(Ms(t1 - t0));
  }
  std::printf("list_all target=%s calls=%zu errors=%" PRId64 " items=%zu resp_bytes=%zu p50_ms=%s p99_ms=%s max_ms=%s\n",
              o.label.c_str(), whole.size(), errors, items, bytes, Fmt(Percentile(whole, 0.5)).c_str(),
              Fmt(Percentile(whole, 0.99)).c_str(), Fmt(Percentile(whole, 1.0)).c_str());
  std::fflush(stdout);
  ok = ok && errors == 0 && items >= static_cast<size_t>(o.list_pods);

  // Page by page (limit + continue), as informers and kubectl do: the walk's time is the sum of
  // its requests (client-side JSON parsing of each page excluded).
  std::vector<double> pages, walks;
  size_t walk_items = 0;
  int64_t perrors = 0;
  for (int64_t i = 0; i < o.list_calls; ++i) {
    std::string cont;
    double walk = 0;
    walk_items = 0;
    for (;;) {
      std::string target = base + "?limit=" + std::to_string(o.list_limit);
      if (!cont.empty()) target += "&continue=" + kite::PercentEncode(cont);
      auto t0 = Clock::now();
      auto r = c.Do(http::verb::get, target);
      double ms = Ms(Clock::now() - t0);
      size_t n = 0;
      if (r.status != 200 || !ParseList(r.body, &n, &cont)) {
        if (perrors++ == 0) std::fprintf(stderr, "list page: %d %s %s\n", r.status, r.error.c_str(), r.body.substr(0, 200).c_str());
        break;
      }
      pages.push_back(ms);
      walk += ms;
      walk_items += n;
      if (cont.empty()) break;
    }
    walks.push_back(walk);
  }
  std::printf("list_paged target=%s walks=%zu pages=%zu errors=%" PRId64 " items=%zu limit=%" PRId64
              " page_p50_ms=%s page_p99_ms=%s walk_p50_ms=%s walk_max_ms=%s\n",
              o.label.c_str(), walks.size(), pages.size(), perrors, walk_items, o.list_limit,
              Fmt(Percentile(pages, 0.5)).c_str(), Fmt(Percentile(pages, 0.99)).c_str(),
              Fmt(Percentile(walks, 0.5)).c_str(), Fmt(Percentile(walks, 1.0)).c_str());
  std::fflush(stdout);
  ok = ok && perrors == 0 && walk_items == items;
  return ok;
}

// ---------------------------------------------------------------------------------------------

bool RunReadyz(const Options& o) {
  using Sys = std::chrono::system_clock;
  const int64_t since = o.since_ns ? o.since_ns
                                   : std::chrono::duration_cast<std::chrono::nanoseconds>(Sys::now().time_since_epoch()).count();
  auto elapsed_ms = [&] {
    auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(Sys::now().time_since_epoch()).count();
    return static_cast<double>(now - since) / 1e6;
  };
  const double bench_start_ms = elapsed_ms();
  auto deadline = Clock::now() + std::chrono::seconds(o.timeout_s);
  Kubeconfig kc;
  std::string err;
  double kubeconfig_ms = -1;
  int64_t polls = 0;
  std::unique_ptr<HttpsConnection> c;
  std::shared_ptr<ssl::context> tls;
  while (Clock::now() < deadline) {
    if (kubeconfig_ms < 0) {
      // Written by kite-server once it listens; a half-written file just fails to parse.
      if (auto loaded = kite::LoadKubeconfig(o.kubeconfig); loaded.ok()) {
        kubeconfig_ms = elapsed_ms();
        kc = std::move(loaded.value());
        tls = TlsContext(kc);
        c = std::make_unique<HttpsConnection>(kc, tls, "kite-api-bench");
      } else {
        err = loaded.status().message();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        continue;
      }
    }
    ++polls;
    auto r = c->Do(http::verb::get, "/readyz");
    if (r.status == 200) {
      std::printf("readyz target=%s ms=%s kubeconfig_ms=%s bench_start_ms=%s polls=%" PRId64 "\n", o.label.c_str(),
                  Fmt(elapsed_ms(), 1).c_str(), Fmt(kubeconfig_ms, 1).c_str(), Fmt(bench_start_ms, 1).c_str(), polls);
      std::fflush(stdout);
      return true;
    }
    err = r.status ? std::to_string(r.status) + " " + r.body : r.error;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  std::fprintf(stderr, "readyz: not ready after %" PRId64 " s: %s\n", o.timeout_s, err.c_str());
  return false;
}

}  // namespace
}  // namespace kite_api_bench

using namespace kite_api_bench;  // NOLINT: main of this program

int main(int argc, char** argv) {
  Options o;
  kite::FlagSet flags("kite-api-bench");
  flags.String("kubeconfig", &o.kubeconfig, "admin kubeconfig (kite-server --write-kubeconfig)");
  flags.String("mode", &o.mode, "verbs | list10k | watchers | readyz");
  flags.String("label", &o.label, "name printed as target= on every result line");
  flags.String("namespace", &o.ns, "namespace of the verbs and list10k pods (created if missing)");
  flags.String("watch-namespace", &o.watch_ns, "namespace the watchers watch (created if missing)");
  flags.Int("clients", &o.clients, "verbs: concurrent clients, one connection each");
  flags.Bool("automount-service-account-token", &o.automount_token,
             "false: pods opt out of the ServiceAccount admission's token volume");
  flags.Int("ops", &o.ops, "verbs: requests per phase (create, get, patch, delete), over all clients");
  flags.Int("list-ops", &o.list_ops, "verbs: list requests (limit=--list-limit), over all clients");
  flags.Int("list-limit", &o.list_limit, "page size of the limited lists");
  flags.Int("small-list-limit", &o.small_list_limit, "verbs: page size of the small lists (list_small)");
  flags.Int("list-pods", &o.list_pods, "list10k: pods the namespace is filled to");
  flags.Int("list-calls", &o.list_calls, "list10k: whole lists and paged walks, each");
  flags.Int("fill-clients", &o.fill_clients, "list10k: clients creating the pods");
  flags.Int("watchers", &o.watchers, "watchers: concurrent watches, one connection each");
  flags.Int("watch-events", &o.watch_events, "watchers: pods created while they watch");
  flags.Int("watch-interval-ms", &o.watch_interval_ms, "watchers: pause after each acknowledged create");
  flags.Int("watch-threads", &o.watch_threads, "watchers: client threads running the watch connections");
  flags.Int("watch-connect-batch", &o.watch_connect_batch, "watchers: connections opened concurrently");
  flags.Int("server-pid", &o.server_pid,
            "watchers, list10k: print kite-server's VmRSS with all watches open / after the fill");
  flags.Int("since-ns", &o.since_ns, "readyz: CLOCK_REALTIME ns of the server's start (default: now)");
  flags.Int("timeout-s", &o.timeout_s, "readyz: give up after this long; watchers: delivery wait");
  auto st = flags.Parse(argc, argv);
  if (flags.help_requested()) {
    std::printf("%s", flags.Usage().c_str());
    return 0;
  }
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n%s", st.ToString().c_str(), flags.Usage().c_str());
    return 2;
  }
  if (o.kubeconfig.empty()) {
    std::fprintf(stderr, "--kubeconfig is required\n");
    return 2;
  }
  try {
    if (o.mode == "readyz") return RunReadyz(o) ? 0 : 1;
    auto loaded = kite::LoadKubeconfig(o.kubeconfig);
    if (!loaded.ok()) {
      std::fprintf(stderr, "kubeconfig: %s\n", loaded.status().message().c_str());
      return 1;
    }
    const Kubeconfig& kc = loaded.value();
    bool ok = false;
    if (o.mode == "verbs") ok = RunVerbs(o, kc);
    else if (o.mode == "list10k") ok = RunList10k(o, kc);
    else if (o.mode == "watchers") ok = RunWatchers(o, kc);
    else {
      std::fprintf(stderr, "unknown --mode %s\n", o.mode.c_str());
      return 2;
    }
    return ok ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "kite-api-bench: %s\n", e.what());
    return 1;
  }
}
