#include "agent/kubelet/server/kubelet_server.h"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>

#include "agent/kubelet/logs/cri_log.h"
#include "agent/kubelet/server/streaming_routes.h"
#include "base/client_watch.h"
#include "base/clock.h"
#include "base/https_server.h"
#include "base/log.h"
#include "base/metrics.h"

namespace kite::kubelet::server {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

const char kPrometheusText[] = "text/plain; version=0.0.4; charset=utf-8";

std::string StatusBody(int code, const std::string& reason, const std::string& message) {
  return json::serialize(json::object{{"kind", "Status"},
                                      {"apiVersion", "v1"},
                                      {"metadata", json::object()},
                                      {"status", "Failure"},
                                      {"message", message},
                                      {"reason", reason},
                                      {"code", code}});
}

asio::awaitable<void> SendStatus(HttpsResponder& res, const Status& s) {
  const int code = s.http_code();
  std::string reason(s.reason());
  std::string body = StatusBody(code, reason, s.message());
  std::string type = "application/json";
  co_await res.Send(code, std::move(type), std::move(body));
}

// Every body built before its co_await (g++ 12 frees temporaries of a co_await expression twice).
asio::awaitable<void> SendText(HttpsResponder& res, int code, std::string type, std::string body) {
  co_await res.Send(code, std::move(type), std::move(body));
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> parts;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string::npos) j = path.size();
    if (j > i) parts.push_back(path.substr(i, j - i));
    i = j + 1;
  }
  return parts;
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(kite::Clock::Real()->Now().time_since_epoch())
      .count();
}

class RequestQuery final : public logs::QueryReader {
 public:
  explicit RequestQuery(const HttpsRequest& r) : r_(r) {}
  std::optional<std::string> Get(const std::string& name) const override {
    if (!r_.HasQuery(name)) return std::nullopt;
    return r_.Query(name);
  }

 private:
  const HttpsRequest& r_;
};

}  // namespace

Result<ContainerLogRef> FindContainerLog(cri::RuntimeService* runtime, const std::string& ns, const std::string& pod,
                                         const std::string& container, bool previous) {
  cri::PodSandboxFilter sf;
  sf.label_selector = {{"io.kubernetes.pod.namespace", ns}, {"io.kubernetes.pod.name", pod}};
  auto sandboxes = runtime->ListPodSandbox(sf);
  if (!sandboxes.ok()) return sandboxes.status();
  if (sandboxes->empty()) return Status(Code::kNotFound, "pod \"" + pod + "\" in namespace \"" + ns + "\" not found");
  // The newest sandbox is the pod of that name now (an older one may be a deleted namesake's).
  const auto newest = std::max_element(sandboxes->begin(), sandboxes->end(),
                                       [](const auto& a, const auto& b) { return a.created_at < b.created_at; });
  cri::ContainerFilter cf;
  cf.label_selector = {{"io.kubernetes.pod.uid", newest->metadata.uid}, {"io.kubernetes.container.name", container}};
  auto list = runtime->ListContainers(cf);
  if (!list.ok()) return list.status();
  std::sort(list->begin(), list->end(), [](const auto& a, const auto& b) {
    return a.metadata.attempt != b.metadata.attempt ? a.metadata.attempt > b.metadata.attempt : a.created_at > b.created_at;
  });
  const size_t want = previous ? 1 : 0;
  if (list->size() <= want) {
    if (previous) {
      return Status::Api(400, "BadRequest",
                         "previous terminated container \"" + container + "\" in pod \"" + pod + "\" not found");
    }
    return Status::Api(400, "BadRequest", "container \"" + container + "\" in pod \"" + pod + "\" is waiting to start");
  }
  const auto& c = (*list)[want];
  auto st = runtime->ContainerStatus(c.id);
  if (!st.ok()) return st.status();
  ContainerLogRef ref;
  ref.id = c.id;
  ref.running = st->state == cri::ContainerState::kRunning || st->state == cri::ContainerState::kCreated;
  ref.path = st->log_path;
  return ref;
}

struct KubeletServer::Impl {
  KubeletServerOptions options;
  KubeletSources sources;
  std::unique_ptr<HttpsServer> https;
  // Set by Stop: in-process calls (InProcess) answer 503 from then on.
  std::atomic<bool> stopped{false};

