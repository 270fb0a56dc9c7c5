#include "agent/kubelet/server/streaming_routes.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <chrono>
#include <optional>

#include "base/upgrade_proxy.h"

namespace kite::kubelet::server {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace json = boost::json;

namespace {

bool Flag(const HttpsRequest& req, const char* name) {
  const std::string v = req.Query(name);
  return v == "1" || v == "true" || v == "True" || v == "TRUE";
}

// The newest sandbox of the pod (an older one may be a deleted namesake's).
Result<cri::PodSandbox> FindSandbox(cri::RuntimeService* runtime, const std::string& ns, const std::string& pod,
                                    const std::string& uid) {
  cri::PodSandboxFilter f;
  f.label_selector = {{"io.kubernetes.pod.namespace", ns}, {"io.kubernetes.pod.name", pod}};
  if (!uid.empty()) f.label_selector["io.kubernetes.pod.uid"] = uid;
  f.state = cri::PodSandboxState::kReady;
  auto list = runtime->ListPodSandbox(f);
  if (!list.ok()) return list.status();
  if (list->empty()) return Status::Api(404, "NotFound", "pod does not exist");
  return *std::max_element(list->begin(), list->end(),
                           [](const auto& a, const auto& b) { return a.created_at < b.created_at; });
}

Result<std::string> RunningContainer(cri::RuntimeService* runtime, const cri::PodSandbox& sandbox,
                                     const std::string& container) {
  cri::ContainerFilter f;
  f.pod_sandbox_id = sandbox.id;
  f.state = cri::ContainerState::kRunning;
  f.label_selector = {{"io.kubernetes.container.name", container}};
  auto list = runtime->ListContainers(f);
  if (!list.ok()) return list.status();
  if (list->empty()) return Status::Api(500, "InternalError", "container not found (\"" + container + "\")");
  return list->front().id;
}

// exec/attach's container in one runtime call: the newest running container with the pod's and
// the container's labels. Null when there is none; the caller then looks at the sandbox and the
// container separately, for the error upstream gives (no pod, or no such container).
std::optional<std::string> RunningContainerOfPod(cri::RuntimeService* runtime, const std::string& ns,
                                                 const std::string& pod, const std::string& uid,
                                                 const std::string& container) {
  cri::ContainerFilter f;
  f.state = cri::ContainerState::kRunning;
  f.label_selector = {{"io.kubernetes.pod.namespace", ns},
                      {"io.kubernetes.pod.name", pod},
                      {"io.kubernetes.container.name", container}};
  if (!uid.empty()) f.label_selector["io.kubernetes.pod.uid"] = uid;
  auto list = runtime->ListContainers(f);
  if (!list.ok() || list->empty()) return std::nullopt;
  return std::max_element(list->begin(), list->end(),
                          [](const auto& a, const auto& b) { return a.created_at < b.created_at; })
      ->id;
}

struct Url {
  std::string host, port, target;
};

// http://127.0.0.1:35001/exec/AbCd: the runtime's stream server (plain HTTP on the loopback).
Result<Url> ParseStreamUrl(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) return Status(Code::kUnimplemented, "stream server URL not supported: " + url);
  const size_t slash = url.find('/', scheme.size());
  const std::string authority = url.substr(scheme.size(), slash - scheme.size());
  Url u;
  u.target = slash == std::string::npos ? "/" : url.substr(slash);
  const size_t colon = authority.rfind(':');
  if (colon == std::string::npos || authority.back() == ']') {
    u.host = authority;
    u.port = "80";
  } else {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  }
  if (u.host.size() > 2 && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);
  return u;
}

}  // namespace

bool IsStreamingRoute(const std::string& first) {
  return first == "exec" || first == "attach" || first == "portforward";
}

namespace {

// A plain TCP connection to the runtime's stream server as bytes; owns its stream.
class StreamServerConnection final : public ByteStream {
 public:
  explicit StreamServerConnection(asio::any_io_executor ex) : conn_(std::move(ex)), bytes_(conn_) {}
  beast::tcp_stream& conn() { return conn_; }
  asio::awaitable<size_t> ReadSome(char* data, size_t size) override { return bytes_.ReadSome(data, size); }
  asio::awaitable<bool> Write(std::string_view data) override { return bytes_.Write(data); }
  void Close() override { bytes_.Close(); }

 private:
  beast::tcp_stream conn_;
  StreamOf<beast::tcp_stream> bytes_;
};

}  // namespace

UpgradeAnswer StreamingErrorAnswer(const Status& s) {
  // Upstream's kubelet answers these as plain text (streaming.WriteError / http.Error); kubectl
  // prints "unable to upgrade connection: <text>".
  UpgradeAnswer a;
  a.status = s.http_code();
  a.headers.emplace_back("content-type", "text/plain; charset=utf-8");
  a.data = s.message();
  return a;
}

