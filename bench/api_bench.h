// Shared pieces of kite-api-bench: options, small statistics helpers. Used by api_bench.cc
// (verbs, list, readyz) and api_watch.cc (many watchers on asio coroutines).
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/https_client.h"

namespace kite_api_bench {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string kubeconfig;
  std::string mode = "verbs";
  std::string ns = "bench";
  std::string watch_ns = "bench-watch";
  int64_t clients = 8;
  int64_t ops = 2000;       // per verb, in total over all clients
  int64_t list_ops = 200;   // list calls (limit=list_limit) in the verbs run, in total
  int64_t list_limit = 500;
  int64_t small_list_limit = 20;
  int64_t list_pods = 10000;
  int64_t list_calls = 10;
  int64_t fill_clients = 64;
  int64_t watchers = 1000;
  int64_t watch_events = 50;
  int64_t watch_interval_ms = 100;
  int64_t watch_threads = 1;
  int64_t watch_connect_batch = 100;
  int64_t since_ns = 0;  // readyz: CLOCK_REALTIME nanoseconds at which the server was started
  int64_t timeout_s = 60;
  int64_t server_pid = 0;  // watchers, list10k: report this process's VmRSS
  std::string label = "kite";
  // false: pods say automountServiceAccountToken: false, so the ServiceAccount admission adds no
  // projected token volume (about 50 % more bytes per pod to store, send and decode).
  bool automount_token = true;
};

// The kubeconfig, the TLS context and the synchronous keep-alive connection are
// base/https_client.h's; the bench only names them.
using kite::HttpsConnection;
using kite::HttpsReply;
using kite::Kubeconfig;
using kite::TlsStream;

// The TLS context for `kc`; throws std::runtime_error (reported by main) on bad PEM.
std::shared_ptr<ssl::context> TlsContext(const Kubeconfig& kc);

// Creates namespace `ns` unless it exists. False on anything but 201/409.
bool EnsureNamespace(HttpsConnection& c, const std::string& ns);

// A small realistic pod: one container (pause image, requests, a port), three labels; without
// the token volume unless o.automount_token.
std::string PodJson(const Options& o, const std::string& ns, const std::string& name, const std::string& client_label,
                    const std::string& run);

// VmRSS of process `pid` in kB, from /proc/<pid>/status ("" when pid <= 0 or unreadable).
std::string ServerRssKb(int64_t pid);

// User+system CPU time in ms of process `pid` (from /proc/<pid>/stat; -1 when pid <= 0), and of
// this process.
double ProcessCpuMs(int64_t pid);
double SelfCpuMs();

// A short random id so that names from different runs against one server never collide.
std::string RunId();

inline double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

inline std::string Fmt(double v, int prec = 3) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", prec, v);
  return buf;
}

inline double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  size_t idx = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(idx), v.end());
  return v[idx];
}

// The watch workload (api_watch.cc). Returns false on any error or incomplete delivery.
bool RunWatchers(const Options& o, const Kubeconfig& kc);

}  // namespace kite_api_bench
