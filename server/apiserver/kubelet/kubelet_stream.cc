// KubeletClient::ProxyUpgrade: the API server's hop of exec, attach and port-forward sessions.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "base/dial.h"
#include "base/tls_socket.h"
#include "base/upgrade_proxy.h"
#include "server/apiserver/kubelet/kubelet_client.h"

namespace kite::apiserver {
namespace asio = boost::asio;

namespace {

// A TLS connection to a kubelet as bytes; owns its stream. kite's TlsSocket rather than Asio's
// engine: a read takes every record that has arrived and a write's records leave in one send,
// which is most of a port-forward's cost on this hop (Asio's engine reads and writes one 16 KiB
// record per operation).
class KubeletConnection final : public ByteStream {
 public:
  KubeletConnection(asio::ip::tcp::socket socket, asio::ssl::context& tls)
      : s_(std::move(socket), tls.native_handle(), asio::ssl::stream_base::client), bytes_(s_) {}
  TlsSocket& tls() { return s_; }
  asio::awaitable<size_t> ReadSome(char* data, size_t size) override { return bytes_.ReadSome(data, size); }
  asio::awaitable<bool> Write(std::string_view data) override { return bytes_.Write(data); }
  void Close() override { bytes_.Close(); }

 private:
  TlsSocket s_;
  StreamOf<TlsSocket> bytes_;
};

// Read-ahead room for the four records of a 64 KiB write and their overhead.
constexpr size_t kReadAhead = 80 * 1024;

}  // namespace

asio::awaitable<Result<KubeletClient::Upgraded>> KubeletClient::OpenUpgrade(const KubeletEndpoint& ep,
                                                                            const std::string& target,
                                                                            const HttpsRequest& req) {
  if (auto local = InProcessFor(ep)) {
    // The kubelet of this process opens the session to the runtime's stream server: the bytes
    // then go from the client's connection straight to it, with no TLS hop in between (a
    // port-forward's every byte was encrypted and decrypted once more on that hop).
    HttpsRequest upgrade = RequestForTarget(req.method, target);
    upgrade.headers = req.headers;
    auto opened = co_await local->open_upgrade(upgrade);
    co_return std::move(opened);
  }
  const std::string hostport = JoinHostPort(ep.host, ep.port);
  const std::string url = "https://" + hostport + target;
  auto failed = [&](const std::string& what) {
    return Status::Api(500, "InternalError", "error dialing backend: " + what + " (" + url + ")");
  };
  boost::system::error_code ec;
  const auto addr = asio::ip::make_address(ep.host, ec);
  if (ec) co_return failed("not an IP address: " + ep.host);
  auto executor = co_await asio::this_coro::executor;
  const asio::ip::tcp::endpoint endpoint(addr, static_cast<unsigned short>(ep.port));
  asio::ip::tcp::socket socket(executor);
  socket.open(endpoint.protocol(), ec);
  if (ec) co_return failed(DialError(hostport, ec));
  auto conn = std::make_unique<KubeletConnection>(std::move(socket), *tls_);
  TlsSocket& s = conn->tls();
  if (!s.set_peer_name(ep.host)) co_return failed("tls: cannot verify " + ep.host);
  s.set_read_buffer_size(kReadAhead);
  s.expires_after(std::chrono::seconds(30));  // connect, handshake, request and answer header
  auto [cec] = co_await s.socket().async_connect(endpoint, asio::as_tuple(asio::use_awaitable));
  if (cec) co_return failed(DialError(hostport, cec));
  s.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  auto [hec] = co_await s.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
  if (hec) co_return failed("tls: " + hec.message());
  auto answer = co_await ForwardUpgradeRequest(*conn, hostport, target, req);
  if (!answer.ok()) {
    conn->Close();
    co_return failed(answer.status().message());
  }
  s.expires_never();  // from here the session lasts as long as its ends keep it
  if (answer->status != 101) conn->Close();
  Upgraded out;
  out.stream = std::move(conn);
  out.answer = std::move(*answer);
  co_return std::move(out);
}

asio::awaitable<Status> KubeletClient::ProxyUpgrade(const KubeletEndpoint& ep, const std::string& target,
                                                    const HttpsRequest& req, HttpsResponder& res) {
  auto up = co_await OpenUpgrade(ep, target, req);
  if (!up.ok()) co_return up.status();
  co_await CompleteUpgrade(up->answer, *up->stream, res);
  co_return Status::Ok();
}

}  // namespace kite::apiserver
