#include "server/apiserver/local_transport.h"

#include <boost/asio.hpp>

#include <future>
#include <mutex>
#include <thread>
#include <utility>

#include "base/thread_name.h"

namespace kite::apiserver {
namespace asio = boost::asio;

struct LocalDispatcher::Impl {
  RequestPipeline pipeline;
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work{ioc.get_executor()};
  std::vector<std::thread> threads;
  std::atomic<bool> stopped{false};
};

using Impl = LocalDispatcher::Impl;

namespace {

// The User-Agent an in-process component sends: upstream's components name themselves in it
// (the API server names an unnamed field manager after it, so managedFields say
// "kube-controller-manager", "kube-scheduler", "kubelet"). The component comes from the
// identity: "system:kube-scheduler" → "kube-scheduler", "system:node:<name>" → "kubelet",
// a controller's service account → "kube-controller-manager".
std::string UserAgentFor(const PeerCertificate& who) {
  std::string name = who.common_name;
  if (name.rfind("system:node:", 0) == 0) return "kubelet/kite";
  // The controllers' own service accounts (upstream's --use-service-account-credentials): the
  // program is still kube-controller-manager, the account names the controller after it.
  if (name.rfind("system:serviceaccount:kube-system:", 0) == 0) return "kube-controller-manager/kite/" + name.substr(34);
  if (name.rfind("system:", 0) == 0) name = name.substr(7);
  if (auto colon = name.find(':'); colon != std::string::npos) name.resize(colon);
  return (name.empty() ? std::string("kite") : name) + "/kite";
}

// Builds the request as the HTTPS server would have parsed it.
std::shared_ptr<HttpsRequest> MakeRequest(const client::Request& r, const PeerCertificate& who) {
  auto req = std::make_shared<HttpsRequest>();
  req->method = r.method;
  req->target = client::EncodeTarget(r);
  req->path = r.path;
  for (const auto& [k, v] : r.query) req->query.emplace(k, v);
  req->headers["accept"] = "application/json";
  req->headers["host"] = "kite.local";
  req->headers["user-agent"] = UserAgentFor(who);
  if (!r.body.empty()) req->headers["content-type"] = r.content_type;
  req->body = r.body;
  req->peer = who;
  req->remote = kLocalRemote;
  req->body_unused = r.body_unused;
  return req;
}

// Captures one whole response.
class CapturingResponder final : public HttpsResponder {
 public:
  asio::awaitable<void> Send(int status, std::string, std::string body, Headers) override {
    response.code = status;
    response.body = std::move(body);
    co_return;
  }
  asio::awaitable<bool> BeginStream(int status, std::string, Headers) override {
    response.code = status;
    co_return true;
  }
  asio::awaitable<bool> WriteChunk(std::string data) override {
    response.body += data;
    co_return true;
  }
  asio::awaitable<void> EndStream() override { co_return; }
  client::Response response;
};

// A watch stream's state, shared by the serving coroutine and the consumer's handle. The mutex
// is held while a callback runs, so after Stop() returns no callback is running or will run.
struct StreamState {
  std::recursive_mutex mu;
  bool stopped = false;
  std::string partial;
  std::function<void(std::string_view)> on_line;
  std::function<void(client::Response)> on_end;
};

class StreamingResponder final : public HttpsResponder {
 public:
  explicit StreamingResponder(std::shared_ptr<StreamState> s) : s_(std::move(s)) {}
  asio::awaitable<void> Send(int status, std::string, std::string body, Headers) override {
    End(client::Response{status, std::move(body), ""});
    co_return;
  }
  asio::awaitable<bool> BeginStream(int, std::string, Headers) override {
    std::lock_guard<std::recursive_mutex> lock(s_->mu);
    co_return !s_->stopped;
  }
  asio::awaitable<bool> WriteChunk(std::string data) override {
    std::lock_guard<std::recursive_mutex> lock(s_->mu);
    if (s_->stopped) co_return false;
    s_->partial += data;
    size_t start = 0;
    for (size_t nl; (nl = s_->partial.find('\n', start)) != std::string::npos; start = nl + 1) {
      if (nl > start) s_->on_line(std::string_view(s_->partial).substr(start, nl - start));
      if (s_->stopped) co_return false;  // the callback stopped its own stream
    }
    s_->partial.erase(0, start);
    co_return true;
  }
  asio::awaitable<void> EndStream() override {
    End(client::Response{200, "", ""});
    co_return;
  }