namespace {

// OpenStreaming's work: the stream server's answer, with `upstream` connected to it.
asio::awaitable<Result<UpgradeAnswer>> ConnectStreamServer(cri::RuntimeService* runtime,
                                                           cri::StreamingService* streaming, HttpsRequest& req,
                                                           const std::vector<std::string>& parts,
                                                           StreamServerConnection& upstream) {
  const std::string& kind = parts[0];
  const bool pf = kind == "portforward";
  // exec/attach: ns, pod, [uid,] container; portforward: ns, pod[, uid].
  const size_t min = pf ? 3 : 4;
  if (parts.size() < min || parts.size() > min + 1) co_return Status::Api(400, "BadRequest", "malformed " + kind + " path");
  if (!streaming) co_return Status::Api(501, "NotImplemented", "the container runtime does not serve " + kind);
  const std::string& ns = parts[1];
  const std::string& pod = parts[2];
  const std::string uid = parts.size() == min + 1 ? parts[3] : "";
  // Every runtime call here is a round trip to containerd before the session can start: exec and
  // attach find their container in one when it is running.
  std::optional<std::string> running;
  if (!pf) running = RunningContainerOfPod(runtime, ns, pod, uid, parts.back());
  Result<cri::PodSandbox> sandbox = Status(Code::kInternal, "unset");
  if (!running) {
    sandbox = FindSandbox(runtime, ns, pod, uid);
    if (!sandbox.ok()) co_return sandbox.status();
  }
  Result<std::string> url = Status(Code::kInternal, "unset");
  if (pf) {
    std::vector<int32_t> ports;
    for (auto [it, end] = req.query.equal_range("port"); it != end; ++it) ports.push_back(std::atoi(it->second.c_str()));
    url = streaming->PortForward(sandbox->id, ports);
  } else {
    auto id = running ? Result<std::string>(*running) : RunningContainer(runtime, *sandbox, parts.back());
    if (!id.ok()) co_return id.status();
    const bool tty = Flag(req, "tty");
    if (kind == "exec") {
      cri::ExecRequest r;
      r.container_id = *id;
      for (auto [it, end] = req.query.equal_range("command"); it != end; ++it) r.cmd.push_back(it->second);
      r.tty = tty;
      r.stdin_ = Flag(req, "stdin");
      r.stdout_ = Flag(req, "stdout");
      r.stderr_ = Flag(req, "stderr") && !tty;  // a TTY merges stderr into stdout (CRI requires this)
      url = streaming->Exec(r);
    } else {
      cri::AttachRequest r;
      r.container_id = *id;
      r.tty = tty;
      r.stdin_ = Flag(req, "stdin");
      r.stdout_ = Flag(req, "stdout");
      r.stderr_ = Flag(req, "stderr") && !tty;
      url = streaming->Attach(r);
    }
  }
  if (!url.ok()) co_return url.status();
  auto u = ParseStreamUrl(*url);
  if (!u.ok()) co_return u.status();
  auto executor = co_await asio::this_coro::executor;
  beast::tcp_stream& conn = upstream.conn();
  conn.expires_after(std::chrono::seconds(30));
  asio::ip::tcp::resolver resolver(executor);
  auto [rec, endpoints] = co_await resolver.async_resolve(u->host, u->port, asio::as_tuple(asio::use_awaitable));
  if (!rec) {
    auto [cec, ep] = co_await conn.async_connect(endpoints, asio::as_tuple(asio::use_awaitable));
    rec = cec;
  }
  if (rec) co_return Status::Api(500, "InternalError", "error dialing the stream server: " + rec.message());
  {
    boost::system::error_code ec;
    conn.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  }
  const std::string host = u->host + ":" + u->port;
  auto answer = co_await ForwardUpgradeRequest(upstream, host, u->target, req);
  if (!answer.ok()) co_return Status::Api(500, "InternalError", "stream server: " + answer.status().message());
  conn.expires_never();  // the session lasts as long as the client keeps it
  co_return std::move(*answer);
}

}  // namespace

asio::awaitable<UpgradedStream> OpenStreaming(cri::RuntimeService* runtime, cri::StreamingService* streaming,
                                              HttpsRequest& req, const std::vector<std::string>& parts) {
  auto executor = co_await asio::this_coro::executor;
  auto upstream = std::make_unique<StreamServerConnection>(executor);
  auto answer = co_await ConnectStreamServer(runtime, streaming, req, parts, *upstream);
  UpgradedStream out;
  out.answer = answer.ok() ? std::move(*answer) : StreamingErrorAnswer(answer.status());
  if (out.answer.status != 101) upstream->Close();
  out.stream = std::move(upstream);
  co_return std::move(out);
}

asio::awaitable<void> ServeStreaming(cri::RuntimeService* runtime, cri::StreamingService* streaming,
                                     HttpsRequest& req, HttpsResponder& res, const std::vector<std::string>& parts) {
  auto opened = co_await OpenStreaming(runtime, streaming, req, parts);
  co_await CompleteUpgrade(opened.answer, *opened.stream, res);
}

}  // namespace kite::kubelet::server