  Status Admit(const HttpsRequest& req);
  asio::awaitable<void> Handle(HttpsRequest& req, HttpsResponder& res);
  // Handle's routes, for a caller already admitted.
  asio::awaitable<void> Route(HttpsRequest& req, HttpsResponder& res);
  asio::awaitable<void> Logs(HttpsRequest& req, HttpsResponder& res, const std::vector<std::string>& parts);
};

// Who the caller is (a client certificate, else a bearer token) and whether it may make this
// request: an error Status to answer with, or OK.
Status KubeletServer::Impl::Admit(const HttpsRequest& req) {
  const Status unauthorized = Status::Api(401, "Unauthorized", "Unauthorized");
  KubeletUser user;
  if (req.peer) {
    user.name = req.peer->common_name;
    user.groups = req.peer->organizations;
  } else {
    const std::string auth = req.Header("authorization");
    const std::string bearer = "Bearer ";
    if (!sources.authorizer || auth.size() <= bearer.size() || auth.compare(0, bearer.size(), bearer) != 0) {
      return unauthorized;
    }
    auto who = sources.authorizer->AuthenticateToken(auth.substr(bearer.size()));
    if (!who.ok()) {
      KITE_LOG(1) << "kubelet server: token review failed: " << who.status().message();
      return unauthorized;
    }
    if (!*who) return unauthorized;
    user = std::move(**who);
  }
  if (std::find(user.groups.begin(), user.groups.end(), "system:masters") != user.groups.end()) return Status();
  const KubeletRequestAttributes a = AttributesOf(req.method, req.path);
  if (sources.authorizer) {
    auto allowed = sources.authorizer->Authorize(user, a);
    if (allowed.ok() && *allowed) return Status();
    if (!allowed.ok()) KITE_LOG(1) << "kubelet server: access review failed: " << allowed.status().message();
  }
  return Status::Api(403, "Forbidden", "Forbidden (user=" + user.name + ", verb=" + a.verb +
                                           ", resource=nodes, subresource=" + a.subresource + ")");
}

asio::awaitable<void> KubeletServer::Impl::Handle(HttpsRequest& req, HttpsResponder& res) {
  if (Status admitted = Admit(req); !admitted.ok()) {
    co_await SendStatus(res, admitted);
    co_return;
  }
  co_await Route(req, res);
}

