// Shared pieces of kite-api-bench: options, the admin kubeconfig, a synchronous HTTPS/1.1
// keep-alive client, small statistics helpers. Used by api_bench.cc (verbs, list, readyz) and
// api_watch.cc (many watchers on asio coroutines).
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

namespace kite_api_bench {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

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
};

// The admin kubeconfig kite-server writes (--write-kubeconfig): one cluster, one user, the
// certificates inline (base64 *-data fields).
struct Kubeconfig {
  std::string host, port;
  std::string ca_pem, cert_pem, key_pem;
};

// Reads and decodes `path`; false (with *error) when it is missing or incomplete.
bool LoadKubeconfig(const std::string& path, Kubeconfig* out, std::string* error);

// A TLS client context that trusts the cluster CA and presents the admin certificate.
std::shared_ptr<ssl::context> MakeTlsContext(const Kubeconfig& kc);

tcp::endpoint ResolveOnce(const Kubeconfig& kc);

// Verifies the serving certificate against `host` (an IP or a DNS name).
void PrepareStream(TlsStream& s, const std::string& host);

struct Reply {
  int status = 0;  // 0: transport error (then `error` says what)
  std::string body;
  std::string error;
};

// One keep-alive HTTPS connection, used by one thread at a time, synchronous. A transport error
// closes it; the next request reconnects.
class SyncClient {
 public:
  SyncClient(const Kubeconfig& kc, std::shared_ptr<ssl::context> tls);
  ~SyncClient();
  bool Connect(std::string* error);
  Reply Do(http::verb verb, const std::string& target, const std::string& body = "",
           const char* content_type = "application/json");
  int64_t connects() const { return connects_; }

 private:
  void Close();
  const Kubeconfig& kc_;
  std::shared_ptr<ssl::context> tls_;
  asio::io_context io_;
  tcp::endpoint ep_;
  std::unique_ptr<TlsStream> s_;
  beast::flat_buffer buf_;
  int64_t connects_ = 0;
};

// Creates namespace `ns` unless it exists. False on anything but 201/409.
bool EnsureNamespace(SyncClient& c, const std::string& ns);

// A small realistic pod: one container (pause image, requests, a port), three labels.
std::string PodJson(const std::string& ns, const std::string& name, const std::string& client_label,
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
