#include "server/metricsserver/kubelet_source.h"

#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "api/object.h"
#include "base/https_client.h"

namespace kite::metricsserver {
namespace json = boost::json;

std::optional<NodeTarget> TargetOf(const json::object& node) {
  NodeTarget t;
  t.name = api::GetString(api::Metadata(node), "name");
  for (const char* wanted : {"InternalIP", "ExternalIP", "Hostname"}) {
    for (const auto& a : api::GetArray(node, {"status", "addresses"})) {
      if (!a.is_object() || api::GetString(a.as_object(), "type") != wanted) continue;
      t.host = api::GetString(a.as_object(), "address");
      if (!t.host.empty()) break;
    }
    if (!t.host.empty()) break;
  }
  if (t.host.empty() || t.name.empty()) return std::nullopt;
  const int64_t port = api::GetInt(node, {"status", "daemonEndpoints", "kubeletEndpoint", "Port"});
  if (port > 0 && port < 65536) t.port = static_cast<int>(port);
  return t;
}

namespace {

// HttpsConnection has no request timeout of its own: a watchdog thread cancels every fetch
// still running at its deadline, so a kubelet that accepts and never answers cannot hold up
// the scrape loop.
class HttpsKubeletSource final : public KubeletSource {
 public:
  HttpsKubeletSource(Kubeconfig base, std::shared_ptr<boost::asio::ssl::context> tls)
      : base_(std::move(base)), tls_(std::move(tls)), watchdog_([this] { Watch(); }) {}
  ~HttpsKubeletSource() override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    watchdog_.join();
  }

  Result<std::string> Fetch(const NodeTarget& node, std::chrono::steady_clock::time_point deadline) override {
    Kubeconfig kc = base_;
    kc.host = node.host;
    kc.port = std::to_string(node.port);
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return Status(Code::kDeadlineExceeded, "no time left to scrape node " + node.name);
    HttpsConnection conn(kc, tls_, "kite-metrics-server", left);
    Entry e{deadline, &conn};
    {
      std::lock_guard<std::mutex> lock(mu_);
      inflight_.insert(e);
    }
    cv_.notify_all();
    HttpsReply reply = conn.Do(boost::beast::http::verb::get, "/metrics/resource");
    {
      std::lock_guard<std::mutex> lock(mu_);
      inflight_.erase(e);
    }
    if (reply.status == 0) {
      return Status(Code::kUnavailable, "scraping node " + node.name + " at " + node.host + ":" + kc.port + ": " +
                                            (conn.cancelled() ? "timed out" : reply.error));
    }
    if (reply.status != 200) {
      return Status(Code::kUnavailable, "scraping node " + node.name + ": kubelet answered HTTP " +
                                            std::to_string(reply.status));
    }
    return std::move(reply.body);
  }

 private:
  struct Entry {
    std::chrono::steady_clock::time_point deadline;
    HttpsConnection* conn;
    bool operator<(const Entry& o) const { return std::tie(deadline, conn) < std::tie(o.deadline, o.conn); }
  };

  void Watch() {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopping_) {
      if (inflight_.empty()) {
        cv_.wait(lock);
        continue;
      }
      const auto first = inflight_.begin()->deadline;
      if (std::chrono::steady_clock::now() < first) {
        cv_.wait_until(lock, first);
        continue;
      }
      // Cancel under the lock: Fetch erases its entry (under the lock) before the connection dies.
      for (auto it = inflight_.begin(); it != inflight_.end() && it->deadline <= std::chrono::steady_clock::now();) {
        it->conn->Cancel();
        it = inflight_.erase(it);
      }
    }
  }

  const Kubeconfig base_;
  const std::shared_ptr<boost::asio::ssl::context> tls_;
  std::mutex mu_;  // guards inflight_ and stopping_
  std::condition_variable cv_;
  std::set<Entry> inflight_;
  bool stopping_ = false;
  std::thread watchdog_;  // last: starts once the rest is built
};

}  // namespace

Result<std::unique_ptr<KubeletSource>> NewHttpsKubeletSource(const std::string& server_ca_pem,
                                                             const std::string& client_cert_pem,
                                                             const std::string& client_key_pem) {
  Kubeconfig kc;
  kc.ca_pem = server_ca_pem;
  kc.cert_pem = client_cert_pem;
  kc.key_pem = client_key_pem;
  auto tls = MakeTlsContext(kc);
  if (!tls.ok()) return tls.status();
  return std::unique_ptr<KubeletSource>(new HttpsKubeletSource(std::move(kc), std::move(tls.value())));
}

}  // namespace kite::metricsserver