asio::awaitable<void> KubeletServer::Impl::Route(HttpsRequest& req, HttpsResponder& res) {
  const auto parts = SplitPath(req.path);
  const std::string first = parts.empty() ? "" : parts[0];
  if (IsStreamingRoute(first) && (req.method == "GET" || req.method == "POST")) {
    co_await ServeStreaming(sources.runtime, sources.streaming, req, res, parts);
    co_return;
  }
  if (req.method != "GET" && req.method != "HEAD") {
    const Status not_allowed = Status::Api(405, "MethodNotAllowed", "method " + req.method + " not allowed");
    co_await SendStatus(res, not_allowed);
    co_return;
  }
  if (req.path == "/healthz") {
    std::string ok = "ok";
    co_await SendText(res, 200, "text/plain; charset=utf-8", std::move(ok));
    co_return;
  }
  if (first == "containerLogs") {
    co_await Logs(req, res, parts);
    co_return;
  }
  if (req.path == "/pods" || req.path == "/pods/") {
    auto pods = sources.pods ? sources.pods() : Result<json::object>(Status(Code::kUnavailable, "no pod source"));
    if (!pods.ok()) {
      co_await SendStatus(res, pods.status());
      co_return;
    }
    std::string body = json::serialize(*pods);
    co_await SendText(res, 200, "application/json", std::move(body));
    co_return;
  }
  if (req.path == "/stats/summary" || req.path == "/metrics/resource" || req.path == "/metrics/cadvisor") {
    auto s = sources.stats->Collect();
    if (req.path == "/metrics/resource") {
      std::string body = ResourceMetricsText(s.ok() ? &*s : nullptr);
      co_await SendText(res, 200, kPrometheusText, std::move(body));
      co_return;
    }
    if (!s.ok()) {
      co_await SendStatus(res, s.status());
      co_return;
    }
    const bool summary = req.path == "/stats/summary";
    std::string body = summary ? json::serialize(SummaryJson(*s)) : CadvisorMetricsText(*s);
    std::string type = summary ? "application/json" : kPrometheusText;
    co_await SendText(res, 200, std::move(type), std::move(body));
    co_return;
  }
  if (req.path == "/metrics") {
    int64_t pods = 0, containers = 0;
    cri::PodSandboxFilter ready;
    ready.state = cri::PodSandboxState::kReady;
    if (auto l = sources.runtime->ListPodSandbox(ready); l.ok()) pods = static_cast<int64_t>(l->size());
    cri::ContainerFilter running;
    running.state = cri::ContainerState::kRunning;
    if (auto l = sources.runtime->ListContainers(running); l.ok()) containers = static_cast<int64_t>(l->size());
    std::string text =
        "# HELP kubelet_node_name [ALPHA] The node's name. The count is always 1.\n"
        "# TYPE kubelet_node_name gauge\n"
        "kubelet_node_name{node=\"" + sources.node_name + "\"} 1\n"
        "# HELP kubelet_running_containers [ALPHA] Number of containers currently running\n"
        "# TYPE kubelet_running_containers gauge\n"
        "kubelet_running_containers{container_state=\"running\"} " + std::to_string(containers) + "\n"
        "# HELP kubelet_running_pods [ALPHA] Number of pods that have a running pod sandbox\n"
        "# TYPE kubelet_running_pods gauge\n"
        "kubelet_running_pods " + std::to_string(pods) + "\n" + metrics::Serialize(metrics::Kubelet());
    co_await SendText(res, 200, kPrometheusText, std::move(text));
    co_return;
  }
  const Status not_found = Status::Api(404, "NotFound", "the server could not find the requested resource");
  co_await SendStatus(res, not_found);
}

asio::awaitable<void> KubeletServer::Impl::Logs(HttpsRequest& req, HttpsResponder& res,
                                                const std::vector<std::string>& parts) {
  if (parts.size() != 4) {
    const Status bad = Status::Api(400, "BadRequest", "expected /containerLogs/{namespace}/{pod}/{container}");
    co_await SendStatus(res, bad);
    co_return;
  }
  RequestQuery q(req);
  auto opts = logs::ParseLogOptions(q, NowNs());
  if (!opts.ok()) {
    const Status bad = Status::Api(400, "BadRequest", opts.status().message());
    co_await SendStatus(res, bad);
    co_return;
  }
  auto ref = FindContainerLog(sources.runtime, parts[1], parts[2], parts[3], opts->previous);
  if (!ref.ok()) {
    co_await SendStatus(res, ref.status());
    co_return;
  }
  std::unique_ptr<logs::LogFile> file;
  if (auto f = logs::LogFile::Open(ref->path); f.ok()) {
    file = std::move(*f);
  } else if (!f.NotFound()) {
    co_await SendStatus(res, f.status());
    co_return;
  }
  if (file && opts->tail_lines) {
    auto off = logs::TailOffset(file->fd(), file->size(), *opts->tail_lines);
    if (off.ok()) (void)file->Seek(*off);
  }
  logs::LogFormatter fmt(*opts);
  std::string raw, out;
  // Without follow (or for a container that has stopped): everything there is, sent as it is
  // read. Not built into one answer: a log can be as large as --container-log-max-size, and
  // growing one string for it cost a copy of every byte and fresh pages for all of it (a 47 MB
  // log went at 6.5 MiB/s; bench/run_exec.sh).
  if (!opts->follow || !ref->running) {
    if (!co_await res.BeginStream(200, "text/plain")) co_return;
    while (file && !fmt.done()) {
      raw.clear();
      auto r = file->Read(64 * 1024, &raw);
      if (!r.ok() || *r == 0) break;
      fmt.Feed(raw, &out);
      if (out.size() >= 64 * 1024) {
        std::string chunk = std::move(out);
        out.clear();
        if (!co_await res.WriteChunk(std::move(chunk))) co_return;
      }
    }
    if (!out.empty()) {
      std::string chunk = std::move(out);
      if (!co_await res.WriteChunk(std::move(chunk))) co_return;
    }
    co_await res.EndStream();
    co_return;
  }
  if (!co_await res.BeginStream(200, "text/plain")) co_return;
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor);
  int idle_polls = 0;
  bool last_read = false;
  while (!fmt.done()) {
    raw.clear();
    size_t got = 0;
    if (file) {
      auto r = file->Read(64 * 1024, &raw);
      if (r.ok()) got = *r;
    }
    if (got > 0) {
      fmt.Feed(raw, &out);
      if (!out.empty()) {
        std::string chunk = std::move(out);
        out.clear();
        if (!co_await res.WriteChunk(std::move(chunk))) co_return;
      }
      idle_polls = 0;
      continue;
    }
    if (last_read) break;
    // At the end of what is written: a rotated log continues in the new file; a container that
    // has stopped has nothing more to say once its file is read to the end.
    if (file && file->Rotated() && file->ReopenAtPath().ok()) continue;
    if (!file) {
      if (auto f = logs::LogFile::Open(ref->path); f.ok()) {
        file = std::move(*f);
        continue;
      }
    }
    if (++idle_polls % 10 == 0) {
      auto st = sources.runtime->ContainerStatus(ref->id);
      if (!st.ok() || st->state != cri::ContainerState::kRunning) {
        last_read = true;  // one more read: the lines written just before it stopped
        continue;
      }
    }
    // Nothing to write: a client that went away is noticed here, not at the container's next line.
    if (ClientGone(res)) co_return;
    timer.expires_after(options.follow_poll);
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
  co_await res.EndStream();
}

