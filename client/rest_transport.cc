#include "client/rest_transport.h"

#include <boost/beast/http/verb.hpp>

#include <mutex>
#include <thread>
#include <vector>

namespace kite::client {
namespace http = boost::beast::http;

namespace {

constexpr size_t kMaxLine = size_t{64} << 20;

Response FromReply(HttpsReply r) { return Response{r.status, std::move(r.body), std::move(r.error)}; }

// One watch stream, shared by its thread and its handle (which may go first when stopped from
// inside a callback).
struct WatchState {
  // Held while a callback runs, so that Stop() waits for a running callback and none starts
  // after it; recursive so that a callback may stop its own stream.
  std::recursive_mutex callback_mu;
  bool stopped = false;  // guarded by callback_mu
  std::function<void(std::string_view)> on_line;
  std::function<void(Response)> on_end;
  std::unique_ptr<HttpsConnection> conn;  // driven by the stream's thread; Cancel() from anywhere
};

// The stream's thread: reads the body, hands out complete lines, then reports the end.
void RunWatch(const std::shared_ptr<WatchState>& st, http::verb verb, const std::string& target) {
  std::string pending;  // bytes after the last complete line
  size_t scanned = 0;   // of `pending`, known to hold no newline
  bool too_long = false;
  auto on_data = [&](std::string_view data) {
    pending.append(data);
    size_t start = 0;
    for (size_t nl; (nl = pending.find('\n', scanned)) != std::string::npos; start = scanned) {
      scanned = nl + 1;
      if (nl == start) continue;  // an empty line carries no event
      std::lock_guard<std::recursive_mutex> lock(st->callback_mu);
      if (st->stopped) return false;
      st->on_line(std::string_view(pending).substr(start, nl - start));
    }
    pending.erase(0, start);
    scanned = pending.size();
    if (pending.size() > kMaxLine) {
      too_long = true;
      return false;
    }
    std::lock_guard<std::recursive_mutex> lock(st->callback_mu);
    return !st->stopped;
  };
  HttpsReply reply = st->conn->Stream(verb, target, on_data);
  std::lock_guard<std::recursive_mutex> lock(st->callback_mu);
  if (st->stopped) return;
  st->stopped = true;
  Response end;
  if (too_long) {
    end.error = "watch: an event longer than 64 MiB";
  } else if (reply.status >= 200 && reply.status < 300) {
    end.code = 200;
  } else {
    end = FromReply(std::move(reply));
  }
  if (st->on_end) st->on_end(std::move(end));
}

class RestWatch final : public WatchStream {
 public:
  RestWatch(std::shared_ptr<WatchState> st, std::thread thread) : st_(std::move(st)), thread_(std::move(thread)) {}
  ~RestWatch() override { Stop(); }

  void Stop() override {
    {
      std::lock_guard<std::recursive_mutex> lock(st_->callback_mu);
      st_->stopped = true;
    }
    st_->conn->Cancel();
    if (!thread_.joinable()) return;
    // From inside one of our callbacks the thread cannot be joined; it ends by itself right
    // after the callback returns (stopped, its socket shut down) and owns what it still uses.
    if (thread_.get_id() == std::this_thread::get_id()) thread_.detach();
    else thread_.join();
  }

 private:
  std::shared_ptr<WatchState> st_;
  std::thread thread_;
};

class RestTransport final : public Transport {
 public:
  RestTransport(Kubeconfig kc, std::shared_ptr<boost::asio::ssl::context> tls, RestTransportOptions options)
      : kc_(std::move(kc)), tls_(std::move(tls)), options_(std::move(options)) {}

  Response Do(const Request& r) override {
    const http::verb verb = http::string_to_verb(r.method);
    if (verb == http::verb::unknown) return Response{0, "", "unknown HTTP method " + r.method};
    const std::string target = EncodeTarget(r);
    std::unique_ptr<HttpsConnection> conn = Take();
    const bool reused = conn->connected();
    HttpsReply reply = conn->Do(verb, target, r.body, r.content_type);
    if (reply.status == 0 && reused && reply.nothing_received) {
      reply = conn->Do(verb, target, r.body, r.content_type);  // reconnects: the failure closed it
    }
    if (conn->connected()) Give(std::move(conn));
    return FromReply(std::move(reply));
  }

  std::unique_ptr<WatchStream> Watch(const Request& r, std::function<void(std::string_view)> on_line,
                                     std::function<void(Response)> on_end) override {
    auto st = std::make_shared<WatchState>();
    st->on_line = std::move(on_line);
    st->on_end = std::move(on_end);
    st->conn = NewConnection();
    http::verb verb = http::string_to_verb(r.method);
    if (verb == http::verb::unknown) verb = http::verb::get;
    std::thread thread([st, verb, target = EncodeTarget(r)] { RunWatch(st, verb, target); });
    return std::make_unique<RestWatch>(std::move(st), std::move(thread));
  }

 private:
  std::unique_ptr<HttpsConnection> NewConnection() const {
    return std::make_unique<HttpsConnection>(kc_, tls_, options_.user_agent, options_.connect_timeout);
  }

  std::unique_ptr<HttpsConnection> Take() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        auto c = std::move(idle_.back());  // the most recently used: the least likely to be stale
        idle_.pop_back();
        return c;
      }
    }
    return NewConnection();  // connects on first use, outside the lock
  }

  void Give(std::unique_ptr<HttpsConnection> c) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < options_.max_idle) idle_.push_back(std::move(c));  // else `c` closes
  }

  const Kubeconfig kc_;
  const std::shared_ptr<boost::asio::ssl::context> tls_;
  const RestTransportOptions options_;
  std::mutex mu_;
  std::vector<std::unique_ptr<HttpsConnection>> idle_;  // guarded by mu_
};

}  // namespace

Result<std::shared_ptr<Transport>> MakeRestTransport(const Kubeconfig& kubeconfig, RestTransportOptions options) {
  auto tls = MakeTlsContext(kubeconfig);
  if (!tls.ok()) return tls.status();
  return std::shared_ptr<Transport>(std::make_shared<RestTransport>(kubeconfig, std::move(tls.value()), std::move(options)));
}

Result<std::shared_ptr<Transport>> MakeRestTransport(const std::string& kubeconfig_path, RestTransportOptions options) {
  auto kc = LoadKubeconfig(kubeconfig_path);
  if (!kc.ok()) return kc.status();
  return MakeRestTransport(kc.value(), std::move(options));
}

}  // namespace kite::client