 private:
  void End(client::Response r) {
    std::lock_guard<std::recursive_mutex> lock(s_->mu);
    if (s_->stopped) return;
    s_->stopped = true;
    if (s_->on_end) s_->on_end(std::move(r));
  }
  std::shared_ptr<StreamState> s_;
};

class LocalWatch final : public client::WatchStream {
 public:
  explicit LocalWatch(std::shared_ptr<StreamState> s) : s_(std::move(s)) {}
  ~LocalWatch() override { Stop(); }
  void Stop() override {
    std::lock_guard<std::recursive_mutex> lock(s_->mu);
    s_->stopped = true;
  }

 private:
  std::shared_ptr<StreamState> s_;
};

class LocalTransport final : public client::Transport {
 public:
  LocalTransport(std::shared_ptr<LocalDispatcher::Impl> impl, PeerCertificate who)
      : impl_(std::move(impl)), who_(std::move(who)) {}

  client::Response Do(const client::Request& r) override {
    auto promise = std::make_shared<std::promise<client::Response>>();
    auto future = promise->get_future();
    DoAsync(r, [promise](client::Response res) { promise->set_value(std::move(res)); });
    // A dispatcher stopped mid-request never finishes the coroutine: stop waiting then.
    while (future.wait_for(std::chrono::milliseconds(200)) != std::future_status::ready) {
      if (impl_->stopped) return client::Response{0, "", "the API server is shutting down"};
    }
    return future.get();
  }

  bool SupportsAsync() const override { return true; }

  void DoAsync(const client::Request& r, std::function<void(client::Response)> done) override {
    if (impl_->stopped) return done(client::Response{0, "", "the API server is shutting down"});
    // Calls `done` exactly once: with the answer, or, when the coroutine is destroyed without
    // finishing (the dispatcher stopped mid-request), with the shutting-down error.
    struct Once {
      std::function<void(client::Response)> done;
      void Answer(client::Response r) {
        if (auto d = std::exchange(done, nullptr)) d(std::move(r));
      }
      ~Once() { Answer(client::Response{0, "", "the API server is shutting down"}); }
    };
    auto once = std::make_shared<Once>();
    once->done = std::move(done);
    auto req = MakeRequest(r, who_);
    // Raw pointer: queued handlers must not keep the dispatcher alive (it owns the io_context).
    Impl* impl = impl_.get();
    // Each request on its own strand, as each HTTPS connection has one: handlers (the watch
    // loop's wake-up timer, for one) assume their completions never run concurrently.
    asio::co_spawn(
        asio::make_strand(impl_->ioc),
        [impl, req, once]() -> asio::awaitable<void> {
          CapturingResponder res;
          co_await impl->pipeline(*req, res);
          once->Answer(std::move(res.response));
        },
        [once](std::exception_ptr e) {
          if (e) once->Answer(client::Response{0, "", "request failed inside the server"});
        });
  }

  std::unique_ptr<client::WatchStream> Watch(const client::Request& r, std::function<void(std::string_view)> on_line,
                                             std::function<void(client::Response)> on_end) override {
    auto state = std::make_shared<StreamState>();
    state->on_line = std::move(on_line);
    state->on_end = std::move(on_end);
    auto req = MakeRequest(r, who_);
    Impl* impl = impl_.get();
    // On its own strand: the watch loop's wake-up (posted to its timer's executor by the watch
    // cache) must not race with the loop checking for it, or a wake-up is lost until the next
    // bookmark (60 s).
    asio::co_spawn(
        asio::make_strand(impl_->ioc),
        [impl, req, state]() -> asio::awaitable<void> {
          StreamingResponder res(state);
          co_await impl->pipeline(*req, res);
          co_await res.EndStream();  // no-op when already ended
        },
        asio::detached);
    return std::make_unique<LocalWatch>(state);
  }

 private:
  std::shared_ptr<LocalDispatcher::Impl> impl_;
  PeerCertificate who_;
};

}  // namespace

LocalDispatcher::LocalDispatcher(RequestPipeline pipeline, int threads) : impl_(std::make_shared<Impl>()) {
  impl_->pipeline = std::move(pipeline);
  for (int i = 0; i < std::max(1, threads); ++i) impl_->threads.emplace_back([impl = impl_.get()] {
      SetThreadName("local-api");
      impl->ioc.run();
    });
}

LocalDispatcher::~LocalDispatcher() { Stop(); }

void LocalDispatcher::Stop() {
  if (impl_->stopped.exchange(true)) return;
  impl_->work.reset();
  impl_->ioc.stop();
  for (auto& t : impl_->threads) t.join();
  impl_->threads.clear();
}

std::shared_ptr<client::Transport> LocalDispatcher::TransportFor(const std::string& user, std::vector<std::string> groups) {
  PeerCertificate who;
  who.common_name = user;
  who.organizations = std::move(groups);
  return std::make_shared<LocalTransport>(impl_, std::move(who));
}

}  // namespace kite::apiserver