KubeletServer::KubeletServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KubeletServer::~KubeletServer() { Stop(); }

Result<std::unique_ptr<KubeletServer>> KubeletServer::Start(const KubeletServerOptions& o, KubeletSources sources) {
  if (o.cert_pem.empty() || o.key_pem.empty() || o.client_ca_pem.empty()) {
    return Status(Code::kInvalidArgument, "the kubelet server needs a serving certificate, its key and the client CA");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = o;
  impl->sources = std::move(sources);
  Impl* raw = impl.get();
  impl->https = std::make_unique<HttpsServer>(
      [raw](HttpsRequest& req, HttpsResponder& res) -> asio::awaitable<void> { co_await raw->Handle(req, res); });
  HttpsServerOptions ho;
  ho.bind_address = o.bind_address;
  ho.port = o.port;
  ho.cert_pem = o.cert_pem;
  ho.key_pem = o.key_pem;
  ho.client_ca_pem = o.client_ca_pem;
  ho.threads = o.threads;
  ho.max_connections = 256;
  // A followed log may be idle for long: no read deadline applies once a request is in.
  if (Status s = impl->https->Start(ho); !s.ok()) return s;
  return std::unique_ptr<KubeletServer>(new KubeletServer(std::move(impl)));
}

int KubeletServer::port() const { return impl_->https->port(); }

void KubeletServer::Stop() {
  if (!impl_) return;
  impl_->stopped = true;
  if (impl_->https) impl_->https->Stop();
}

namespace {
const char kKubeletStopped[] = "the kubelet has stopped";
}  // namespace

InProcessServer KubeletServer::InProcess() {
  Impl* impl = impl_.get();
  InProcessServer s;
  s.serve = [impl](HttpsRequest& req, HttpsResponder& res) -> asio::awaitable<void> {
    if (impl->stopped) {
      const Status stopped = Status::Api(503, "ServiceUnavailable", kKubeletStopped);
      co_await SendStatus(res, stopped);
      co_return;
    }
    co_await impl->Route(req, res);
  };
  s.open_upgrade = [impl](HttpsRequest& req) -> asio::awaitable<Result<UpgradedStream>> {
    const auto parts = SplitPath(req.path);
    if (impl->stopped || parts.empty() || !IsStreamingRoute(parts[0])) {
      co_return Status::Api(503, "ServiceUnavailable", impl->stopped ? kKubeletStopped : "not a streaming route: " + req.path);
    }
    UpgradedStream opened = co_await OpenStreaming(impl->sources.runtime, impl->sources.streaming, req, parts);
    co_return std::move(opened);
  };
  return s;
}

}  // namespace kite::kubelet::server
